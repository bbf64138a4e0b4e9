//! `upshot config`: show and change settings. The RapidAPI key is a secret: it goes to the
//! keychain (or the private secrets file), and is only ever shown as set or not set.

use crate::cli::{ConfigCommand, GlobalOptions};
use crate::context::{config_dir, settings, tell};
use crate::exit::Status;
use std::io::BufRead;
use upshot_core::auth::{SecretVault, VaultKind};
use upshot_core::commercial::{self, RAPIDAPI_KEY_ENV, RAPIDAPI_KEY_SETTING};
use upshot_core::paths::SETTINGS_FILE;
use upshot_core::service::login_options;
use upshot_core::{CoreError, SettingKey, SettingsFile};
use upshot_imgur::Secret;

pub fn run(global: &GlobalOptions, command: &ConfigCommand) -> Result<Status, CoreError> {
    let file_path = config_dir()?.join(SETTINGS_FILE);
    // A settings file that cannot be read is set aside (and the user told) before anything.
    let (_, notice) = SettingsFile::load_or_set_aside(&file_path)?;
    notice.iter().for_each(tell);
    match command {
        ConfigCommand::Path => {
            let resolved = settings(global, None)?;
            println!("settings: {}", file_path.display());
            println!("data:     {}", resolved.paths.data_dir.display());
        }
        ConfigCommand::List => {
            let resolved = settings(global, None)?;
            println!("api-base     {}", resolved.api_base);
            println!(
                "client-id    {}",
                resolved.client_id.as_deref().unwrap_or("(not set)")
            );
            println!("data-dir     {}", resolved.paths.data_dir.display());
            println!("link-format  {}", resolved.link_format);
            println!("rapidapi-key {}", key_state(global)?);
        }
        ConfigCommand::Get { key } if commercial::is_rapidapi_key_setting(key) => {
            println!("{}", key_state(global)?);
        }
        ConfigCommand::Get { key } => {
            let key: SettingKey = key.parse()?;
            let file = SettingsFile::load(&file_path)?;
            match file.get(key) {
                Some(value) => println!("{value}"),
                None => eprintln!("{key} is not set in {}", file_path.display()),
            }
        }
        ConfigCommand::Set { key, value } if commercial::is_rapidapi_key_setting(key) => {
            let key = read_key(value)?;
            let vault = vault(global)?;
            commercial::store_key(&vault, &key)?;
            eprintln!(
                "{RAPIDAPI_KEY_SETTING} saved {}. It is sent only to the commercial route \
                 (RapidAPI's address, or UPSHOT_RAPIDAPI_BASE); `upshot config set api-base \
                 rapidapi` uses it.",
                place(&vault)
            );
        }
        ConfigCommand::Set { key, value } => {
            let key: SettingKey = key.parse()?;
            SettingsFile::update(&file_path, |file| file.set(key, Some(value)))?;
            eprintln!("{key} saved in {}", file_path.display());
        }
        ConfigCommand::Unset { key } if commercial::is_rapidapi_key_setting(key) => {
            commercial::forget_key(&vault(global)?)?;
            eprintln!("{RAPIDAPI_KEY_SETTING} removed");
        }
        ConfigCommand::Unset { key } => {
            let key: SettingKey = key.parse()?;
            SettingsFile::update(&file_path, |file| file.set(key, None))?;
        }
    }
    Ok(Status::Success)
}

/// The vault of the data directory in force (the keychain, or the private secrets file).
fn vault(global: &GlobalOptions) -> Result<SecretVault, CoreError> {
    let resolved = settings(global, None)?;
    Ok(SecretVault::open(
        &resolved.paths.data_dir,
        login_options(None).vault,
    ))
}

/// `set` or `not set`, and from where: never the key.
fn key_state(global: &GlobalOptions) -> Result<String, CoreError> {
    if commercial::key_from_env().is_some() {
        return Ok(format!("set (from {RAPIDAPI_KEY_ENV})"));
    }
    let vault = vault(global)?;
    Ok(match commercial::stored_key(&vault)? {
        Some(_) => format!("set ({})", place(&vault).trim_start_matches("in ")),
        None => "not set".to_owned(),
    })
}

fn place(vault: &SecretVault) -> String {
    match vault.kind() {
        VaultKind::Keychain => "in the system keychain".to_owned(),
        VaultKind::File => format!("in {} (readable only by you)", vault.file().display()),
    }
}

/// The key given, or with `-` the first line of stdin (keeps it out of the shell's history).
fn read_key(value: &str) -> Result<Secret, CoreError> {
    let text = if value == "-" {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|error| CoreError::Io {
                action: "read the key from",
                path: "standard input".into(),
                source: error,
            })?;
        line
    } else {
        value.to_owned()
    };
    let key = text.trim();
    if key.is_empty() {
        // Never echo what was given: it may be the key.
        return Err(CoreError::InvalidSetting {
            key: RAPIDAPI_KEY_SETTING.to_owned(),
            value: String::new(),
            expected: "the key RapidAPI shows for your Imgur subscription (or - to read it \
                       from standard input)"
                .to_owned(),
        });
    }
    Ok(Secret::new(key))
}
