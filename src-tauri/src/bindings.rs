//! Every command and event the window may use, declared once: the list below registers the
//! commands with Tauri ([`handler`]) and writes `ui/src/generated/bindings.ts` — the TypeScript
//! types of every argument, answer and event payload, derived from the Rust types by ts-rs, and
//! the `Commands`/`Events` maps the UI's typed `call`/`on` use. A test fails when the committed
//! file is not what the Rust says (`UPSHOT_WRITE_BINDINGS=1 cargo test -p upshot-desktop
//! bindings` writes it).

#[cfg(test)]
use std::collections::BTreeMap;
#[cfg(test)]
use std::fmt::Write as _;
#[cfg(test)]
use ts_rs::{Config, TS, TypeVisitor};

/// Declares the commands: `module::command(argument: Type, ...) -> Answer;` with the arguments
/// the UI passes (not the `State`/`AppHandle` Tauri injects).
macro_rules! commands {
    ($( $module:ident :: $name:ident ( $( $arg:ident : $ty:ty ),* ) -> $answer:ty ; )*) => {
        /// Tauri's invoke handler for every command.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![ $( $module::$name ),* ]
        }

        /// Each command's name, arguments and answer as TypeScript, with every type they name.
        #[cfg(test)]
        fn commands(cfg: &Config, types: &mut Types<'_>) -> Vec<Signature> {
            vec![ $( Signature {
                name: stringify!($name),
                args: vec![ $( (stringify!($arg), types.name::<$ty>(cfg)) ),* ],
                answer: types.name::<$answer>(cfg),
            } ),* ]
        }
    };
}

use crate::{attention, history, login, paste, preflight, prefs, uploads, watch};
// The types below are named by the generated TypeScript only (the test that writes it).
#[cfg(test)]
use std::path::PathBuf;
#[cfg(test)]
use upshot_core::auth::Account;
#[cfg(test)]
use upshot_core::preflight::PreflightSettings;
#[cfg(test)]
use upshot_core::service::Attention;
#[cfg(test)]
use upshot_core::watch::{FolderView, WatchEvent, WatchedFolder};
#[cfg(test)]
use upshot_core::window::{DesktopPrefs, DropOutcome, HistoryItem, QueueItem, Quota, WindowEvent};

commands! {
    attention::attention() -> Attention;
    login::login_start() -> String;
    login::login_complete(callback: String) -> Account;
    login::account() -> Option<Account>;
    login::logout() -> Option<String>;
    watch::watch_folders() -> Vec<FolderView>;
    watch::watch_add(path: PathBuf, recursive: bool, after: String) -> WatchedFolder;
    watch::watch_remove(id: String) -> ();
    watch::watch_set_enabled(id: String, enabled: bool) -> ();
    preflight::preflight_settings() -> PreflightSettings;
    preflight::set_preflight_settings(settings: PreflightSettings) -> PreflightSettings;
    uploads::upload_paths(paths: Vec<PathBuf>, confirmed: bool) -> DropOutcome;
    uploads::upload_pick() -> DropOutcome;
    paste::paste_clipboard() -> DropOutcome;
    uploads::queue_list() -> Vec<QueueItem>;
    uploads::queue_retry(job: String) -> ();
    uploads::queue_cancel(job: String) -> ();
    uploads::queue_remove(job: String) -> ();
    uploads::quota() -> Quota;
    history::history_list(query: String, limit: u32) -> Vec<HistoryItem>;
    history::history_delete(ids: Vec<String>) -> Vec<String>;
    history::history_export() -> Option<u32>;
    history::copy_text(text: String) -> ();
    history::open_link(url: String) -> ();
    prefs::desktop_prefs() -> DesktopPrefs;
    prefs::set_desktop_prefs(prefs: DesktopPrefs) -> DesktopPrefs;
}

#[cfg(test)]
/// The events the shell emits besides the window's ([`WindowEvent`]).
fn shell_events(cfg: &Config, types: &mut Types<'_>) -> Vec<(&'static str, String)> {
    vec![
        (
            login::LOGIN_FINISHED,
            types.name::<login::LoginFinished>(cfg),
        ),
        (login::ACCOUNT_CHANGED, "null".to_owned()),
        (watch::WATCH_EVENT, types.name::<WatchEvent>(cfg)),
    ]
}

#[cfg(test)]
struct Signature {
    name: &'static str,
    args: Vec<(&'static str, String)>,
    answer: String,
}

#[cfg(test)]
/// Collects the declaration of every type named, and of every type those name, by name.
struct Types<'a> {
    cfg: &'a Config,
    declarations: BTreeMap<String, (std::any::TypeId, String)>,
}

