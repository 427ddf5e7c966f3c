#!/usr/bin/env bash
# The paper's comparison (docs/benchmarks.md): train the four segmentation architectures with one
# protocol — configs/train.yaml as committed, only `backbone` and the number of epochs (EPOCHS,
# default 6) changed — then score each on the validation split of every dataset with masks.
# Checkpoints: bundles/hemseg_segmentation/runs/compare/<backbone>/model.pt; MLflow runs
# "compare-<backbone>" in runs/mlflow.db; scores and training time:
# benchmarks/results/segmentation/<backbone>-<dataset>.json and <backbone>-train.json (the inputs of
# benchmarks/tables.py, which renders docs/benchmarks.md's Table 1 and plot).
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${HEMSEG_DATA:-../shared/data}")
epochs=${EPOCHS:-6}
bundle=bundles/hemseg_segmentation
out=out/compare
results=benchmarks/results/segmentation
mkdir -p "$out" "$results"
for backbone in ${BACKBONES:-efficientnet-b0 hemseg-resnet34 basic-unet hemseg-vgg16}; do
  start=$(date +%s)
  (cd "$bundle" && ../../.venv/bin/python -m monai.bundle run --config_file configs/train.yaml \
    --bundle_root . --data_root "$data" --backbone "$backbone" --max_epochs "$epochs" \
    --val_interval "$epochs" --ckpt_dir "runs/compare/$backbone" --run_name "compare-$backbone")
  echo "{\"backbone\": \"$backbone\", \"epochs\": $epochs, \"train_s\": $(($(date +%s) - start))}" > "$results/$backbone-train.json"
  # a copy of the bundle that serves this checkpoint, scored like the shipped one
  copy=$out/bundles/$backbone/hemseg_segmentation
  rm -rf "$copy" && mkdir -p "$copy/models" && cp -r "$bundle/configs" "$bundle/LICENSE" "$copy/"
  sed -i "s/^backbone: .*/backbone: $backbone/" "$copy/configs/inference.yaml"
  .venv/bin/python -c "import sys; from hemseg.models import publish_weights; publish_weights(sys.argv[1], sys.argv[2])" \
    "$bundle/runs/compare/$backbone/model.pt" "$copy"
  for dataset in bccd jtsc_wbc all_idb2 all_idb1; do
    .venv/bin/hemseg evaluate segmentation "$data/$dataset" --split val --bundle "$copy" --json "$results/$backbone-$dataset.json"
  done
done
