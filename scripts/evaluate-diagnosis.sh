#!/usr/bin/env bash
# Check hemseg diagnose on the shared data (the figures in docs/howto/diagnose.md): BCCD validation
# fields (white-cell boxes found, red-cell and platelet counts vs boxes, scale vs red-cell boxes) and
# ALL-IDB1 fields (flags vs the all/healthy labels: validation split, then all 52 fields).
# Writes out/diagnosis-<dataset>-<split>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${HEMSEG_DATA:-../shared/data}
mkdir -p out
.venv/bin/hemseg evaluate diagnosis "$data/bccd" --split val --json out/diagnosis-bccd-val.json
.venv/bin/hemseg evaluate diagnosis "$data/all_idb1" --split val --json out/diagnosis-all_idb1-val.json
.venv/bin/hemseg evaluate diagnosis "$data/all_idb1" --split all --json out/diagnosis-all_idb1-all.json
