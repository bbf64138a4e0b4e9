//! Reading the address Imgur's authorize page sends the browser back to.
//!
//! Imgur only offers the implicit grant: the tokens arrive in the callback URL, normally in its
//! fragment (`upshot://oauth/callback#access_token=…&state=…`). The same parser serves the deep
//! link, the loopback listener and an address the user pastes, so it accepts the parameters in
//! the fragment or the query, and trusts nothing: the address must be one of the registered
//! callbacks, every parameter may appear once, and no input makes it panic. It does not check
//! `state` against the logins under way; [`LoginStates`](super::LoginStates) does, before any
//! token is kept.

use upshot_imgur::Secret;
use url::Url;

/// Longer than any real callback (two tokens of ~40 characters and a few names), short enough
/// that pasted junk is refused before it is parsed.
pub const MAX_CALLBACK_LEN: usize = 8 * 1024;

/// The longest token accepted: Imgur's are 40 hexadecimal characters.
const MAX_TOKEN_LEN: usize = 512;

/// The callback Imgur redirects to unless the application registered another.
pub const DEEP_LINK_CALLBACK: &str = "upshot://oauth/callback";

/// What a valid callback carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// The `state` the login was started with (checked by the caller before anything is kept).
    pub state: String,
    /// The tokens and the account.
    pub grant: Grant,
}

/// Tokens and the account they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The access token (sent as `Bearer`).
    pub access_token: Secret,
    /// The refresh token (with the client secret, gets new access tokens).
    pub refresh_token: Secret,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
    /// The account's username.
    pub account_username: String,
    /// The account's numeric id, when given.
    pub account_id: Option<u64>,
}

/// Why a callback address was refused. Messages never quote a parameter's value: a refused
/// address may still hold a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// Longer than [`MAX_CALLBACK_LEN`].
    #[error(
        "the address is too long to be a login callback ({len} characters); copy only the address the browser showed after you approved"
    )]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Not a URL at all.
    #[error(
        "that is not a web address; copy the whole address from the browser's address bar after you approved (it starts with upshot:// or http://127.0.0.1)"
    )]
    NotAUrl,
    /// A URL, but not one of the registered callbacks.
    #[error(
        "{found} is not Upshot's login callback (expected {expected}); copy the address the browser was sent to after you approved"
    )]
    WrongTarget {
        /// Scheme, host, port and path of what was given (never its parameters).
        found: String,
        /// The callbacks accepted.
        expected: String,
    },
    /// A parameter appears more than once (in one part, or in both the query and the fragment).
    #[error(
        "the callback carries `{name}` more than once, which a real callback never does; start the login again"
    )]
    Duplicated {
        /// The parameter.
        name: String,
    },
    /// The user refused on Imgur's page.
    #[error(
        "the login was cancelled on Imgur's page (access denied); log in again and choose Allow to connect Upshot"
    )]
    AccessDenied,
    /// Imgur answered with another error.
    #[error("Imgur did not complete the login ({code}); try logging in again")]
    Refused {
        /// Imgur's error code (letters, digits and `_` only; anything else is dropped).
        code: String,
    },
    /// A required parameter is absent.
    #[error("the callback has no `{name}`; copy the whole address, including everything after `#`")]
    Missing {
        /// The parameter.
        name: &'static str,
    },
    /// A parameter is present but malformed.
    #[error("the callback's `{name}` is malformed; start the login again")]
    Invalid {
        /// The parameter.
        name: &'static str,
    },
}

impl crate::error::ErrorCode for CallbackError {
    fn code(&self) -> &'static str {
        CallbackError::code(self)
    }
}

impl CallbackError {
    /// A stable code for the UI and `--json` (see [`crate::error::ErrorCode`]).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "callback_too_long",
            Self::NotAUrl => "callback_not_a_url",
            Self::WrongTarget { .. } => "callback_wrong_target",
            Self::Duplicated { .. } => "callback_duplicated",
            Self::AccessDenied => "login_access_denied",
            Self::Refused { .. } => "login_refused",
            Self::Missing { .. } => "callback_missing_parameter",
            Self::Invalid { .. } => "callback_malformed",
        }
    }
}

crate::error::serialize_as_coded!(CallbackError);

