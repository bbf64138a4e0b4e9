//! How a server proves it holds a key without sending it: `GET /_sandbox/hello?nonce=N` is
//! answered with `HMAC-SHA256(key, "fake-imgur hello " + N)`. A process that finds a record of a
//! running server (its URL and key) sends a fresh random nonce and compares the answer with
//! [`hello_proof`]: whatever else listens on that port now cannot answer, and the key is never
//! on the wire, so asking a stranger gives nothing away.

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// The key a server proves it holds. Its `Debug` shows no key, so a logged configuration
/// gives nothing away.
#[derive(Clone, PartialEq, Eq)]
pub struct HelloKey(String);

impl HelloKey {
    /// Wraps a key (any string; a sandbox uses 64 random hex digits).
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for HelloKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HelloKey(<redacted>)")
    }
}

/// The path of the proof route.
pub const HELLO_PATH: &str = "/_sandbox/hello";

/// Shortest and longest nonce accepted, in characters: long enough that answers cannot be
/// collected in advance, short enough to bound the work a request causes.
pub const NONCE_LEN: std::ops::RangeInclusive<usize> = 32..=128;

/// The answer a server holding `key` gives to `nonce` (lower-case hex).
pub fn hello_proof(key: &str, nonce: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty answer,
    // which never matches, rather than panic.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(b"fake-imgur hello ");
    mac.update(nonce.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `nonce` is acceptable: hex digits, of a length within [`NONCE_LEN`].
pub fn valid_nonce(nonce: &str) -> bool {
    NONCE_LEN.contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_depend_on_key_and_nonce() {
        let nonce = "ab".repeat(16);
        let proof = hello_proof("key", &nonce);
        assert_eq!(proof.len(), 64);
        assert_eq!(proof, hello_proof("key", &nonce));
        assert_ne!(proof, hello_proof("other", &nonce));
        assert_ne!(proof, hello_proof("key", &"cd".repeat(16)));
        assert!(valid_nonce(&nonce));
        assert!(!valid_nonce("abc"));
        assert!(!valid_nonce(&"zz".repeat(16)));
        assert!(!format!("{:?}", HelloKey::new("sekrit")).contains("sekrit"));
    }
}
