//! Settings: from flags, then the environment, then the settings file, then defaults.
//!
//! The file is a flat JSON object (`settings.json` in the config directory) so the desktop app's
//! settings store reads and writes the very same file; keys this crate does not know are kept
//! untouched when it writes.

use crate::config_file::{self, ConfigNotice};
use crate::core_error::CoreError;
use crate::link_format::LinkFormat;
use crate::paths::AppPaths;
use crate::preflight::{Limits, PreflightSettings};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use url::Url;

/// What the settings file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SettingsFile {
    /// The API base (default `https://api.imgur.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// The registered application's Client ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Where the queue, history and sandbox live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// The link format put on the clipboard or printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_format: Option<LinkFormat>,
    /// Remove personal metadata from pictures before upload (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_metadata: Option<bool>,
    /// Fit oversize screenshots and clipboard images (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_captures: Option<bool>,
    /// Fit other oversize pictures (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_files: Option<bool>,
    /// Upload content that was uploaded before again (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_duplicates: Option<bool>,
    /// The largest image, in bytes (default Imgur's 10 MB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_image_bytes: Option<u64>,
    /// The largest video, in bytes (default Imgur's 200 MB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_video_bytes: Option<u64>,
    /// The longest video, in seconds (default Imgur's 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_video_seconds: Option<u64>,
    /// How long to wait for Imgur's answer once a request is sent, in seconds (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_deadline: Option<u64>,
    /// How long an upload may stand still while it is being sent, in seconds (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_stall_timeout: Option<u64>,
    /// Days finished jobs stay listed (default 30; 0 keeps them; the history always stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_retention_days: Option<u64>,
    /// Keys written by others (the desktop app's store): kept as they are.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The settings a user can name on the command line (`upshot config set KEY VALUE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKey {
    /// `api-base`.
    ApiBase,
    /// `client-id`.
    ClientId,
    /// `data-dir`.
    DataDir,
    /// `link-format`.
    LinkFormat,
    /// `strip-metadata`.
    StripMetadata,
    /// `fit-captures`.
    FitCaptures,
    /// `fit-files`.
    FitFiles,
    /// `upload-duplicates`.
    UploadDuplicates,
    /// `max-image-bytes`.
    MaxImageBytes,
    /// `max-video-bytes`.
    MaxVideoBytes,
    /// `max-video-seconds`.
    MaxVideoSeconds,
    /// `answer-deadline`.
    AnswerDeadline,
    /// `send-stall-timeout`.
    SendStallTimeout,
    /// `job-retention-days`.
    JobRetentionDays,
}

impl SettingKey {
    /// Every key.
    pub const ALL: [SettingKey; 14] = [
        Self::ApiBase,
        Self::ClientId,
        Self::DataDir,
        Self::LinkFormat,
        Self::StripMetadata,
        Self::FitCaptures,
        Self::FitFiles,
        Self::UploadDuplicates,
        Self::MaxImageBytes,
        Self::MaxVideoBytes,
        Self::MaxVideoSeconds,
        Self::AnswerDeadline,
        Self::SendStallTimeout,
        Self::JobRetentionDays,
    ];

    /// The key's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ApiBase => "api-base",
            Self::ClientId => "client-id",
            Self::DataDir => "data-dir",
            Self::LinkFormat => "link-format",
            Self::StripMetadata => "strip-metadata",
            Self::FitCaptures => "fit-captures",
            Self::FitFiles => "fit-files",
            Self::UploadDuplicates => "upload-duplicates",
            Self::MaxImageBytes => "max-image-bytes",
            Self::MaxVideoBytes => "max-video-bytes",
            Self::MaxVideoSeconds => "max-video-seconds",
            Self::AnswerDeadline => "answer-deadline",
            Self::SendStallTimeout => "send-stall-timeout",
            Self::JobRetentionDays => "job-retention-days",
        }
    }
}

impl fmt::Display for SettingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SettingKey {
    type Err = CoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().replace('_', "-");
        Self::ALL
            .into_iter()
            .find(|key| key.name() == wanted)
            .ok_or_else(|| CoreError::InvalidSetting {
                key: "setting".to_owned(),
                value: text.to_owned(),
                expected: format!("one of {}", Self::ALL.map(SettingKey::name).join(", ")),
            })
    }
}

