//! The login callback parser on every shape a callback comes in, and on hostile input; and the
//! login states (wrong, replayed, expired) over a real database file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use upshot_core::auth::callback::accepted_callbacks;
use upshot_core::auth::{
    CallbackError, LOGIN_STATE_TTL_MS, LoginStates, StateRejected, parse_callback,
};
use upshot_core::store::Database;
use url::Url;

const TOKENS: &str = "access_token=a1b2c3&expires_in=2419200&token_type=bearer&refresh_token=r9r8r7&account_username=alice&account_id=42";

fn accepted() -> Vec<Url> {
    accepted_callbacks(&["upshot://oauth/callback", "http://127.0.0.1:8765/cb"])
}

fn parse(input: &str) -> Result<upshot_core::auth::Callback, CallbackError> {
    parse_callback(input, &accepted())
}

#[test]
fn tokens_in_the_fragment_or_the_query_and_state_in_either() {
    let in_fragment = parse(&format!("upshot://oauth/callback#{TOKENS}&state=s1")).unwrap();
    assert_eq!(in_fragment.state, "s1");
    assert_eq!(in_fragment.grant.access_token.expose(), "a1b2c3");
    assert_eq!(in_fragment.grant.refresh_token.expose(), "r9r8r7");
    assert_eq!(in_fragment.grant.expires_in, 2_419_200);
    assert_eq!(in_fragment.grant.account_username, "alice");
    assert_eq!(in_fragment.grant.account_id, Some(42));

    let in_query = parse(&format!("upshot://oauth/callback?{TOKENS}&state=s2")).unwrap();
    assert_eq!(in_query.state, "s2");
    assert_eq!(in_query.grant, in_fragment.grant);

    let state_in_query = parse(&format!("upshot://oauth/callback?state=s3#{TOKENS}")).unwrap();
    assert_eq!(state_in_query.state, "s3");

    let loopback = parse(&format!("http://127.0.0.1:8765/cb?{TOKENS}&state=s4")).unwrap();
    assert_eq!(loopback.state, "s4");
    // A trailing slash and surrounding whitespace (a paste) change nothing.
    let pasted = parse(&format!("  upshot://oauth/callback/#{TOKENS}&state=s5\n")).unwrap();
    assert_eq!(pasted.state, "s5");
}

#[test]
fn unknown_parameters_are_ignored_and_optional_ones_may_be_absent() {
    let parsed = parse(
        "upshot://oauth/callback#access_token=a&refresh_token=r&account_username=bob&state=x&foo=bar&scope=",
    )
    .unwrap();
    assert_eq!(parsed.grant.account_id, None);
    assert_eq!(parsed.grant.expires_in, 3600, "cautious default");
}

#[test]
fn access_denied_and_other_errors_are_plain_messages() {
    let denied = parse("upshot://oauth/callback#error=access_denied&state=s").unwrap_err();
    assert_eq!(denied, CallbackError::AccessDenied);
    assert!(denied.to_string().contains("cancelled"), "{denied}");
    let other = parse("upshot://oauth/callback?error=server_error<script>&state=s").unwrap_err();
    assert_eq!(
        other,
        CallbackError::Refused {
            code: "server_errorscript".into()
        }
    );
}

#[test]
fn another_scheme_host_port_or_path_is_refused() {
    for wrong in [
        format!("https://oauth/callback#{TOKENS}&state=s"),
        format!("upshot://evil/callback#{TOKENS}&state=s"),
        format!("upshot://oauth/other#{TOKENS}&state=s"),
        format!("http://127.0.0.1:9999/cb?{TOKENS}&state=s"),
        format!("http://evil.example/cb?{TOKENS}&state=s"),
        format!("javascript:alert(1)#{TOKENS}&state=s"),
    ] {
        let error = parse(&wrong).unwrap_err();
        assert!(
            matches!(error, CallbackError::WrongTarget { .. }),
            "{wrong}: {error:?}"
        );
        assert!(
            !error.to_string().contains("a1b2c3") && !error.to_string().contains("r9r8r7"),
            "the message must not quote tokens: {error}"
        );
    }
}

