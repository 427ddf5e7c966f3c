#!/usr/bin/env bash
# Score the shipped segmentation weights on the validation split of every shared dataset with masks
# (the figures in bundles/hemseg_segmentation/docs/README.md). Writes out/segmentation-<dataset>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${HEMSEG_DATA:-../shared/data}
mkdir -p out
for dataset in bccd jtsc_wbc all_idb2 all_idb1; do
  .venv/bin/hemseg evaluate segmentation "$data/$dataset" --split "${SPLIT:-val}" --json "out/segmentation-$dataset.json"
done
