#!/usr/bin/env bash
# Runs Upshot. With no arguments it starts the sandbox (an Imgur-compatible server on loopback)
# in the foreground when no Client ID is configured, and prints how to upload to it.
# With arguments it runs `upshot ARGS...`, adding --sandbox when no Client ID is configured.
#   scripts/run.sh                    # the sandbox, for trying Upshot by hand
#   scripts/run.sh upload shot.png    # upload (to the sandbox unless a Client ID is set)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust from https://rustup.rs, then run this again." >&2
  exit 1
fi
cargo build --quiet --locked -p upshot-cli
upshot=target/debug/upshot
client_id="${UPSHOT_CLIENT_ID:-$("$upshot" config get client-id 2>/dev/null || true)}"
if [ $# -eq 0 ]; then
  if [ -z "$client_id" ]; then
    exec "$upshot" sandbox
  fi
  exec "$upshot" --help
fi
if [ -z "$client_id" ]; then
  exec "$upshot" --sandbox "$@"
fi
exec "$upshot" "$@"
