#!/usr/bin/env bash
# README command 1: set up .venv, draw a synthetic smear photo and run hemseg diagnose on it, writing
# out/diagnose/ (summary.csv, report.html, per-image report.json, cells.csv, cells.geojson, overlay.png).
# Needs no data and no network. HEMSEG_INPUT=photo-or-folder diagnoses your own photos instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh
mkdir -p out
input=${HEMSEG_INPUT:-$(.venv/bin/hemseg sample out/sample-smear.png)}
.venv/bin/hemseg diagnose "$input" --out out/diagnose
echo "open out/diagnose/report.html"
