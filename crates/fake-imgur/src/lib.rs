//! Imgur-compatible fake server.
