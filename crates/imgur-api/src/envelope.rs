//! Reading Imgur's answers: the success envelope and every error shape (A–E).
//!
//! Nothing here depends on key order: two serializers are seen on the wire (`data,success,status`
//! with escaped slashes, and `status,success,data`), and serde_json reads both alike.

use crate::error::{ErrorKind, ImgurError};
use crate::rate_limit::RateLimitSnapshot;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The rate-limit back-off when a 429 says nothing about when to come back.
const DEFAULT_RATE_LIMIT_WAIT_SECS: u64 = 60;

/// Reads a successful answer: the envelope's `data`, or the bare object for OAuth endpoints.
pub(crate) fn read_success<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
    enveloped: bool,
    rate_limits: &RateLimitSnapshot,
    now: u64,
) -> Result<T, ImgurError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ImgurError::unreadable(status, "not JSON", rate_limits.clone()))?;
    let payload = if enveloped {
        if value.get("success").and_then(Value::as_bool) == Some(false) {
            return Err(read_failure(status, body, false, rate_limits, now));
        }
        match value {
            Value::Object(mut map) => map.remove("data").ok_or_else(|| {
                ImgurError::unreadable(status, "no data field", rate_limits.clone())
            })?,
            _ => {
                return Err(ImgurError::unreadable(
                    status,
                    "not an object",
                    rate_limits.clone(),
                ));
            }
        }
    } else {
        value
    };
    serde_json::from_value(payload).map_err(|error| {
        ImgurError::unreadable(
            status,
            &format!("unexpected data: {error}"),
            rate_limits.clone(),
        )
    })
}

/// What an error body said, whatever its shape.
#[derive(Debug, Default, PartialEq)]
struct Said {
    message: Option<String>,
    code: Option<i64>,
    /// The envelope's own `status`, which may differ from the HTTP status.
    envelope_status: Option<i64>,
}

/// Turns a failed answer into an [`ImgurError`], classified by what the caller should do.
pub(crate) fn read_failure(
    status: u16,
    body: &[u8],
    as_user: bool,
    rate_limits: &RateLimitSnapshot,
    now: u64,
) -> ImgurError {
    let said = match serde_json::from_slice::<Value>(body) {
        Ok(value) => read_json_error(&value),
        Err(_) => read_html_error(body),
    };
    let is_html = serde_json::from_slice::<Value>(body).is_err();
    let text = said.message.clone().unwrap_or_default();
    let lower = text.to_lowercase();

    let is_rate_limited = status == 429
        || said.code == Some(429)
        || said.envelope_status == Some(429)
        || lower.contains("too many requests")
        || lower.contains("uploading too fast");
    let kind = if is_rate_limited {
        ErrorKind::RateLimited
    } else if lower.contains("access token provided is invalid")
        || lower.contains("invalid refresh token")
    {
        ErrorKind::Reauth
    } else if lower.contains("over capacity") || status >= 500 || status == 417 || status == 408 {
        ErrorKind::RetryLater
    } else if (status == 401 || status == 403) && as_user && !lower.contains("client_id") {
        ErrorKind::Reauth
    } else {
        ErrorKind::Permanent
    };

    let message = plain_message(status, &said, is_html);
    let retry_at = (kind == ErrorKind::RateLimited).then(|| {
        wait_from_message(&lower)
            .map(|secs| now.saturating_add(secs))
            .or_else(|| rate_limits.exhausted_until())
            .unwrap_or(now.saturating_add(DEFAULT_RATE_LIMIT_WAIT_SECS))
    });
    ImgurError {
        kind,
        status: Some(status),
        message,
        code: said.code,
        retry_at,
        rate_limits: Box::new(rate_limits.clone()),
        outcome_unknown: false,
    }
}

fn read_json_error(value: &Value) -> Said {
    let envelope_status = value.get("status").and_then(Value::as_i64);
    // Shapes A, B, C: an envelope whose data.error is a string or an object.
    if let Some(error) = value.get("data").and_then(|data| data.get("error")) {
        return match error {
            Value::String(text) => Said {
                message: Some(text.clone()),
                code: None,
                envelope_status,
            },
            Value::Object(inner) => Said {
                message: inner
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                code: inner.get("code").and_then(number_or_text),
                envelope_status,
            },
            other => Said {
                message: Some(other.to_string()),
                code: None,
                envelope_status,
            },
        };
    }
    // Shape D: the gateway's `errors[]`, with `code` as a string or a number.
    if let Some(first) = value
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|errors| errors.first())
    {
        let detail = first.get("detail").and_then(Value::as_str);
        let title = first.get("status").and_then(Value::as_str);
        return Said {
            message: detail.or(title).map(str::to_owned),
            code: first.get("code").and_then(number_or_text),
            envelope_status,
        };
    }
    // OAuth style: {"error": "...", "error_description": "..."}.
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        let description = value.get("error_description").and_then(Value::as_str);
        return Said {
            message: Some(description.unwrap_or(error).to_owned()),
            code: None,
            envelope_status,
        };
    }
    Said {
        envelope_status,
        ..Said::default()
    }
}

