//! The TypeScript declarations the desktop shell generates from the core's types (`ts-rs`) say
//! what serde really sends: every type the shell's commands and events carry (the attention
//! banner, the account, watched folders and their events, the preflight settings) is declared
//! with its dependencies, no two of them share a name, large integers are numbers, and a sample
//! of each, serialized with serde_json, is a value of its declared type (same keys, same kinds,
//! the tags' literals).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde::Serialize;
use serde_json::Value;
use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use ts_rs::{Config, TS, TypeVisitor};
use upshot_core::auth::{Account, VaultKind};
use upshot_core::config_file::ConfigNotice;
use upshot_core::preflight::{Limits, PreflightSettings};
use upshot_core::queue::WorkerFault;
use upshot_core::service::Attention;
use upshot_core::types::{JobId, UnixMillis};
use upshot_core::watch::{AfterUpload, FolderView, WatchEvent, WatchedFolder};

/// The configuration the shell's generator uses: serde writes `i64`/`u64` as JSON numbers.
fn config() -> Config {
    Config::new().with_large_int("number")
}

/// Every declaration reachable from the visited types, by TypeScript name, as the generator
/// collects them (`visit_dependencies`, recursively); two Rust types under one name fail.
struct Declarations<'a> {
    cfg: &'a Config,
    found: BTreeMap<String, (TypeId, &'static str, String)>,
}

impl TypeVisitor for Declarations<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_none() {
            return; // a primitive or a wrapper: nothing to declare
        }
        let name = T::ident(self.cfg);
        let rust = std::any::type_name::<T>();
        if let Some((id, other, _)) = self.found.get(&name) {
            assert_eq!(
                *id,
                TypeId::of::<T>(),
                "{other} and {rust} are both declared as `{name}`"
            );
            return;
        }
        let decl = T::decl(self.cfg);
        self.found
            .insert(name, (TypeId::of::<T>(), rust, strip_docs(&decl)));
        T::visit_dependencies(self);
    }
}

/// The types the shell's commands and events carry, and every one they contain.
fn declarations() -> BTreeMap<String, String> {
    let cfg = config();
    let mut visitor = Declarations {
        cfg: &cfg,
        found: BTreeMap::new(),
    };
    visitor.visit::<Attention>();
    visitor.visit::<Account>();
    visitor.visit::<FolderView>();
    visitor.visit::<WatchedFolder>();
    visitor.visit::<WatchEvent>();
    visitor.visit::<PreflightSettings>();
    // The window's own view types go into the same generated file: no name may clash (the
    // visitor fails on two types of one name).
    visitor.visit::<upshot_core::window::DropOutcome>();
    visitor.visit::<upshot_core::window::QueueItem>();
    visitor.visit::<upshot_core::window::QueueRemoved>();
    visitor.visit::<upshot_core::window::Quota>();
    visitor.visit::<upshot_core::window::HistoryItem>();
    visitor.visit::<upshot_core::window::BatchReport>();
    visitor.visit::<upshot_core::window::LateLink>();
    visitor.visit::<upshot_core::window::DesktopPrefs>();
    visitor
        .found
        .into_iter()
        .map(|(name, (_, _, decl))| (name, decl))
        .collect()
}

