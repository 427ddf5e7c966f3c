#!/usr/bin/env bash
# Create or update the project environment in .venv (Python 3.11 + pip are all it needs).
# torch is installed first, pinned by constraints.txt to the CPU wheel; then the six hemseg
# distributions (editable, with the [train] extra: Ignite, MLflow with its UI, fire) and the
# test/doc tools. Re-running is a no-op until a pin or a
# pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${HEMSEG_VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
stamp=$(cat constraints.txt requirements/dev.txt packages/*/pyproject.toml apps/*/pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$VENV/.hemseg-stamp" 2>/dev/null)" != "$stamp" ]; then
  pip=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt)
  "${pip[@]}" torch==2.13.0
  "${pip[@]}" -r requirements/dev.txt \
    -e packages/hemseg-data -e packages/hemseg-models -e packages/hemseg-postproc \
    -e packages/hemseg-diagnosis -e packages/hemseg-review -e "apps/hemseg-cli[train]"
  echo "$stamp" > "$VENV/.hemseg-stamp"
fi
