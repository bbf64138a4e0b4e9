use super::*;

const NOW: i64 = 1_795_400_000_000;

fn entry(name: &str, job: i64) -> BatchEntry {
    BatchEntry {
        name: name.to_owned(),
        job: Some(JobId(job)),
        status: FileStatus::Pending,
    }
}

fn done(link: &str) -> FileStatus {
    FileStatus::Done {
        link: link.to_owned(),
    }
}

fn ended(news: Vec<BatchNews>) -> BatchReport {
    match news.as_slice() {
        [BatchNews::Ended(report)] => report.clone(),
        other => panic!("expected the batch's report, got {other:?}"),
    }
}

#[test]
fn reports_once_with_every_link_in_drop_order_whatever_order_they_finish() {
    let mut batches = Batches::default();
    let (id, news) = batches.open(
        vec![entry("a.png", 1), entry("b.png", 2), entry("c.png", 3)],
        NOW,
    );
    assert_eq!(news, None);
    assert_eq!(batches.batch_of(JobId(2)), Some(id.as_str()));
    assert_eq!(
        batches.update(JobId(3), done("https://i/c.png"), NOW),
        vec![]
    );
    assert_eq!(
        batches.update(JobId(1), done("https://i/a.png"), NOW),
        vec![]
    );
    let report = ended(batches.update(JobId(2), done("https://i/b.png"), NOW));
    assert_eq!(report.batch, id);
    assert_eq!(report.uploaded, 3);
    assert_eq!(
        report.links,
        "https://i/a.png\nhttps://i/b.png\nhttps://i/c.png"
    );
    assert_eq!(report.title, "3 uploaded, links copied");
    assert_eq!(report.body, "");
    // Ended and forgotten: a later event about the job means nothing to a batch.
    assert_eq!(
        batches.update(JobId(2), done("https://i/b.png"), NOW),
        vec![]
    );
    assert_eq!(batches.batch_of(JobId(2)), None);
}

#[test]
fn failures_are_named_with_their_reason_and_links_of_the_rest_still_come() {
    let mut batches = Batches::default();
    let refused = BatchEntry {
        name: "notes.txt".to_owned(),
        job: None,
        status: FileStatus::Failed {
            message: "not an image or video".to_owned(),
        },
    };
    batches.open(vec![entry("a.png", 1), refused, entry("big.mp4", 2)], NOW);
    batches.update(JobId(1), done("https://i/a.png"), NOW);
    let too_large = FileStatus::Failed {
        message: "over Imgur's 200 MB limit".to_owned(),
    };
    let report = ended(batches.update(JobId(2), too_large, NOW));
    assert_eq!(report.links, "https://i/a.png");
    assert_eq!(report.title, "1 uploaded, link copied · 2 failed");
    assert_eq!(report.uncopied_title, "1 uploaded · 2 failed");
    assert_eq!(
        report.body,
        "notes.txt: not an image or video\nbig.mp4: over Imgur's 200 MB limit"
    );
}

#[test]
fn a_file_waiting_for_the_budget_lets_the_batch_report_and_its_link_comes_late() {
    let mut batches = Batches::default();
    let (id, _) = batches.open(vec![entry("a.png", 1), entry("b.png", 2)], NOW);
    batches.update(JobId(1), done("https://i/a.png"), NOW);
    let waits = FileStatus::Waiting {
        message: "Today's Imgur budget is spent.".to_owned(),
        until: Some(NOW + 3_600_000),
    };
    let report = ended(batches.update(JobId(2), waits, NOW));
    assert_eq!(report.links, "https://i/a.png");
    assert_eq!(report.title, "1 uploaded, link copied · 1 file waiting");
    assert!(
        report
            .body
            .starts_with("1 file waits: Today's Imgur budget is spent. Expected in 1 h ("),
        "{}",
        report.body
    );
    assert_eq!(report.waiting[0].until, Some(NOW + 3_600_000));
    // The late link comes alone, once; then the batch is forgotten.
    let late = batches.update(JobId(2), done("https://i/b.png"), NOW + 3_700_000);
    assert_eq!(
        late,
        vec![BatchNews::Late(LateLink {
            batch: id,
            name: "b.png".to_owned(),
            link: "https://i/b.png".to_owned(),
        })]
    );
    assert_eq!(batches.batch_of(JobId(2)), None);
}