/// Parses `input` as a callback to one of `accepted` (the registered callback URLs).
pub fn parse_callback(input: &str, accepted: &[Url]) -> Result<Callback, CallbackError> {
    let input = input.trim();
    if input.len() > MAX_CALLBACK_LEN {
        return Err(CallbackError::TooLong { len: input.len() });
    }
    let url = Url::parse(input).map_err(|_| CallbackError::NotAUrl)?;
    if !accepted.iter().any(|target| same_target(&url, target)) {
        return Err(CallbackError::WrongTarget {
            found: target_of(&url),
            expected: accepted
                .iter()
                .map(target_of)
                .collect::<Vec<_>>()
                .join(" or "),
        });
    }
    let params = Params::collect(&url)?;
    if let Some(error) = params.get("error") {
        return Err(if error == "access_denied" {
            CallbackError::AccessDenied
        } else {
            CallbackError::Refused {
                code: error
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(64)
                    .collect(),
            }
        });
    }
    let state = params.required("state")?;
    if state.is_empty() || state.len() > 256 || !state.chars().all(|c| c.is_ascii_graphic()) {
        return Err(CallbackError::Invalid { name: "state" });
    }
    let access_token = token(&params, "access_token")?;
    let refresh_token = token(&params, "refresh_token")?;
    if let Some(kind) = params.get("token_type")
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(CallbackError::Invalid { name: "token_type" });
    }
    let expires_in = match params.get("expires_in") {
        // Imgur always says; an hour is the cautious guess (refreshing early costs nothing).
        None => 3600,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|secs| *secs > 0)
            .ok_or(CallbackError::Invalid { name: "expires_in" })?,
    };
    let account_username = params.required("account_username")?.to_owned();
    if account_username.is_empty()
        || account_username.len() > 255
        || account_username.chars().any(char::is_control)
    {
        return Err(CallbackError::Invalid {
            name: "account_username",
        });
    }
    let account_id = match params.get("account_id") {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| CallbackError::Invalid { name: "account_id" })?,
        ),
    };
    Ok(Callback {
        state: state.to_owned(),
        grant: Grant {
            access_token,
            refresh_token,
            expires_in,
            account_username,
            account_id,
        },
    })
}

/// The registered callbacks as URLs; ones that do not parse are left out (and logged).
pub fn accepted_callbacks(callbacks: &[&str]) -> Vec<Url> {
    callbacks
        .iter()
        .filter_map(|text| match Url::parse(text) {
            Ok(url) => Some(url),
            Err(error) => {
                tracing::warn!(callback = text, "not a usable callback address: {error}");
                None
            }
        })
        .collect()
}

fn token(params: &Params, name: &'static str) -> Result<Secret, CallbackError> {
    let value = params.required(name)?;
    if value.is_empty()
        || value.len() > MAX_TOKEN_LEN
        || !value.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(CallbackError::Invalid { name });
    }
    Ok(Secret::new(value))
}

/// Scheme, host, port and path: what decides where a callback goes.
fn target_of(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
}

fn same_target(url: &Url, target: &Url) -> bool {
    let path = |url: &Url| url.path().trim_end_matches('/').to_owned();
    url.scheme() == target.scheme()
        && url.host_str().map(str::to_ascii_lowercase)
            == target.host_str().map(str::to_ascii_lowercase)
        && url.port_or_known_default() == target.port_or_known_default()
        && path(url) == path(target)
}

/// The parameters of the query and the fragment together, each name at most once.
struct Params(Vec<(String, String)>);

impl Params {
    fn collect(url: &Url) -> Result<Self, CallbackError> {
        let mut params: Vec<(String, String)> = Vec::new();
        let parts = [url.query(), url.fragment()];
        for part in parts.into_iter().flatten() {
            for (name, value) in url::form_urlencoded::parse(part.as_bytes()) {
                if params.iter().any(|(seen, _)| *seen == name) {
                    return Err(CallbackError::Duplicated {
                        name: name.chars().take(64).collect(),
                    });
                }
                params.push((name.into_owned(), value.into_owned()));
            }
        }
        Ok(Self(params))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn required(&self, name: &'static str) -> Result<&str, CallbackError> {
        self.get(name).ok_or(CallbackError::Missing { name })
    }
}