#[test]
fn duplicated_parameters_are_refused() {
    for input in [
        format!("upshot://oauth/callback#{TOKENS}&state=s&state=t"),
        format!("upshot://oauth/callback?access_token=zzz#{TOKENS}&state=s"),
        format!("upshot://oauth/callback?state=s#{TOKENS}&state=s"),
    ] {
        assert!(
            matches!(parse(&input), Err(CallbackError::Duplicated { .. })),
            "{input}"
        );
    }
}

#[test]
fn missing_or_malformed_parts_are_named() {
    let cases = [
        ("upshot://oauth/callback", "state"),
        ("upshot://oauth/callback#state=s", "access_token"),
        (
            "upshot://oauth/callback#state=s&access_token=a",
            "refresh_token",
        ),
        (
            "upshot://oauth/callback#state=s&access_token=a&refresh_token=r",
            "account_username",
        ),
    ];
    for (input, name) in cases {
        assert_eq!(
            parse(input).unwrap_err(),
            CallbackError::Missing { name },
            "{input}"
        );
    }
    let malformed = [
        ("expires_in=-5", "expires_in"),
        ("expires_in=soon", "expires_in"),
        ("account_id=12x", "account_id"),
        ("token_type=mac", "token_type"),
    ];
    for (extra, name) in malformed {
        let input = format!(
            "upshot://oauth/callback#access_token=a&refresh_token=r&account_username=u&state=s&{extra}"
        );
        assert_eq!(
            parse(&input).unwrap_err(),
            CallbackError::Invalid { name },
            "{input}"
        );
    }
    let spaced_token =
        "upshot://oauth/callback#access_token=a%20b&refresh_token=r&account_username=u&state=s";
    assert_eq!(
        parse(spaced_token).unwrap_err(),
        CallbackError::Invalid {
            name: "access_token"
        }
    );
}

#[test]
fn hostile_input_is_refused_without_panicking() {
    assert!(matches!(parse(""), Err(CallbackError::NotAUrl)));
    assert!(matches!(parse("not a url"), Err(CallbackError::NotAUrl)));
    assert!(matches!(
        parse(&"x".repeat(10_000_000)),
        Err(CallbackError::TooLong { .. })
    ));
    let huge_token = format!(
        "upshot://oauth/callback#access_token={}&refresh_token=r&account_username=u&state=s",
        "a".repeat(4000)
    );
    assert!(parse(&huge_token).is_err());
    // Odd bytes, broken escapes, nulls, emoji: an error or a result, never a panic.
    let mut seed = 0x2545_f491_u64;
    let alphabet: Vec<char> = "=&#?%/:;@ \u{0}\u{1F600}aZ09-_.~+\\\"'<>".chars().collect();
    for _ in 0..20_000 {
        let mut input = String::from("upshot://oauth/callback");
        for _ in 0..(seed % 60) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            input.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let _ = parse(&input);
    }
    let state =
        "upshot://oauth/callback#access_token=a&refresh_token=r&account_username=u&state=%FF%FE";
    assert!(parse(state).is_err(), "a state that is not text is refused");
}

#[test]
fn a_state_works_once_for_its_client_within_ten_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path()).unwrap();
    let conn = db.connect().unwrap();
    let states = LoginStates::new(&conn);
    let now = 1_900_000_000_000;
    let state = states.start("client-a", now).unwrap();
    assert!(state.len() >= 32, "at least 128 bits, hex: {state}");
    assert_ne!(state, states.start("client-a", now).unwrap(), "random");

    assert_eq!(
        states.consume("forged", "client-a", now).unwrap(),
        Err(StateRejected::Unknown)
    );
    assert_eq!(
        states.consume(&state, "client-b", now).unwrap(),
        Err(StateRejected::Unknown),
        "another Client ID's login"
    );
    assert_eq!(
        states.consume(&state, "client-a", now + 1000).unwrap(),
        Ok(())
    );
    assert_eq!(
        states.consume(&state, "client-a", now + 2000).unwrap(),
        Err(StateRejected::Reused)
    );

    let late = states.start("client-a", now).unwrap();
    assert_eq!(
        states
            .consume(&late, "client-a", now + LOGIN_STATE_TTL_MS + 1)
            .unwrap(),
        Err(StateRejected::Expired)
    );
    // Another connection (another process) sees the same states.
    let other = db.connect().unwrap();
    let fresh = states.start("client-a", now).unwrap();
    assert_eq!(
        LoginStates::new(&other)
            .consume(&fresh, "client-a", now)
            .unwrap(),
        Ok(())
    );
}
