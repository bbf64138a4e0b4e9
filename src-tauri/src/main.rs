//! Upshot desktop shell.
fn main() {}
