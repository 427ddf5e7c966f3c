#!/usr/bin/env bash
# Score the shipped segmentation weights on the validation split of every shared dataset with masks
# (the figures in bundles/hemseg_segmentation/docs/README.md and docs/benchmarks.md).
# Writes benchmarks/results/segmentation/shipped-<dataset>.json (SPLIT=all|train: out/segmentation-$SPLIT/).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${HEMSEG_DATA:-../shared/data}
split=${SPLIT:-val}
dest=benchmarks/results/segmentation
[ "$split" = val ] || dest=out/segmentation-$split
mkdir -p "$dest"
for dataset in bccd jtsc_wbc all_idb2 all_idb1; do
  central=()  # crops: also score the cell nearest the centre (ALL-IDB2 annotates only that one)
  case $dataset in jtsc_wbc | all_idb2) central=(--central-cell) ;; esac
  .venv/bin/hemseg evaluate segmentation "$data/$dataset" --split "$split" "${central[@]}" --json "$dest/shipped-$dataset.json"
done
