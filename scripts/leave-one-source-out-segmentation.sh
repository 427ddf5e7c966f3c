#!/usr/bin/env bash
# Cross-device proxy for the segmentation (docs/benchmarks.md, "Leave one source out"): for each masked
# source — bccd; jtsc_wbc; ALL-IDB (all_idb2 + all_idb1, one camera) — train configs/train.yaml as
# committed on the other sources, with one short recipe for every arm (EPOCHS, default 6, as in the
# architecture comparison) plus the overrides in ARGS, then score every image of the source left out.
# RECIPE names the arm set (default "baseline"): checkpoints in
# bundles/hemseg_segmentation/runs/loso/<recipe>/<source>/model.pt, MLflow runs
# "loso-<recipe>-<source>" in runs/mlflow.db, scores in
# benchmarks/results/loso_segmentation/<recipe>/<source>-<dataset>.json (benchmarks/tables.py).
#   RECIPE=colour3 ARGS="--colour_strength 3" bash scripts/leave-one-source-out-segmentation.sh
# PSEUDO_FROM=<recipe> self-trains (configs/self_training.yaml): each arm first pseudo-labels pbc
# photos with that recipe's arm for the same left-out source, built by the arm's own inference.yaml
# (configs/pseudo_labels.yaml, into
# out/pseudo/<RECIPE>/<source>/, with the overrides in PSEUDO_ARGS), then trains on them beside its
# labelled sources. colour3_pbc (2026-12-02) drew the platelet crops too, no longer the default:
#   RECIPE=colour3_pbc PSEUDO_FROM=colour3 PSEUDO_ARGS="--skip_labels []" ARGS="--colour_strength 3" \
#     bash scripts/leave-one-source-out-segmentation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${HEMSEG_DATA:-../shared/data}")
epochs=${EPOCHS:-6}
recipe=${RECIPE:-baseline}
bundle=bundles/hemseg_segmentation
out=out/loso/$recipe
results=benchmarks/results/loso_segmentation/$recipe
mkdir -p "$out" "$results"
declare -A train_on=(
  [bccd]="['jtsc_wbc','all_idb2','all_idb1']"
  [jtsc_wbc]="['bccd','all_idb2','all_idb1']"
  [all_idb]="['bccd','jtsc_wbc']"
)
source scripts/loso-segmentation-scoring.sh
for source in ${SOURCES:-bccd jtsc_wbc all_idb}; do
  start=$(date +%s)
  configs="'configs/train.yaml'"
  pseudo=()
  if [ -n "${PSEUDO_FROM:-}" ]; then
    teacher=out/loso/$PSEUDO_FROM/bundles/$source/hemseg_segmentation
    pseudo_root=$(realpath -m "out/pseudo/$recipe/$source")
    # shellcheck disable=SC2086
    .venv/bin/python -m monai.bundle run --bundle_root "$teacher" --meta_file "$teacher/configs/metadata.json" \
      --config_file "['$teacher/configs/inference.yaml','$bundle/configs/pseudo_labels.yaml']" \
      --dataset_dir "$data/pbc" --output_dir "$pseudo_root/pbc" ${PSEUDO_ARGS:-}
    configs="$configs,'configs/self_training.yaml'"
    pseudo=(--pseudo_root "$pseudo_root")
  fi
  # shellcheck disable=SC2086
  (cd "$bundle" && ../../.venv/bin/python -m monai.bundle run --config_file "[$configs]" \
    --bundle_root . --data_root "$data" --datasets "${train_on[$source]}" --max_epochs "$epochs" \
    --val_interval "$epochs" --ckpt_dir "runs/loso/$recipe/$source" --run_name "loso-$recipe-$source" \
    "${pseudo[@]}" ${ARGS:-})
  echo "{\"recipe\": \"$recipe\", \"left_out\": \"$source\", \"epochs\": $epochs, \"args\": \"${ARGS:-}\", \"pseudo_from\": \"${PSEUDO_FROM:-}\", \"train_s\": $(($(date +%s) - start))}" \
    > "$results/$source-train.json"
  copy=$out/bundles/$source/hemseg_segmentation
  rm -rf "$copy" && mkdir -p "$copy/models" && cp -r "$bundle/configs" "$bundle/LICENSE" "$copy/"
  # an override of the network (--colour_norm) holds for the copy's inference.yaml too
  # shellcheck disable=SC2086
  .venv/bin/python scripts/override-inference.py "$copy/configs/inference.yaml" ${ARGS:-}
  .venv/bin/python -c "import sys; from hemseg.models import publish_weights; publish_weights(sys.argv[1], sys.argv[2])" \
    "$bundle/runs/loso/$recipe/$source/model.pt" "$copy"
  score_arm "$source" "$copy" "$results"
done
