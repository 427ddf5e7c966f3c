#!/usr/bin/env bash
# README command 2: set up .venv (and Debian's chromium for the browser tests) and run the whole
# test suite. Tests that need the shared blood-smear data read HEMSEG_DATA (a relative path is taken
# from the repository root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
# the review app's browser tests drive Debian's chromium (Playwright cannot download a browser here)
if [ -z "${HEMSEG_CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
if [ -n "${HEMSEG_DATA:-}" ]; then
  HEMSEG_DATA=$(cd "$HEMSEG_DATA" && pwd)
  export HEMSEG_DATA
fi
exec .venv/bin/python -m pytest "$@"