#[test]
fn a_batch_with_nothing_to_send_reports_at_once() {
    let mut batches = Batches::default();
    let uploaded_before = BatchEntry {
        name: "a.png".to_owned(),
        job: None,
        status: done("https://i/a.png"),
    };
    let (_, news) = batches.open(vec![uploaded_before], NOW);
    let report = ended(news.into_iter().collect());
    assert_eq!(report.links, "https://i/a.png");
    assert_eq!(report.title, "1 uploaded, link copied");
}

#[test]
fn many_failures_are_summed_up_after_three() {
    let mut batches = Batches::default();
    let entries = (1..=5).map(|n| entry(&format!("{n}.png"), n)).collect();
    batches.open(entries, NOW);
    let mut last = Vec::new();
    for n in 1..=5 {
        let status = if n == 5 {
            FileStatus::Cancelled
        } else {
            FileStatus::Failed {
                message: "damaged".to_owned(),
            }
        };
        last = batches.update(JobId(n), status, NOW);
    }
    let report = ended(last);
    assert_eq!(report.title, "4 failed · 1 cancelled");
    assert_eq!(
        report.body,
        "1.png: damaged\n2.png: damaged\n3.png: damaged\nand 1 more failed"
    );
}

#[test]
fn batches_do_not_mix() {
    let mut batches = Batches::default();
    let (first, _) = batches.open(vec![entry("a.png", 1)], NOW);
    let (second, _) = batches.open(vec![entry("b.png", 2)], NOW);
    assert_ne!(first, second);
    let report = ended(batches.update(JobId(2), done("https://i/b.png"), NOW));
    assert_eq!(report.batch, second);
    assert_eq!(report.links, "https://i/b.png");
}

/// Regression: a waiting file is sent (pending) before it is done; the batch was forgotten at
/// the pending step, so its late link never came.
#[test]
fn a_waiting_file_sent_again_still_gets_its_late_link() {
    let mut batches = Batches::default();
    let (id, _) = batches.open(vec![entry("a.png", 1), entry("b.png", 2)], NOW);
    batches.update(JobId(1), done("https://i/a.png"), NOW);
    let waits = FileStatus::Waiting {
        message: "Today's Imgur budget is spent.".to_owned(),
        until: Some(NOW + 3_600_000),
    };
    ended(batches.update(JobId(2), waits, NOW));
    assert_eq!(
        batches.update(JobId(2), FileStatus::Pending, NOW + 1),
        vec![]
    );
    assert_eq!(batches.batch_of(JobId(2)), Some(id.as_str()));
    let late = batches.update(JobId(2), done("https://i/b.png"), NOW + 2);
    assert!(
        matches!(late.as_slice(), [BatchNews::Late(link)] if link.link == "https://i/b.png" && link.batch == id),
        "{late:?}"
    );
    assert_eq!(batches.batch_of(JobId(2)), None);
}

/// Regression: the same file dropped again before it was sent follows the first drop's job;
/// the second batch took the job from the first, which then never reported.
#[test]
fn a_job_in_two_batches_ends_both() {
    let mut batches = Batches::default();
    let (first, _) = batches.open(vec![entry("a.png", 1)], NOW);
    let (second, _) = batches.open(vec![entry("a.png", 1), entry("b.png", 2)], NOW);
    let news = batches.update(JobId(1), done("https://i/a.png"), NOW);
    assert_eq!(ended(news).batch, first);
    assert_eq!(batches.batch_of(JobId(1)), Some(second.as_str()));
    let report = ended(batches.update(JobId(2), done("https://i/b.png"), NOW));
    assert_eq!(report.batch, second);
    assert_eq!(report.links, "https://i/a.png\nhttps://i/b.png");
    assert_eq!(batches.batch_of(JobId(1)), None);
}

/// The same file given twice in one drop is one job: both entries end with it.
#[test]
fn a_job_given_twice_in_one_batch_ends_it() {
    let mut batches = Batches::default();
    batches.open(vec![entry("a.png", 1), entry("a.png", 1)], NOW);
    let report = ended(batches.update(JobId(1), done("https://i/a.png"), NOW));
    assert_eq!(report.links, "https://i/a.png\nhttps://i/a.png");
}

#[test]
fn pending_counts_the_files_still_to_send() {
    let mut batches = Batches::default();
    batches.open(vec![entry("a.png", 1), entry("b.png", 2)], NOW);
    assert_eq!(batches.pending(), 2);
    batches.update(JobId(1), done("https://i/a.png"), NOW);
    assert_eq!(batches.pending(), 1);
    batches.update(JobId(2), done("https://i/b.png"), NOW);
    assert_eq!(batches.pending(), 0);
}