/// Shape E: an HTML (or plain text) page. Its `<title>` is the only part worth showing.
fn read_html_error(body: &[u8]) -> Said {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_lowercase();
    let title = lower.find("<title>").and_then(|start| {
        let from = start + "<title>".len();
        lower[from..]
            .find("</title>")
            .map(|len| text[from..from + len].trim().to_owned())
    });
    let message = title.filter(|title| !title.is_empty()).or_else(|| {
        let first_line = text.lines().map(str::trim).find(|line| !line.is_empty())?;
        (!first_line.starts_with('<') && first_line.len() <= 200).then(|| first_line.to_owned())
    });
    // Over-capacity pages carry the phrase in the body rather than the title.
    let message = match message {
        Some(title)
            if lower.contains("over capacity") && !title.to_lowercase().contains("capacity") =>
        {
            Some(format!("{title}: Imgur is over capacity"))
        }
        None if lower.contains("over capacity") => Some("Imgur is over capacity".to_owned()),
        other => other,
    };
    Said {
        message,
        ..Said::default()
    }
}

fn plain_message(status: u16, said: &Said, is_html: bool) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
        .unwrap_or("error");
    match (&said.message, is_html) {
        (Some(text), false) if !text.trim().is_empty() => text.trim().to_owned(),
        (Some(text), true) => {
            format!("Imgur answered with an error page: {text} (HTTP {status} {reason}).")
        }
        _ if is_html => format!("Imgur answered with an error page (HTTP {status} {reason})."),
        _ => format!("Imgur answered HTTP {status} {reason}."),
    }
}

/// "You are uploading too fast. Please wait 12 more minutes." → 720 seconds.
fn wait_from_message(lower: &str) -> Option<u64> {
    let after = &lower[lower.find("wait ")? + "wait ".len()..];
    let mut words = after.split_whitespace();
    let amount: u64 = words.next()?.parse().ok()?;
    let unit = words.find(|word| !matches!(*word, "more"))?;
    let factor = if unit.starts_with("second") {
        1
    } else if unit.starts_with("minute") {
        60
    } else if unit.starts_with("hour") {
        3600
    } else {
        return None;
    };
    Some(amount.saturating_mul(factor))
}

