//! Uploading one file now: check it, send it, return the image. The persistent queue builds on
//! this; the CLI's `upload` uses it directly until then.

use crate::error::CoreError;
use crate::media::{FileRejected, check_file};
use serde::Serialize;
use std::path::PathBuf;
use upshot_imgur::{
    Auth, ClientConfig, ErrorKind, Image, ImgurClient, ImgurError, ProgressFn, UploadRequest,
};
use url::Url;

/// A file to upload with what the user said about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileUpload {
    /// The file.
    pub path: PathBuf,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Album: its deletehash when anonymous, its id when logged in.
    pub album: Option<String>,
}

/// Why one upload failed: refused locally before any request, or refused or failed at Imgur.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UploadError {
    /// The file was refused before a request was made (no credits spent).
    #[error(transparent)]
    Rejected(#[from] FileRejected),
    /// Imgur (or the network) failed the request.
    #[error(transparent)]
    Imgur(#[from] ImgurError),
}

impl UploadError {
    /// What to do about it, in the client's terms: a local refusal is permanent for this file.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Rejected(_) => ErrorKind::Permanent,
            Self::Imgur(error) => error.kind,
        }
    }
}

/// Serializes as `{kind, message}`, the shape `--json` output and the UI show.
impl Serialize for UploadError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("UploadError", 2)?;
        state.serialize_field("kind", self.kind().as_str())?;
        state.serialize_field("message", &self.to_string())?;
        state.end()
    }
}

/// Sends files to Imgur as one application (anonymous uploads for now).
#[derive(Debug, Clone)]
pub struct Uploader {
    client: ImgurClient,
    auth: Auth,
}

impl Uploader {
    /// An anonymous uploader for the given API base and Client ID.
    pub fn anonymous(api_base: Url, client_id: &str) -> Result<Self, CoreError> {
        let client = ImgurClient::new(ClientConfig::new(api_base))?;
        Ok(Self {
            client,
            auth: Auth::client_id(client_id),
        })
    }

    /// The client underneath, for calls other than uploads.
    pub fn client(&self) -> &ImgurClient {
        &self.client
    }

    /// Who requests are made as.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Checks the file, then uploads it, streaming it from disk with progress reports.
    pub async fn upload_file(
        &self,
        upload: &FileUpload,
        progress: Option<ProgressFn>,
    ) -> Result<Image, UploadError> {
        let checked = check_file(&upload.path)?;
        let mut request = UploadRequest::file(&checked.path, checked.kind, checked.mime_type);
        request.title = upload.title.clone();
        request.description = upload.description.clone();
        request.album = upload.album.clone();
        let response = self.client.upload(&self.auth, &request, progress).await?;
        tracing::info!(id = %response.data.id, size = response.data.size, "uploaded");
        Ok(response.data)
    }
}
