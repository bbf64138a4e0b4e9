//! The RapidAPI key of Imgur's commercial route: where it comes from (`UPSHOT_RAPIDAPI_KEY`,
//! else the vault, where `upshot config set rapidapi-key` keeps it next to the tokens) and where
//! it is sent. It is a secret: never in the settings file, a log, an error or a command's output.

use crate::auth::{SecretVault, VaultError};
use upshot_imgur::Secret;
use url::Url;

/// The setting's name on the command line (`upshot config set rapidapi-key KEY`).
pub const RAPIDAPI_KEY_SETTING: &str = "rapidapi-key";

/// The environment variable that gives the key (it wins over the stored one).
pub const RAPIDAPI_KEY_ENV: &str = "UPSHOT_RAPIDAPI_KEY";

/// The vault entry the key is kept under.
const VAULT_ENTRY: &str = "rapidapi-key";

/// Whether `name` (as typed: `rapidapi-key`, `rapidapi_key`) names the RapidAPI key setting.
pub fn is_rapidapi_key_setting(name: &str) -> bool {
    name.trim()
        .replace('_', "-")
        .eq_ignore_ascii_case(RAPIDAPI_KEY_SETTING)
}

/// The key from `UPSHOT_RAPIDAPI_KEY`, when set and not empty.
pub fn key_from_env() -> Option<Secret> {
    std::env::var(RAPIDAPI_KEY_ENV)
        .ok()
        .map(|key| key.trim().to_owned())
        .filter(|key| !key.is_empty())
        .map(Secret::new)
}

/// The key kept in the vault.
pub fn stored_key(vault: &SecretVault) -> Result<Option<Secret>, VaultError> {
    vault.get(VAULT_ENTRY)
}

/// Keeps `key` in the vault (replacing the one there).
pub fn store_key(vault: &SecretVault, key: &Secret) -> Result<(), VaultError> {
    vault.set(VAULT_ENTRY, key)
}

/// Forgets the stored key.
pub fn forget_key(vault: &SecretVault) -> Result<(), VaultError> {
    vault.delete(VAULT_ENTRY)
}

/// The key to send to `api_base`: only to the commercial route's own host
/// ([`upshot_imgur::RAPIDAPI_BASE`]), the environment's key, else the stored one. Never to
/// Imgur's free API (it takes no key), and never to any other base (a proxy, a mirror, a test
/// server): an exported `UPSHOT_RAPIDAPI_KEY` must not travel to whatever `--api-base` names.
/// This also spares the keychain's round trip at every start of the common case.
pub fn key_for(api_base: &Url, vault: &SecretVault) -> Result<Option<Secret>, VaultError> {
    if !is_commercial_api(api_base) {
        return Ok(None);
    }
    match key_from_env() {
        Some(key) => Ok(Some(key)),
        None => stored_key(vault),
    }
}

/// Names the commercial route's address when it is not RapidAPI's own (a company proxy in
/// front of it; a test server): the key goes there and nowhere else.
pub const RAPIDAPI_BASE_ENV: &str = "UPSHOT_RAPIDAPI_BASE";

/// Whether `api_base` is the commercial route: the same origin (scheme, host, port) as
/// [`upshot_imgur::RAPIDAPI_BASE`], or as `UPSHOT_RAPIDAPI_BASE` when that is set.
fn is_commercial_api(api_base: &Url) -> bool {
    let named = std::env::var(RAPIDAPI_BASE_ENV).ok();
    is_origin_of(
        api_base,
        named.as_deref().unwrap_or(upshot_imgur::RAPIDAPI_BASE),
    )
}

fn is_origin_of(api_base: &Url, commercial: &str) -> bool {
    Url::parse(commercial.trim()).is_ok_and(|commercial| commercial.origin() == api_base.origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_is_named_either_way_and_only_the_commercial_route_gets_the_key() {
        assert!(is_rapidapi_key_setting("rapidapi-key"));
        assert!(is_rapidapi_key_setting("RapidAPI_key"));
        assert!(!is_rapidapi_key_setting("api-base"));
        let rapidapi = upshot_imgur::RAPIDAPI_BASE;
        let url = |text: &str| Url::parse(text).unwrap();
        assert!(is_origin_of(&url(rapidapi), rapidapi));
        assert!(is_origin_of(&url(&format!("{rapidapi}/prefix/")), rapidapi));
        // Regression: the key went to every base but Imgur's free API (a proxy, a mirror, a
        // test server named by --api-base).
        for elsewhere in [
            "https://api.imgur.com/",
            "http://127.0.0.1:8080/",
            "https://mirror.example/",
            "http://imgur-apiv3.p.rapidapi.com/",
            "https://imgur-apiv3.p.rapidapi.com:8443/",
        ] {
            assert!(!is_origin_of(&url(elsewhere), rapidapi), "{elsewhere}");
        }
        assert!(is_origin_of(
            &url("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080"
        ));
    }
}
