//! A duplicate's file is deleted or moved on the strength of another file's upload. The
//! history only knows of deletions made through Upshot: an image deleted on imgur.com still
//! looks uploaded there. So before such a file is deleted or moved, the image is asked for on
//! Imgur (outside any transaction, on the async side): present, the action goes ahead; gone
//! (404), the file is kept and uploaded again; no answer, the file is left alone for now.

use super::records::DueAction;
use crate::service::UploadService;
use crate::types::HistoryId;
use std::collections::HashMap;

/// The due actions, sorted by what Imgur said of the uploads they rely on.
#[derive(Debug, Default)]
pub(super) struct Sorted {
    /// To carry out: the file's own upload, or a stand-in confirmed on Imgur.
    pub go: Vec<DueAction>,
    /// The stand-in is gone from Imgur: keep the file and upload it again.
    pub gone: Vec<(DueAction, HistoryId)>,
    /// The stand-in could not be confirmed (why, in words): leave the file, ask again later.
    pub doubt: Vec<(DueAction, String)>,
}

/// What Imgur said of one stand-in.
#[derive(Debug, Clone)]
enum Verdict {
    Present,
    Gone(HistoryId),
    Doubt(String),
}

/// Sorts `due`: those for which `must_confirm` holds are confirmed on Imgur first (one request
/// per image, however many files rely on it).
pub(super) async fn confirm(
    service: &UploadService,
    due: Vec<DueAction>,
    must_confirm: impl Fn(&DueAction) -> bool,
) -> Sorted {
    let mut sorted = Sorted::default();
    let mut verdicts: HashMap<HistoryId, Verdict> = HashMap::new();
    for action in due {
        let stand_in = match &action.stand_in {
            Some(stand_in) if must_confirm(&action) => stand_in,
            _ => {
                sorted.go.push(action);
                continue;
            }
        };
        let (Some(history), Some(imgur_id), Some(api_base)) = (
            stand_in.history,
            stand_in.imgur_id.clone(),
            stand_in.api_base.clone(),
        ) else {
            let why = "the upload it duplicates has no history entry to confirm".to_owned();
            sorted.doubt.push((action, why));
            continue;
        };
        let verdict = match verdicts.get(&history) {
            Some(verdict) => verdict.clone(),
            None => {
                let verdict = match service.image_exists(&imgur_id, &api_base).await {
                    Ok(true) => Verdict::Present,
                    Ok(false) => Verdict::Gone(history),
                    Err(error) => Verdict::Doubt(error.to_string()),
                };
                verdicts.insert(history, verdict.clone());
                verdict
            }
        };
        match verdict {
            Verdict::Present => sorted.go.push(action),
            Verdict::Gone(history) => sorted.gone.push((action, history)),
            Verdict::Doubt(why) => sorted.doubt.push((action, why)),
        }
    }
    sorted
}