impl SettingsFile {
    /// Reads the file; a missing file is the defaults.
    pub fn load(path: &Path) -> Result<Self, CoreError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|error| CoreError::BadSettingsFile {
                    path: path.to_path_buf(),
                    reason: error.to_string(),
                })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(CoreError::io("read", path, error)),
        }
    }

    /// Reads the file for a start: a missing file is the defaults, and so is a file that cannot
    /// be parsed, which is first set aside (renamed with the time) so the user's content is kept
    /// and Upshot still starts; the notice says so.
    pub fn load_or_set_aside(path: &Path) -> Result<(Self, Option<ConfigNotice>), CoreError> {
        Ok(config_file::read_json_or_set_aside(
            path,
            "Set your settings again (`upshot config set`, or the app's settings), or fix the \
             moved file and move it back.",
        )?)
    }

    /// Writes the file atomically (a temporary file renamed over it, synced), readable only by
    /// the user, under the lock every process takes to write it.
    pub fn save(&self, path: &Path) -> Result<(), CoreError> {
        let text = self.to_text(path)?;
        AppPaths::ensure_private_dir(parent_of(path))?;
        Ok(config_file::write_atomic(path, text.as_bytes())?)
    }

    /// Reads, changes and writes the file under its lock, so a change made meanwhile by another
    /// process (the app, another `upshot`) is not lost.
    pub fn update(
        path: &Path,
        change: impl FnOnce(&mut Self) -> Result<(), CoreError>,
    ) -> Result<Self, CoreError> {
        AppPaths::ensure_private_dir(parent_of(path))?;
        config_file::with_lock(path, |lock| {
            let mut file = Self::load(path)?;
            change(&mut file)?;
            lock.write(file.to_text(path)?.as_bytes())?;
            Ok(file)
        })
    }

    fn to_text(&self, path: &Path) -> Result<String, CoreError> {
        serde_json::to_string_pretty(self)
            .map(|text| text + "\n")
            .map_err(|error| CoreError::BadSettingsFile {
                path: path.to_path_buf(),
                reason: error.to_string(),
            })
    }

    /// One setting's value as text, or `None` when unset.
    pub fn get(&self, key: SettingKey) -> Option<String> {
        match key {
            SettingKey::ApiBase => self.api_base.clone(),
            SettingKey::ClientId => self.client_id.clone(),
            SettingKey::DataDir => self.data_dir.as_ref().map(|dir| dir.display().to_string()),
            SettingKey::LinkFormat => self.link_format.map(|format| format.name().to_owned()),
            SettingKey::StripMetadata => self.strip_metadata.map(|on| on.to_string()),
            SettingKey::FitCaptures => self.fit_captures.map(|on| on.to_string()),
            SettingKey::FitFiles => self.fit_files.map(|on| on.to_string()),
            SettingKey::UploadDuplicates => self.upload_duplicates.map(|on| on.to_string()),
            SettingKey::MaxImageBytes => self.max_image_bytes.map(|value| value.to_string()),
            SettingKey::MaxVideoBytes => self.max_video_bytes.map(|value| value.to_string()),
            SettingKey::MaxVideoSeconds => self.max_video_seconds.map(|value| value.to_string()),
            SettingKey::AnswerDeadline => self.answer_deadline.map(|value| value.to_string()),
            SettingKey::SendStallTimeout => self.send_stall_timeout.map(|value| value.to_string()),
            SettingKey::JobRetentionDays => self.job_retention_days.map(|days| days.to_string()),
        }
    }

    /// Sets (or with `None`, unsets) one setting, checking its value first.
    pub fn set(&mut self, key: SettingKey, value: Option<&str>) -> Result<(), CoreError> {
        let value = value.map(str::trim).filter(|value| !value.is_empty());
        match key {
            SettingKey::ApiBase => {
                if let Some(value) = value {
                    parse_api_base(value)?;
                }
                self.api_base = value.map(str::to_owned);
            }
            SettingKey::ClientId => self.client_id = value.map(str::to_owned),
            SettingKey::DataDir => self.data_dir = value.map(PathBuf::from),
            SettingKey::LinkFormat => {
                self.link_format = value
                    .map(|text| {
                        text.parse()
                            .map_err(|error: crate::link_format::UnknownLinkFormat| {
                                CoreError::InvalidSetting {
                                    key: key.name().to_owned(),
                                    value: text.to_owned(),
                                    expected: error.to_string(),
                                }
                            })
                    })
                    .transpose()?;
            }
            SettingKey::StripMetadata => self.strip_metadata = parse_flag(key, value)?,
            SettingKey::FitCaptures => self.fit_captures = parse_flag(key, value)?,
            SettingKey::FitFiles => self.fit_files = parse_flag(key, value)?,
            SettingKey::UploadDuplicates => self.upload_duplicates = parse_flag(key, value)?,
            SettingKey::MaxImageBytes => self.max_image_bytes = parse_count(key, value)?,
            SettingKey::MaxVideoBytes => self.max_video_bytes = parse_count(key, value)?,
            SettingKey::MaxVideoSeconds => self.max_video_seconds = parse_count(key, value)?,
            SettingKey::AnswerDeadline => self.answer_deadline = parse_count(key, value)?,
            SettingKey::SendStallTimeout => self.send_stall_timeout = parse_count(key, value)?,
            SettingKey::JobRetentionDays => self.job_retention_days = parse_days(key, value)?,
        }
        Ok(())
    }

    /// The preflight settings this file asks for, defaults where it is silent.
    pub fn preflight(&self) -> PreflightSettings {
        let defaults = PreflightSettings::default();
        PreflightSettings {
            strip_metadata: self.strip_metadata.unwrap_or(defaults.strip_metadata),
            fit_captures: self.fit_captures.unwrap_or(defaults.fit_captures),
            fit_files: self.fit_files.unwrap_or(defaults.fit_files),
            upload_duplicates: self.upload_duplicates.unwrap_or(defaults.upload_duplicates),
            limits: Limits {
                max_image_bytes: self
                    .max_image_bytes
                    .unwrap_or(defaults.limits.max_image_bytes),
                max_video_bytes: self
                    .max_video_bytes
                    .unwrap_or(defaults.limits.max_video_bytes),
                max_video_seconds: self
                    .max_video_seconds
                    .unwrap_or(defaults.limits.max_video_seconds),
            },
        }
    }

    /// Checks `settings`, then records them in the file at `path` (other keys untouched): what
    /// the app's settings panel calls.
    pub fn save_preflight(path: &Path, settings: &PreflightSettings) -> Result<(), CoreError> {
        let limits = [
            (SettingKey::MaxImageBytes, settings.limits.max_image_bytes),
            (SettingKey::MaxVideoBytes, settings.limits.max_video_bytes),
            (
                SettingKey::MaxVideoSeconds,
                settings.limits.max_video_seconds,
            ),
        ];
        for (key, value) in limits {
            if value == 0 {
                return Err(CoreError::InvalidSetting {
                    key: key.name().to_owned(),
                    value: "0".to_owned(),
                    expected: "a whole number above 0".to_owned(),
                });
            }
        }
        Self::update(path, |file| {
            file.set_preflight(settings);
            Ok(())
        })
        .map(drop)
    }

    /// Records every preflight setting (the app's settings panel saves them all at once).
    pub fn set_preflight(&mut self, settings: &PreflightSettings) {
        self.strip_metadata = Some(settings.strip_metadata);
        self.fit_captures = Some(settings.fit_captures);
        self.fit_files = Some(settings.fit_files);
        self.upload_duplicates = Some(settings.upload_duplicates);
        self.max_image_bytes = Some(settings.limits.max_image_bytes);
        self.max_video_bytes = Some(settings.limits.max_video_bytes);
        self.max_video_seconds = Some(settings.limits.max_video_seconds);
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// `true`/`false` (also `on`/`off`, `yes`/`no`, `1`/`0`).
fn parse_flag(key: SettingKey, value: Option<&str>) -> Result<Option<bool>, CoreError> {
    value
        .map(|text| match text.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" | "1" => Ok(true),
            "false" | "off" | "no" | "0" => Ok(false),
            _ => Err(CoreError::InvalidSetting {
                key: key.name().to_owned(),
                value: text.to_owned(),
                expected: "true or false".to_owned(),
            }),
        })
        .transpose()
}