/// The declaration without its JSDoc comments (their words may hold `:` and `,`).
fn strip_docs(decl: &str) -> String {
    let mut out = String::new();
    let mut rest = decl;
    while let Some(start) = rest.find("/**") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("an unclosed doc comment") + start + 2;
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `…` of `type X = …;`.
fn body(decl: &str) -> &str {
    let start = decl.find(" = ").expect(decl) + 3;
    decl[start..].trim().trim_end_matches(';').trim()
}

/// `text` split at `separator` where it is not nested in `{}`, `<>`, `()`, `[]` or a string.
fn split_top(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (at, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '{' | '<' | '(' | '[' if !quoted => depth += 1,
            '}' | '>' | ')' | ']' if !quoted => depth -= 1,
            c if c == separator && depth == 0 && !quoted => {
                parts.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect()
}

/// The fields of an object type `{ a: T, "b": U, c?: V, }`: name, type, optional.
fn fields(object: &str) -> Vec<(String, String, bool)> {
    let inner = object
        .trim()
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or_else(|| panic!("not an object type: {object}"));
    split_top(inner, ',')
        .into_iter()
        .map(|field| {
            let (name, ty) = field.split_once(':').expect(field);
            let name = name.trim();
            let (name, optional) = match name.strip_suffix('?') {
                Some(name) => (name, true),
                None => (name, false),
            };
            (
                name.trim_matches('"').to_owned(),
                ty.trim().to_owned(),
                optional,
            )
        })
        .collect()
}

/// Why `value` is not a value of the TypeScript type `ty` (`None` when it is). Names are looked
/// up in `decls`; `at` says where, for the message.
fn mismatch(value: &Value, ty: &str, decls: &BTreeMap<String, String>, at: &str) -> Option<String> {
    let alternatives = split_top(ty, '|');
    if alternatives.len() > 1 {
        let reasons: Vec<String> = alternatives
            .iter()
            .filter_map(|alt| mismatch(value, alt, decls, at))
            .collect();
        return (reasons.len() == alternatives.len())
            .then(|| format!("{at}: {value} is none of `{ty}` ({})", reasons.join("; ")));
    }
    let ty = ty.trim();
    let fits = match (ty, value) {
        ("null", Value::Null)
        | ("number", Value::Number(_))
        | ("string", Value::String(_))
        | ("boolean", Value::Bool(_)) => true,
        (literal, Value::String(text)) if literal.starts_with('"') => {
            literal.trim_matches('"') == text
        }
        (array, Value::Array(items)) if array.starts_with("Array<") => {
            let item = &array["Array<".len()..array.len() - 1];
            return items.iter().enumerate().find_map(|(index, element)| {
                mismatch(element, item, decls, &format!("{at}[{index}]"))
            });
        }
        (object, Value::Object(map)) if object.starts_with('{') => {
            let declared = fields(object);
            let names: BTreeSet<&str> = declared.iter().map(|(name, _, _)| name.as_str()).collect();
            if let Some(extra) = map.keys().find(|key| !names.contains(key.as_str())) {
                return Some(format!(
                    "{at}: `{extra}` is sent but not declared in {object}"
                ));
            }
            return declared
                .iter()
                .find_map(|(name, field_ty, optional)| match map.get(name) {
                    None if *optional => None,
                    None => Some(format!("{at}: `{name}` is declared but not sent")),
                    Some(field) => mismatch(field, field_ty, decls, &format!("{at}.{name}")),
                });
        }
        (name, _) if decls.contains_key(name) => {
            return mismatch(value, body(&decls[name]), decls, &format!("{at} ({name})"));
        }
        _ => false,
    };
    (!fits).then(|| format!("{at}: {value} is not a `{ty}`"))
}

/// Serializes `value` and checks it against the declaration of `T`.
fn assert_agrees<T: TS + Serialize + 'static>(value: &T) {
    let decls = declarations();
    let name = T::name(&config());
    let json = serde_json::to_value(value).unwrap();
    if let Some(why) = mismatch(&json, &name, &decls, &name) {
        panic!("serde and the TypeScript declaration disagree: {why}\n{json}");
    }
}

fn decl_of(name: &str) -> String {
    declarations()
        .remove(name)
        .unwrap_or_else(|| panic!("`{name}` is not declared"))
}

/// The fields of the declared object type `name`, each as `name: type`.
fn field_lines(name: &str) -> Vec<String> {
    fields(body(&decl_of(name)))
        .into_iter()
        .map(|(field, ty, optional)| format!("{field}{}: {ty}", if optional { "?" } else { "" }))
        .collect()
}

fn folder() -> WatchedFolder {
    let mut folder = WatchedFolder::new("2", "/home/me/Screenshots");
    folder.recursive = true;
    folder.album = Some("abc123".to_owned());
    folder.after_upload = AfterUpload::Move {
        subfolder: "uploaded".to_owned(),
    };
    folder
}

fn every_watch_event() -> Vec<WatchEvent> {
    let path = || PathBuf::from("/home/me/Screenshots/a.png");
    let folder = || PathBuf::from("/home/me/Screenshots");
    vec![
        WatchEvent::Watching {
            folder: folder(),
            files: 3,
            new: 1,
        },
        WatchEvent::Queued {
            path: path(),
            job: JobId(12),
        },
        WatchEvent::Duplicate {
            path: path(),
            job: Some(JobId(7)),
            link: Some("https://i.imgur.com/abc.png".to_owned()),
        },
        WatchEvent::Duplicate {
            path: path(),
            job: None,
            link: None,
        },
        WatchEvent::Cancelled {
            path: path(),
            job: JobId(12),
            reason: "the file was removed".to_owned(),
        },
        WatchEvent::Repointed {
            path: path(),
            job: JobId(12),
            to: PathBuf::from("/home/me/Screenshots/b.png"),
        },
        WatchEvent::Moved {
            path: path(),
            to: PathBuf::from("/home/me/Screenshots/uploaded/a.png"),
        },
        WatchEvent::Reuploading {
            path: path(),
            link: Some("https://i.imgur.com/abc.png".to_owned()),
        },
        WatchEvent::Deleted { path: path() },
        WatchEvent::Skipped {
            path: path(),
            reason: "too large".to_owned(),
        },
        WatchEvent::Overflowed { folder: folder() },
        WatchEvent::FolderFault {
            folder: folder(),
            message: "missing".to_owned(),
        },
        WatchEvent::FolderWarning {
            folder: folder(),
            message: "a symlink loop".to_owned(),
        },
    ]
}

#[test]
fn every_type_the_shell_carries_is_declared_with_its_dependencies() {
    let names: BTreeSet<String> = declarations().into_keys().collect();
    let expected: BTreeSet<String> = [
        "Account",
        "AfterUpload",
        "Attention",
        "ConfigNotice",
        "FolderView",
        "JobId",
        "Limits",
        "PreflightSettings",
        "UnixMillis",
        "VaultKind",
        "WatchEvent",
        "WatchedFolder",
        "WorkerFault",
        // The window's view types.
        "BatchFile",
        "BatchQueued",
        "BatchReport",
        "DesktopPrefs",
        "DropOutcome",
        "FormattedLink",
        "HistoryItem",
        "ItemError",
        "ItemState",
        "LateLink",
        "QueueItem",
        "QueueRemoved",
        "Quota",
        "RejectedPath",
        "UploadProgress",
        "Wait",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(names, expected);
    for (name, decl) in declarations() {
        assert!(!decl.contains("bigint"), "{name} has a bigint: {decl}");
        let words: Vec<&str> = decl.split(|c: char| !c.is_alphanumeric()).collect();
        assert!(!words.contains(&"any"), "{name} has an `any`: {decl}");
        assert!(
            !words.contains(&"unknown"),
            "{name} has an `unknown`: {decl}"
        );
    }
}

#[test]
fn the_declarations_say_what_serde_sends() {
    // Times and ids are plain numbers (serde: transparent newtypes of i64).
    assert_eq!(body(&decl_of("UnixMillis")), "number");
    assert_eq!(body(&decl_of("JobId")), "number");
    assert_eq!(
        field_lines("WorkerFault"),
        [
            "runner: string",
            "pid: number",
            "code: string",
            "message: string",
            "since: number",
            "updated_at: number"
        ]
    );
    // Paths are text.
    assert_eq!(
        field_lines("ConfigNotice"),
        [
            "code: string",
            "message: string",
            "file: string",
            "set_aside_as: string"
        ]
    );
    assert!(field_lines("WatchedFolder").contains(&"path: string".to_owned()));
    // Enums: snake_case strings, and `then`- and `event`-tagged unions.
    assert_eq!(body(&decl_of("VaultKind")), r#""keychain" | "file""#);
    let after: Vec<_> = split_top(body(&decl_of("AfterUpload")), '|')
        .into_iter()
        .map(fields)
        .collect();
    let field = |name: &str, ty: &str| (name.to_owned(), ty.to_owned(), false);
    assert_eq!(
        after,
        [
            vec![field("then", r#""keep""#)],
            vec![field("then", r#""move""#), field("subfolder", "string")],
            vec![field("then", r#""delete""#)],
        ]
    );
    let events = decl_of("WatchEvent");
    let members = split_top(body(&events), '|');
    assert_eq!(members.len(), 12, "{events}");
    for member in &members {
        assert!(member.starts_with(r#"{ "event": ""#), "{member}");
    }
    assert!(events.contains(r#""event": "folder_fault""#), "{events}");
    // Paths written with `shown_path::lossy` are still strings; options are `| null`.
    assert!(
        members.iter().any(|member| fields(member)
            == [
                field("event", r#""repointed""#),
                field("path", "string"),
                field("job", "JobId"),
                field("to", "string"),
            ]),
        "{events}"
    );
    assert!(events.contains("job: JobId | null"), "{events}");
    // A folder view is the saved folder's fields (flattened) and the watcher's state.
    let view = field_lines("FolderView");
    for field in field_lines("WatchedFolder") {
        assert!(view.contains(&field), "{field} missing in {view:?}");
    }
    assert!(view.contains(&"state: string".to_owned()), "{view:?}");
    assert!(
        view.contains(&"message: string | null".to_owned()),
        "{view:?}"
    );
    assert_eq!(
        field_lines("Account"),
        [
            "username: string",
            "account_id: number | null",
            "expires_at: UnixMillis",
            "logged_in_at: UnixMillis",
            "logged_out_reason: string | null",
            "secret_store: VaultKind"
        ]
    );
    assert_eq!(
        field_lines("Limits"),
        [
            "max_image_bytes: number",
            "max_video_bytes: number",
            "max_video_seconds: number"
        ]
    );
    assert!(field_lines("PreflightSettings").contains(&"limits: Limits".to_owned()));
}

#[test]
fn serde_sends_values_of_the_declared_types() {
    assert_agrees(&Attention {
        notices: vec![ConfigNotice {
            code: "config_set_aside",
            message: "settings.json could not be read; it was set aside.".to_owned(),
            file: PathBuf::from("/home/me/.config/upshot/settings.json"),
            set_aside_as: PathBuf::from("/home/me/.config/upshot/settings.json.bad-1"),
        }],
        worker_faults: vec![WorkerFault {
            runner: "pid42-abcd".to_owned(),
            pid: 42,
            code: "disk_full".to_owned(),
            message: "The disk is full.".to_owned(),
            since: 1_700_000_000_000,
            updated_at: 1_700_000_060_000,
        }],
        own_pid: 42,
    });
    assert_agrees(&Attention {
        notices: Vec::new(),
        worker_faults: Vec::new(),
        own_pid: 7,
    });
    for (account_id, reason, store) in [
        (Some(1234), None, VaultKind::Keychain),
        (
            None,
            Some("Imgur refused the login".to_owned()),
            VaultKind::File,
        ),
    ] {
        assert_agrees(&Account {
            username: "someone".to_owned(),
            account_id,
            expires_at: UnixMillis(1_700_003_600_000),
            logged_in_at: UnixMillis(1_700_000_000_000),
            logged_out_reason: reason,
            secret_store: store,
        });
    }
    assert_agrees(&vec![
        FolderView {
            folder: folder(),
            state: "fault".to_owned(),
            message: Some("missing".to_owned()),
            warnings: vec!["a symlink loop".to_owned()],
        },
        FolderView {
            folder: WatchedFolder::new("1", "/srv/drop"),
            state: "watching".to_owned(),
            message: None,
            warnings: Vec::new(),
        },
    ]);
    for after in [
        AfterUpload::Keep,
        AfterUpload::Delete,
        AfterUpload::Move {
            subfolder: "done".to_owned(),
        },
    ] {
        let mut folder = folder();
        folder.after_upload = after;
        assert_agrees(&folder);
    }
    for event in every_watch_event() {
        assert_agrees(&event);
    }
    assert_agrees(&PreflightSettings::default());
    assert_agrees(&PreflightSettings {
        strip_metadata: false,
        fit_captures: false,
        fit_files: true,
        upload_duplicates: true,
        limits: Limits {
            max_image_bytes: 5 * 1024 * 1024,
            max_video_bytes: 100 * 1024 * 1024,
            max_video_seconds: 30,
        },
    });
}

#[test]
fn the_agreement_check_sees_a_disagreement() {
    let decls = declarations();
    let check = |json: Value, ty: &str| mismatch(&json, ty, &decls, ty);
    let good = serde_json::to_value(PreflightSettings::default()).unwrap();
    assert_eq!(check(good.clone(), "PreflightSettings"), None);
    let mut extra = good.clone();
    extra["limits"]["max_files"] = 3.into();
    assert!(
        check(extra, "PreflightSettings")
            .unwrap()
            .contains("max_files")
    );
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("fit_files");
    assert!(
        check(missing, "PreflightSettings")
            .unwrap()
            .contains("fit_files")
    );
    let mut wrong_kind = good;
    wrong_kind["limits"]["max_video_seconds"] = "60".into();
    assert!(check(wrong_kind, "PreflightSettings").is_some());
    let unknown_tag = serde_json::json!({ "then": "archive" });
    assert!(check(unknown_tag, "AfterUpload").is_some());
    let wrong_tag_fields = serde_json::json!({ "event": "deleted", "folder": "/x" });
    assert!(check(wrong_tag_fields, "WatchEvent").is_some());
    assert!(check(Value::Null, "VaultKind").is_some());
    assert_eq!(check("file".into(), "VaultKind"), None);
}
