//! Build script: checks the UI is built, then lets `tauri-build` read `tauri.conf.json`,
//! the capabilities and the icons.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `tauri::generate_context!` embeds `../ui/dist` (the config's `frontendDist`) while the
    // crate compiles, and the config has no `beforeBuildCommand`: `scripts/test.sh` builds
    // the UI before it runs cargo. Say so plainly rather than failing inside the macro.
    let index = Path::new("../ui/dist/index.html");
    println!("cargo:rerun-if-changed=../ui/dist");
    if !index.is_file() {
        println!(
            "cargo::error=the UI is not built: {} is missing. Run `npm ci && npm run build` \
             in ui/ first (scripts/test.sh does this before it runs cargo).",
            index.display()
        );
        return ExitCode::FAILURE;
    }
    tauri_build::build();
    ExitCode::SUCCESS
}