/// A whole number above zero.
fn parse_count(key: SettingKey, value: Option<&str>) -> Result<Option<u64>, CoreError> {
    value
        .map(|text| {
            text.parse::<u64>()
                .ok()
                .filter(|count| *count > 0)
                .ok_or_else(|| CoreError::InvalidSetting {
                    key: key.name().to_owned(),
                    value: text.to_owned(),
                    expected: "a whole number above 0".to_owned(),
                })
        })
        .transpose()
}

/// A whole number of days, 0 included (0 keeps finished jobs for good).
fn parse_days(key: SettingKey, value: Option<&str>) -> Result<Option<u64>, CoreError> {
    value
        .map(|text| {
            text.parse::<u64>()
                .ok()
                .filter(|days| *days <= 36_500)
                .ok_or_else(|| CoreError::InvalidSetting {
                    key: key.name().to_owned(),
                    value: text.to_owned(),
                    expected: "a whole number of days (0 keeps finished jobs)".to_owned(),
                })
        })
        .transpose()
}

/// Values given on the command line or in the environment; they win over the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsOverrides {
    /// `--api-base` / `UPSHOT_API_BASE`.
    pub api_base: Option<String>,
    /// `--client-id` / `UPSHOT_CLIENT_ID`.
    pub client_id: Option<String>,
    /// `--data-dir` / `UPSHOT_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--format`.
    pub link_format: Option<LinkFormat>,
    /// `UPSHOT_ANSWER_DEADLINE` (seconds), checked when the settings are resolved.
    pub answer_deadline: Option<String>,
    /// `UPSHOT_SEND_STALL_TIMEOUT` (seconds), checked when the settings are resolved.
    pub send_stall_timeout: Option<String>,
}