#[cfg(test)]
impl Types<'_> {
    /// The type's TypeScript name; its declaration (and its dependencies') are collected.
    fn name<T: TS + 'static + ?Sized>(&mut self, cfg: &Config) -> String {
        self.visit::<T>();
        T::visit_generics(self);
        T::name(cfg)
    }
}

#[cfg(test)]
impl TypeVisitor for Types<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Only declared types (structs and enums) have a file of their own; primitives and
        // wrappers (Vec, Option) are written inline.
        if T::output_path().is_none() {
            return;
        }
        let name = T::ident(self.cfg);
        if let Some((id, _)) = self.declarations.get(&name) {
            // Two Rust types of one TypeScript name would silently become one.
            assert!(
                *id == std::any::TypeId::of::<T>(),
                "two types are declared as `{name}`"
            );
            return;
        }
        let mut declaration = String::new();
        if let Some(docs) = T::docs() {
            declaration.push_str(&docs);
        }
        let _ = write!(declaration, "export {}", T::decl(self.cfg));
        self.declarations
            .insert(name, (std::any::TypeId::of::<T>(), declaration));
        T::visit_dependencies(self);
    }
}

#[cfg(test)]
/// Tauri passes a command's arguments by their camelCase names.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
/// The whole of `ui/src/generated/bindings.ts`.
pub fn typescript() -> String {
    let cfg = Config::new().with_large_int("number");
    let mut types = Types {
        cfg: &cfg,
        declarations: BTreeMap::new(),
    };
    let commands = commands(&cfg, &mut types);
    let mut events = shell_events(&cfg, &mut types);
    collect_window_types(&cfg, &mut types);
    events.extend(WindowEvent::typescript_map(&cfg));

    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.\n\
         // UPSHOT_WRITE_BINDINGS=1 cargo test -p upshot-desktop bindings rewrites it.\n\n",
    );
    for (_, declaration) in types.declarations.values() {
        out.push_str(declaration);
        out.push_str("\n\n");
    }
    out.push_str(
        "/** Every command: its arguments (`undefined` when it takes none) and its answer. */\n",
    );
    out.push_str("export interface Commands {\n");
    for command in &commands {
        let args = if command.args.is_empty() {
            "undefined".to_owned()
        } else {
            let fields: Vec<String> = command
                .args
                .iter()
                .map(|(name, ty)| format!("{}: {ty}", camel_case(name)))
                .collect();
            format!("{{ {} }}", fields.join("; "))
        };
        let _ = writeln!(
            out,
            "  {}: {{ args: {args}; result: {} }};",
            command.name, command.answer
        );
    }
    out.push_str(
        "}\n\n/** Every event the shell emits and its payload. */\nexport interface Events {\n",
    );
    for (name, payload) in &events {
        let _ = writeln!(out, "  \"{name}\": {payload};");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
/// The window's event payloads, collected like the commands' types.
fn collect_window_types(cfg: &Config, types: &mut Types<'_>) {
    use upshot_core::window::{BatchReport, LateLink, QueueRemoved, UploadProgress};
    types.name::<QueueItem>(cfg);
    types.name::<QueueRemoved>(cfg);
    types.name::<UploadProgress>(cfg);
    types.name::<Quota>(cfg);
    types.name::<HistoryItem>(cfg);
    types.name::<BatchReport>(cfg);
    types.name::<LateLink>(cfg);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bindings_file() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/generated/bindings.ts")
    }

    /// The committed bindings are what the Rust types say; set UPSHOT_WRITE_BINDINGS=1 to
    /// write them after changing a command, an event or a type they carry.
    #[test]
    fn bindings_are_up_to_date() {
        let generated = typescript();
        let path = bindings_file();
        if std::env::var_os("UPSHOT_WRITE_BINDINGS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/generated/bindings.ts is out of date: run \
             `UPSHOT_WRITE_BINDINGS=1 cargo test -p upshot-desktop bindings` and commit it"
        );
    }

    #[test]
    fn every_command_and_event_is_in_the_maps() {
        let generated = typescript();
        for needle in [
            "upload_paths: { args: { paths: Array<string>; confirmed: boolean }; result: DropOutcome }",
            "queue_list: { args: undefined; result: Array<QueueItem> }",
            "\"batch-ended\": BatchReport;",
            "\"watch-event\": WatchEvent;",
            "export type QueueItem = {",
        ] {
            assert!(
                generated.contains(needle),
                "missing {needle} in\n{generated}"
            );
        }
    }

    #[test]
    fn arguments_take_tauris_camel_case_names() {
        assert_eq!(camel_case("job"), "job");
        assert_eq!(camel_case("after_upload"), "afterUpload");
    }
}
