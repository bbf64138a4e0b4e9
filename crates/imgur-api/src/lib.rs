//! Imgur API v3 client.