impl SettingsOverrides {
    /// The overrides the environment gives (`UPSHOT_API_BASE`, `UPSHOT_CLIENT_ID`,
    /// `UPSHOT_DATA_DIR`): what the desktop app, which takes no flags, goes by.
    pub fn from_env() -> Self {
        let text = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        Self {
            api_base: text("UPSHOT_API_BASE"),
            client_id: text("UPSHOT_CLIENT_ID"),
            data_dir: text("UPSHOT_DATA_DIR").map(PathBuf::from),
            link_format: None,
            answer_deadline: text("UPSHOT_ANSWER_DEADLINE"),
            send_stall_timeout: text("UPSHOT_SEND_STALL_TIMEOUT"),
        }
    }
}

/// The settings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedSettings {
    /// The API base.
    pub api_base: Url,
    /// The Client ID, if any is configured.
    pub client_id: Option<String>,
    /// The link format.
    pub link_format: LinkFormat,
    /// Upshot's directories.
    pub paths: AppPaths,
    /// What preflight does.
    pub preflight: PreflightSettings,
    /// What the user must be told at start (a settings file that was set aside).
    pub notices: Vec<ConfigNotice>,
    /// How long to wait for Imgur's answer once a request is sent (`answer-deadline`).
    pub answer_deadline: std::time::Duration,
    /// How long an upload may stand still while it is being sent (`send-stall-timeout`).
    pub send_stall_timeout: std::time::Duration,
    /// How long finished jobs stay listed (`job-retention-days`); `None` keeps them.
    pub job_retention: Option<std::time::Duration>,
}

impl ResolvedSettings {
    /// Merges overrides over the file at `config_dir/settings.json`.
    pub fn resolve(config_dir: PathBuf, overrides: SettingsOverrides) -> Result<Self, CoreError> {
        let (file, notice) =
            SettingsFile::load_or_set_aside(&config_dir.join(crate::paths::SETTINGS_FILE))?;
        let preflight = file.preflight();
        let job_retention = match file.job_retention_days {
            Some(0) => None,
            Some(days) => Some(std::time::Duration::from_secs(days.saturating_mul(86_400))),
            None => Some(crate::queue::DEFAULT_JOB_RETENTION),
        };
        let data_dir = overrides.data_dir.or(file.data_dir);
        let mut paths = AppPaths::platform(data_dir)?;
        paths.config_dir = config_dir;
        let api_base_text = overrides
            .api_base
            .or(file.api_base)
            .unwrap_or_else(|| upshot_imgur::IMGUR_API_BASE.to_owned());
        let answer_deadline = match overrides.answer_deadline {
            Some(text) => parse_count(SettingKey::AnswerDeadline, Some(text.trim()))?,
            None => file.answer_deadline,
        }
        .map_or(
            upshot_imgur::DEFAULT_ANSWER_DEADLINE,
            std::time::Duration::from_secs,
        );
        let send_stall_timeout = match overrides.send_stall_timeout {
            Some(text) => parse_count(SettingKey::SendStallTimeout, Some(text.trim()))?,
            None => file.send_stall_timeout,
        }
        .map_or(
            upshot_imgur::DEFAULT_SEND_STALL_TIMEOUT,
            std::time::Duration::from_secs,
        );
        Ok(Self {
            api_base: parse_api_base(&api_base_text)?,
            client_id: overrides
                .client_id
                .or(file.client_id)
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty()),
            link_format: overrides
                .link_format
                .or(file.link_format)
                .unwrap_or_default(),
            preflight,
            job_retention,
            paths,
            notices: notice.into_iter().collect(),
            answer_deadline,
            send_stall_timeout,
        })
    }
}

/// The API bases a user can name instead of typing the address: `imgur` (the free API) and
/// `rapidapi` (the commercial route).
pub const NAMED_API_BASES: [(&str, &str); 2] = [
    ("imgur", upshot_imgur::IMGUR_API_BASE),
    ("rapidapi", upshot_imgur::RAPIDAPI_BASE),
];

/// Parses an API base: one of [`NAMED_API_BASES`] by name, or an http or https address.
pub fn parse_api_base(text: &str) -> Result<Url, CoreError> {
    let invalid = |reason: String| CoreError::InvalidApiBase {
        value: text.to_owned(),
        reason,
    };
    let named = NAMED_API_BASES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text.trim()))
        .map(|(_, base)| *base);
    let url =
        Url::parse(named.unwrap_or(text.trim())).map_err(|error| invalid(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "the scheme must be http or https, not {}",
            url.scheme()
        )));
    }
    if url.host_str().is_none() {
        return Err(invalid("it has no host".to_owned()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests;
