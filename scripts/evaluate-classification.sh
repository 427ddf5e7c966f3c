#!/usr/bin/env bash
# Score the shipped classifier on the validation split of every shared dataset of labelled crops
# (the figures in bundles/hemseg_classification/docs/README.md). Writes out/classification-<dataset>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${HEMSEG_DATA:-../shared/data}
mkdir -p out
for dataset in pbc all_idb2 jtsc_wbc bccd; do
  .venv/bin/hemseg evaluate classification "$data/$dataset" --split "${SPLIT:-val}" --json "out/classification-$dataset.json"
done
