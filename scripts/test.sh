#!/usr/bin/env bash
# README command 2: set up .venv and run the whole test suite. Tests that need the shared
# blood-smear data read HEMSEG_DATA (a relative path is taken from the repository root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
if [ -n "${HEMSEG_DATA:-}" ]; then
  HEMSEG_DATA=$(cd "$HEMSEG_DATA" && pwd)
  export HEMSEG_DATA
fi
exec .venv/bin/python -m pytest "$@"
