#!/usr/bin/env bash
# Cross-lab proxy for the white-cell classifier (docs/benchmarks.md, "Leave one source out"): for each
# labelled source — pbc (8 classes), jtsc_wbc, bccd (5 common classes), all_idb2 (blast / non-blast) —
# train configs/train.yaml as committed on the other three, with one recipe for every arm (EPOCHS,
# default 20, of SAMPLES draws, default 6400: the committed stage 1; a 6 x 3200 trial was too short,
# docs/benchmarks.md; the other sets keep their relative shares), plus
# the overrides in ARGS, then score every image of the source left out (hemseg evaluate
# classification: segmented, central cell cut and classified as hemseg diagnose does; cells marked for
# review for a low probability or for a stain unlike the arm's training sources').
# Each arm is scored twice: as is, and with --adapt (<source>-adapted.json: the statistics of the
# first layers re-estimated on the left-out source's crops where most have an unfamiliar stain).
# CONFIGS adds config files merged over train.yaml (e.g. configs/source_batches.yaml).
# EVALUATE_ONLY=1 scores an arm's existing checkpoint again without training it.
# RECIPE names the arm set (default "baseline"): checkpoints in
# bundles/hemseg_classification/runs/loso/<recipe>/<source>/model.pt, MLflow runs
# "loso-<recipe>-<source>" in runs/mlflow.db, scores in
# benchmarks/results/loso_classification/<recipe>/<source>.json (benchmarks/tables.py).
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${HEMSEG_DATA:-../shared/data}")
epochs=${EPOCHS:-20}
samples=${SAMPLES:-6400}
recipe=${RECIPE:-baseline}
configs="['configs/train.yaml'$(for c in ${CONFIGS:-}; do printf ",'%s'" "$c"; done)]"
bundle=bundles/hemseg_classification
out=out/loso_classification/$recipe
results=benchmarks/results/loso_classification/$recipe
mkdir -p "$out" "$results"
declare -A train_on=(
  [pbc]="{'all_idb2': 0.4, 'jtsc_wbc': 0.3, 'bccd': 0.3}"
  [jtsc_wbc]="{'pbc': 0.55, 'all_idb2': 0.25, 'bccd': 0.2}"
  [bccd]="{'pbc': 0.55, 'all_idb2': 0.25, 'jtsc_wbc': 0.2}"
  [all_idb2]="{'pbc': 0.6, 'jtsc_wbc': 0.2, 'bccd': 0.2}"
)
for source in ${SOURCES:-jtsc_wbc bccd all_idb2 pbc}; do
  shares=${train_on[$source]}
  datasets=$(python3 -c "import ast, sys; print(list(ast.literal_eval(sys.argv[1])))" "$shares")
  if [ -z "${EVALUATE_ONLY:-}" ]; then
    start=$(date +%s)
    # shellcheck disable=SC2086
    (cd "$bundle" && ../../.venv/bin/python -m monai.bundle run --config_file "$configs" \
      --bundle_root . --data_root "$data" --datasets "$datasets" --dataset_share "$shares" \
      --max_epochs "$epochs" --samples_per_epoch "$samples" --val_interval "$epochs" \
      --ckpt_dir "runs/loso/$recipe/$source" --run_name "loso-$recipe-$source" ${ARGS:-})
    echo "{\"recipe\": \"$recipe\", \"left_out\": \"$source\", \"epochs\": $epochs, \"samples_per_epoch\": $samples, \"args\": \"${ARGS:-}\", \"configs\": \"${CONFIGS:-}\", \"train_s\": $(($(date +%s) - start))}" \
      > "$results/$source-train.json"
  fi
  copy=$out/bundles/$source/hemseg_classification
  rm -rf "$copy" && mkdir -p "$copy/models" && cp -r "$bundle/configs" "$bundle/LICENSE" "$copy/"
  ln -sfn "$(realpath bundles/hemseg_segmentation)" "$(dirname "$copy")/hemseg_segmentation"  # its patcher
  # an override of the network (--norm, --colour_norm) holds for the copy's inference.yaml too
  # shellcheck disable=SC2086
  .venv/bin/python scripts/override-inference.py "$copy/configs/inference.yaml" ${ARGS:-}
  .venv/bin/python -c "import sys; from hemseg.models import publish_weights; publish_weights(sys.argv[1], sys.argv[2])" \
    "$bundle/runs/loso/$recipe/$source/model.pt" "$copy"
  # the stain reference of the arm's own training sources: the evaluation marks cells of an unfamiliar
  # stain for review as hemseg diagnose does
  (cd "$bundle" && ../../.venv/bin/python -m monai.bundle run \
    --config_file "['configs/train.yaml','configs/stain_reference.yaml']" --bundle_root . --data_root "$data" \
    --datasets "$datasets" --dataset_share "$shares" --stain_reference_file "$(realpath "$OLDPWD/$copy")/models/stain_reference.json")
  .venv/bin/hemseg evaluate classification "$data/$source" --split all --bundle "$copy" --no-adapt \
    --json "$results/$source.json"
  # and as one lab's cells: the first layers' statistics re-estimated on them where their stain is
  # unfamiliar (a network with group normalisation has no such statistics)
  if [[ "${ARGS:-}" != *"--norm group"* ]]; then
    .venv/bin/hemseg evaluate classification "$data/$source" --split all --bundle "$copy" \
      --json "$results/$source-adapted.json"
  fi
done
