#!/usr/bin/env bash
# Sets up a Debian 12 machine to build and test Upshot: system packages for Tauri/WebKitGTK
# and headless UI runs, the UI's npm packages, and a check that Rust is there.
#
# Idempotent and quick when nothing is missing: it only calls apt-get for packages dpkg does
# not report as installed, and only runs `npm ci` when ui/node_modules is missing or older
# than ui/package-lock.json. Runs as root, or through sudo when not root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[install-deps] %s\n' "$*"; }

# What each package is for:
#   libwebkit2gtk-4.1-dev         the webview Tauri 2 uses on Linux (pulls in GTK 3)
#   libayatana-appindicator3-dev  the system tray icon
#   librsvg2-dev                  SVG icons in GTK
#   libxdo-dev                    keyboard shortcuts and menu accelerators (muda/tray-icon)
#   libssl-dev                    OpenSSL headers for crates that link it
#   build-essential, pkg-config   the C toolchain and library lookup used by *-sys crates
#   file                          the Tauri bundler inspects binaries with it
#   xvfb, dbus-x11                run the app headless (the end-to-end tests, tests/e2e)
#   webkit2gtk-driver             WebDriver for WebKitGTK (end-to-end tests of the app)
#   chromium                      the UI's browser tests (npm run test:browser, driven by
#                                 playwright-core), from Debian, never downloaded by npm
#   fonts-dejavu-core             the font those tests render and photograph (docs/screenshots)
#   curl, git                     fetching and version control in CI
#   x11-utils                     xwininfo: the end-to-end tests wait for the app's window
#   xdotool                       the e2e tests move the pointer and press keys (drag, Ctrl+V, chooser)
#   xclip                         the e2e tests fill the clipboard and read the links the app put there
#   python3-gi, gir1.2-gtk-3.0    the drop test's GTK drag source and its notification server
#                                 (Gio), run by /usr/bin/python3
#   desktop-file-utils, xdg-utils the app registers upshot:// with the desktop at run time
#   python3                       the end-to-end tests read JSON, play the browser and WebDriver
#   python3-pil, python3-piexif,  regenerate the Exif-writer fixtures (tests/fixtures/exif/make.py,
#   libimage-exiftool-perl        run by /usr/bin/python3)
PACKAGES=(
    libwebkit2gtk-4.1-dev
    libayatana-appindicator3-dev
    librsvg2-dev
    libxdo-dev
    libssl-dev
    build-essential
    file
    pkg-config
    xvfb
    dbus-x11
    webkit2gtk-driver
    chromium
    fonts-dejavu-core
    curl
    git
    x11-utils
    xdotool
    xclip
    python3-gi
    gir1.2-gtk-3.0
    desktop-file-utils
    xdg-utils
    python3
    python3-pil
    python3-piexif
    libimage-exiftool-perl
)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "need root for: $* (run as root or install sudo)"
        exit 1
    fi
}

missing_packages() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
            printf '%s\n' "$pkg"
        fi
    done
}

# Another apt process (unattended upgrades, a second shell) holds the dpkg lock for a while.
# apt-get waits for the lock itself when given a timeout.
APT_OPTS=(-y -q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600)

install_system_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        log "no dpkg: this script sets up Debian 12; install the packages listed in it by hand"
        exit 1
    fi
    local missing
    mapfile -t missing < <(missing_packages)
    if [ "${#missing[@]}" -eq 0 ]; then
        log "system packages: all present"
        return
    fi
    log "system packages: installing ${missing[*]}"
    local apt_log attempt
    apt_log="$(mktemp)"
    for attempt in 1 2 3; do
        # Downloads can fail half-way on a flaky mirror; a rerun picks up where it stopped.
        if as_root apt-get update -q >"$apt_log" 2>&1 &&
            as_root apt-get install "${APT_OPTS[@]}" "${missing[@]}" >>"$apt_log" 2>&1; then
            rm -f "$apt_log"
            log "system packages: installed"
            return
        fi
        log "apt-get failed (attempt $attempt of 3); last lines:"
        tail -n 15 "$apt_log" | sed 's/^/    /'
        as_root dpkg --configure -a >/dev/null 2>&1 || true
        sleep $((attempt * 5))
    done
    rm -f "$apt_log"
    log "could not install: ${missing[*]}"
    exit 1
}

check_node() {
    # Debian 12's own nodejs is 18, too old for Vite 7, so Node is not an apt package here.
    local help="install Node.js 20.19+ or 22.12+ (nodejs.org, NodeSource or nvm), then rerun"
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        log "node/npm are missing: $help"
        exit 1
    fi
    if ! node -e '
        const [major, minor] = process.versions.node.split(".").map(Number);
        process.exit(major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19) ? 0 : 1);
    '; then
        log "node $(node --version) is too old for Vite 7: $help"
        exit 1
    fi
    log "node: $(node --version)"
}

install_ui_packages() {
    local ui="$ROOT/ui" stamp="$ROOT/ui/node_modules/.package-lock.json"
    # npm writes node_modules/.package-lock.json on every install: if it is newer than the
    # lock file, node_modules matches the lock file.
    if [ -f "$stamp" ] && [ "$stamp" -nt "$ui/package-lock.json" ]; then
        log "ui packages: up to date"
        return
    fi
    log "ui packages: npm ci"
    (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
}

check_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        log "cargo is missing. Install Rust with rustup:"
        log "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt"
        log "  . \"\$HOME/.cargo/env\""
        exit 1
    fi
    local component
    for component in rustfmt clippy; do
        if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
            log "cargo $component is missing: rustup component add $component"
            exit 1
        fi
    done
    log "rust: $(cargo --version)"
}

# tauri-driver: the WebDriver server for Tauri apps (it starts the app and hands the session
# to WebKitWebDriver); the end-to-end tests (settings panel, drop) drive the real window with it.
install_tauri_driver() {
    if command -v tauri-driver >/dev/null 2>&1; then
        log "tauri-driver: present"
        return
    fi
    log "tauri-driver: cargo install tauri-driver (2.x)"
    cargo install tauri-driver --locked --version '^2' --quiet
}

# cargo-machete: the test command's `machete` step fails on a dependency no crate uses. Pinned so
# a new release cannot change what the step reports; installed only when this version is missing.
MACHETE_VERSION=0.9.2
install_cargo_machete() {
    if cargo machete --version 2>/dev/null | grep -qx "$MACHETE_VERSION"; then
        log "cargo-machete: present"
        return
    fi
    log "cargo-machete: cargo install cargo-machete $MACHETE_VERSION"
    cargo install cargo-machete --locked --version "$MACHETE_VERSION" --quiet
}

install_system_packages
check_node
install_ui_packages
check_rust
install_tauri_driver
install_cargo_machete
