//! The desktop window's face of the core ([`WindowSession`]) against the fake Imgur server over
//! loopback HTTP, with a real SQLite data folder and real files: a drop's batch reports once
//! with its links in drop order, refused files are named, a file uploaded before is not sent
//! again, large folders are asked about, a file that waits for the budget gets its link later,
//! the queue's commands refuse what they must with words, the history is searched, deleted and
//! exported, the budget and thumbnails reach the window.
//!
//! `harness` opens a window on a fresh server; `drops` tests what a drop does and how its batch
//! ends; `commands` tests the queue's, the history's and the budget's commands and events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod commands;
#[path = "../common/mod.rs"]
mod common;
mod drops;
mod harness;
