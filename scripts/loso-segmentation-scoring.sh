# Sourced by the leave-one-source-out segmentation scripts: which sets score each left-out source,
# and how one arm's bundle copy is scored on them.
# shellcheck shell=bash
declare -A score_on=([bccd]="bccd" [jtsc_wbc]="jtsc_wbc" [all_idb]="all_idb2 all_idb1")

# score_arm SOURCE BUNDLE_COPY RESULTS_DIR: every image of the left-out source's sets, as <source>-<set>.json
score_arm() {
  local source=$1 copy=$2 results=$3 dataset
  for dataset in ${score_on[$source]}; do
    local central=()  # crops: also score the cell nearest the centre (their masks annotate only that one)
    case $dataset in jtsc_wbc | all_idb2) central=(--central-cell) ;; esac
    .venv/bin/hemseg evaluate segmentation "$data/$dataset" --split all --bundle "$copy" "${central[@]}" \
      --json "$results/$source-$dataset.json"
  done
}
