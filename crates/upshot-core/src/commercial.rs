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

/// The key to send to `api_base`: none to Imgur's free API (it takes no key, and a key must not
/// go where it is not needed; this also spares the keychain's round trip at every start of the
/// common case), else the environment's, else the stored one.
pub fn key_for(api_base: &Url, vault: &SecretVault) -> Result<Option<Secret>, VaultError> {
    if is_free_api(api_base) {
        return Ok(None);
    }
    match key_from_env() {
        Some(key) => Ok(Some(key)),
        None => stored_key(vault),
    }
}

/// Whether `api_base` is Imgur's free API.
fn is_free_api(api_base: &Url) -> bool {
    Url::parse(upshot_imgur::IMGUR_API_BASE)
        .is_ok_and(|free| free.host_str() == api_base.host_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_is_named_either_way_and_the_free_api_gets_no_key() {
        assert!(is_rapidapi_key_setting("rapidapi-key"));
        assert!(is_rapidapi_key_setting("RapidAPI_key"));
        assert!(!is_rapidapi_key_setting("api-base"));
        assert!(is_free_api(&Url::parse("https://api.imgur.com/").unwrap()));
        assert!(!is_free_api(
            &Url::parse(upshot_imgur::RAPIDAPI_BASE).unwrap()
        ));
    }
}
