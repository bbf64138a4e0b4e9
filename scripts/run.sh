#!/usr/bin/env bash
# Runs Upshot.
#   scripts/run.sh                    # the desktop app (sandbox mode when no Client ID is set)
#   scripts/run.sh upload shot.png    # the CLI: upload (to the sandbox unless a Client ID is set)
# With no display (a server, SSH), no arguments start the sandbox server in the foreground
# instead, for trying the CLI by hand. On Debian the first run installs what is missing
# (scripts/install-deps.sh: system packages, the UI's npm packages).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust from https://rustup.rs, then run this again." >&2
  exit 1
fi
if [ -f /etc/debian_version ]; then
  bash scripts/install-deps.sh
fi
cargo build --quiet --locked -p upshot-cli
upshot=target/debug/upshot
client_id="${UPSHOT_CLIENT_ID:-$("$upshot" config get client-id 2>/dev/null || true)}"
if [ $# -eq 0 ]; then
  if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" = Darwin ]; then
    (cd ui && npm run build --silent)
    # The app starts its own sandbox when no Client ID is configured.
    exec cargo run --quiet --locked -p upshot-desktop
  fi
  if [ -z "$client_id" ]; then
    echo "No display: running the sandbox server for the CLI (scripts/run.sh upload FILE)." >&2
    exec "$upshot" sandbox
  fi
  exec "$upshot" --help
fi
if [ -z "$client_id" ]; then
  exec "$upshot" --sandbox "$@"
fi
exec "$upshot" "$@"
