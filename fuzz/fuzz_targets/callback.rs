//! The login callback parser on arbitrary input: it must never panic, and what it accepts
//! must be a callback to a registered address with a state and two tokens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use upshot_core::auth::callback::accepted_callbacks;
use upshot_core::auth::parse_callback;

static ACCEPTED: LazyLock<Vec<url::Url>> =
    LazyLock::new(|| accepted_callbacks(&["upshot://oauth/callback", "http://127.0.0.1:8765/cb"]));

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // As pasted, and behind the real callback so the fuzzer reaches the parameters at once.
    for input in [
        text.to_string(),
        format!("upshot://oauth/callback#{text}"),
        format!("http://127.0.0.1:8765/cb?{text}"),
    ] {
        if let Ok(callback) = parse_callback(&input, &ACCEPTED) {
            assert!(!callback.state.is_empty());
            assert!(!callback.grant.access_token.expose().is_empty());
            assert!(!callback.grant.refresh_token.expose().is_empty());
            assert!(!callback.grant.account_username.is_empty());
        }
    }
});
