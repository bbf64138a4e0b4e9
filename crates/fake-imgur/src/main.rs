//! `fake-imgur` binary.
fn main() {}
