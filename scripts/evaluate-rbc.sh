#!/usr/bin/env bash
# Score the shipped red-cell classifier on the validation photos of chula_rbc (the figures in
# bundles/hemseg_rbc_classification/docs/README.md) and count what it calls the red cells of bccd
# and all_idb1 validation photos, at each set's red-cell diameter and at the scale the pipeline
# estimates per photo. Writes benchmarks/results/rbc/{chula_rbc,sets,sets_estimated}.json.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${HEMSEG_DATA:-../shared/data}
mkdir -p benchmarks/results/rbc
.venv/bin/hemseg evaluate rbc "$data/chula_rbc" --split val --json benchmarks/results/rbc/chula_rbc.json
HEMSEG_DATA=$data .venv/bin/python benchmarks/rbc_sets.py --json benchmarks/results/rbc/sets.json
HEMSEG_DATA=$data .venv/bin/python benchmarks/rbc_sets.py --scale estimated --json benchmarks/results/rbc/sets_estimated.json
