//! The `upshot` command line.
fn main() {}