fn number_or_text(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn fail(status: u16, body: &str) -> ImgurError {
        read_failure(
            status,
            body.as_bytes(),
            false,
            &RateLimitSnapshot::default(),
            NOW,
        )
    }

    #[test]
    fn shape_a_keeps_imgur_sentence() {
        let error = fail(
            404,
            r#"{"data":{"error":"Unable to find an image with the id, abc","request":"\/3\/image\/abc","method":"DELETE"},"success":false,"status":404}"#,
        );
        assert_eq!(error.kind, ErrorKind::Permanent);
        assert_eq!(error.message, "Unable to find an image with the id, abc");
        assert_eq!(error.status, Some(404));
    }

    #[test]
    fn shape_b_inner_429_is_rate_limited_with_wait_from_message() {
        let error = fail(
            400,
            r#"{"status":400,"success":false,"data":{"error":{"code":429,"message":"You are uploading too fast. Please wait 12 more minutes.","type":"ImgurException","exception":[]},"request":"\/3\/image","method":"POST"}}"#,
        );
        assert_eq!(error.kind, ErrorKind::RateLimited);
        assert_eq!(error.code, Some(429));
        assert_eq!(error.retry_at, Some(NOW + 720));
    }

    #[test]
    fn shape_b_file_type_is_permanent() {
        let error = fail(
            400,
            r#"{"data":{"error":{"code":1003,"message":"File type invalid (1)","type":"ImgurException","exception":[]},"request":"\/3\/image","method":"POST"},"success":false,"status":400}"#,
        );
        assert_eq!(error.kind, ErrorKind::Permanent);
        assert_eq!(error.code, Some(1003));
        assert_eq!(error.message, "File type invalid (1)");
    }

    #[test]
    fn shape_c_over_capacity_is_retry_later_even_as_403() {
        let error = fail(
            403,
            r#"{"data":{"error":"Imgur is temporarily over capacity. Please try again later."},"success":false,"status":403}"#,
        );
        assert_eq!(error.kind, ErrorKind::RetryLater);
    }

    #[test]
    fn shape_d_gateway_code_as_string_or_number() {
        for code in [r#""429""#, "429"] {
            let body = format!(
                r#"{{"errors":[{{"id":"x","code":{code},"status":"Too Many Requests","detail":"Rate limit exceeded"}}]}}"#
            );
            let error = fail(429, &body);
            assert_eq!(error.kind, ErrorKind::RateLimited);
            assert_eq!(error.code, Some(429));
            assert_eq!(error.message, "Rate limit exceeded");
            assert_eq!(error.retry_at, Some(NOW + DEFAULT_RATE_LIMIT_WAIT_SECS));
        }
    }

    #[test]
    fn shape_e_html_shows_title_not_markup() {
        let error = fail(
            429,
            "<!DOCTYPE html><html><head><title>Imgur: The magic of the Internet</title></head><body><h1>Too many requests</h1></body></html>",
        );
        assert_eq!(error.kind, ErrorKind::RateLimited);
        assert!(!error.message.contains('<'));
        assert!(error.message.contains("HTTP 429"));
    }

    #[test]
    fn rate_limited_uses_headers_when_message_is_silent() {
        let limits = RateLimitSnapshot {
            client_remaining: Some(0),
            client_reset: Some(NOW + 5000),
            ..Default::default()
        };
        let error = read_failure(429, b"{}", false, &limits, NOW);
        assert_eq!(error.retry_at, Some(NOW + 5000));
    }

    #[test]
    fn invalid_token_is_reauth_and_invalid_client_id_is_permanent() {
        let token = fail(
            403,
            r#"{"data":{"error":"The access token provided is invalid.","request":"\/3\/account\/me","method":"GET"},"success":false,"status":403}"#,
        );
        assert_eq!(token.kind, ErrorKind::Reauth);
        let client = read_failure(
            403,
            br#"{"data":{"error":"Invalid client_id","request":"\/3\/image","method":"POST"},"success":false,"status":403}"#,
            true,
            &RateLimitSnapshot::default(),
            NOW,
        );
        assert_eq!(client.kind, ErrorKind::Permanent);
    }

    #[test]
    fn server_errors_and_417_are_retry_later() {
        assert_eq!(fail(500, "").kind, ErrorKind::RetryLater);
        assert_eq!(fail(503, "<html>down</html>").kind, ErrorKind::RetryLater);
        assert_eq!(fail(417, "").kind, ErrorKind::RetryLater);
        assert_eq!(
            fail(
                413,
                "<html><title>413 Request Entity Too Large</title></html>"
            )
            .kind,
            ErrorKind::Permanent
        );
    }

    #[test]
    fn success_in_either_key_order() {
        let limits = RateLimitSnapshot::default();
        let legacy: String = read_success(
            200,
            br#"{"data":{"type":"image\/png"},"success":true,"status":200}"#,
            true,
            &limits,
            NOW,
        )
        .map(|value: Value| value["type"].as_str().unwrap_or_default().to_owned())
        .unwrap();
        let modern: String = read_success(
            200,
            br#"{"status":200,"success":true,"data":{"type":"image/png"}}"#,
            true,
            &limits,
            NOW,
        )
        .map(|value: Value| value["type"].as_str().unwrap_or_default().to_owned())
        .unwrap();
        assert_eq!(legacy, "image/png");
        assert_eq!(modern, legacy);
        let bare_true: bool = read_success(
            200,
            br#"{"data":true,"success":true,"status":200}"#,
            true,
            &limits,
            NOW,
        )
        .unwrap();
        assert!(bare_true);
    }

    #[test]
    fn truncated_success_body_is_retry_later() {
        let error = read_success::<Value>(
            200,
            br#"{"data":{"id":"abc"#,
            true,
            &RateLimitSnapshot::default(),
            NOW,
        )
        .unwrap_err();
        assert_eq!(error.kind, ErrorKind::RetryLater);
    }

    #[test]
    fn wait_parsing() {
        assert_eq!(wait_from_message("please wait 3 more minutes."), Some(180));
        assert_eq!(wait_from_message("please wait 1 more hour"), Some(3600));
        assert_eq!(wait_from_message("please wait 30 seconds"), Some(30));
        assert_eq!(wait_from_message("please wait a bit"), None);
    }
}
