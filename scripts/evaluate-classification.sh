#!/usr/bin/env bash
# Score the shipped classifier on the validation split of every shared dataset of labelled crops
# (the figures in bundles/hemseg_classification/docs/README.md and Table 2 of docs/benchmarks.md).
# Writes benchmarks/results/classification/<dataset>.json (SPLIT=all|train: out/classification-$SPLIT/).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${HEMSEG_DATA:-../shared/data}
split=${SPLIT:-val}
dest=benchmarks/results/classification
[ "$split" = val ] || dest=out/classification-$split
mkdir -p "$dest"
for dataset in pbc all_idb2 jtsc_wbc bccd; do
  .venv/bin/hemseg evaluate classification "$data/$dataset" --split "$split" --json "$dest/$dataset.json"
done
