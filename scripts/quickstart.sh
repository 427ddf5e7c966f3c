#!/usr/bin/env bash
# README command 1: set up .venv and run the main job on the shared data, writing out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
data=${HEMSEG_DATA:-../shared/data}
mkdir -p out
.venv/bin/hemseg data summary "$data" --sizes --json out/data-summary.json
echo "wrote out/data-summary.json"
