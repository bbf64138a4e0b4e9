//! `upshot config`: show and change settings.

use crate::cli::{ConfigCommand, GlobalOptions};
use crate::context::{config_dir, settings};
use crate::exit::Status;
use upshot_core::paths::SETTINGS_FILE;
use upshot_core::{CoreError, SettingKey, SettingsFile};

pub fn run(global: &GlobalOptions, command: &ConfigCommand) -> Result<Status, CoreError> {
    let file_path = config_dir()?.join(SETTINGS_FILE);
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
        }
        ConfigCommand::Get { key } => {
            let key: SettingKey = key.parse()?;
            let file = SettingsFile::load(&file_path)?;
            match file.get(key) {
                Some(value) => println!("{value}"),
                None => eprintln!("{key} is not set in {}", file_path.display()),
            }
        }
        ConfigCommand::Set { key, value } => {
            let key: SettingKey = key.parse()?;
            let mut file = SettingsFile::load(&file_path)?;
            file.set(key, Some(value))?;
            file.save(&file_path)?;
            eprintln!("{key} saved in {}", file_path.display());
        }
        ConfigCommand::Unset { key } => {
            let key: SettingKey = key.parse()?;
            let mut file = SettingsFile::load(&file_path)?;
            file.set(key, None)?;
            file.save(&file_path)?;
        }
    }
    Ok(Status::Success)
}
