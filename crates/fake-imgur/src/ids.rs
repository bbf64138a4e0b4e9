//! Random identifiers in Imgur's formats.

use rand::Rng as _;
use rand::distr::Alphanumeric;

/// `len` random ASCII letters and digits (image and album ids are 7, deletehashes 15).
pub(crate) fn alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// 40 random lower-case hex characters, the shape of Imgur's access and refresh tokens.
pub(crate) fn hex_token() -> String {
    hex::encode(rand::random::<[u8; 20]>())
}
