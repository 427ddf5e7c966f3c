#!/usr/bin/env bash
# Score the leave-one-out checkpoints of recipe FROM again with inference settings changed, without
# training (docs/benchmarks.md, "Leave one source out"): each argument sets one entry of the copied
# bundle's configs/inference.yaml, nested ids joined by "#" as in MONAI bundles. Scores go to
# benchmarks/results/loso_segmentation/<RECIPE>/ beside FROM's training record.
#   FROM=colour3 RECIPE=colour3_flips bash scripts/rescore-loso-segmentation.sh flips=true
#   FROM=colour3 RECIPE=colour3_thr02 bash scripts/rescore-loso-segmentation.sh \
#       'mask_rules#wbc#threshold=0.2' 'mask_rules#nucleus#threshold=0.2'
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${HEMSEG_DATA:-../shared/data}")
from=${FROM:?name the recipe whose checkpoints to score}
recipe=${RECIPE:?name the new recipe}
results=benchmarks/results/loso_segmentation/$recipe
mkdir -p "$results"
source scripts/loso-segmentation-scoring.sh
for source in ${SOURCES:-bccd jtsc_wbc all_idb}; do
  copy=out/loso/$recipe/bundles/$source/hemseg_segmentation
  rm -rf "$copy" && mkdir -p "$(dirname "$copy")"
  cp -r "out/loso/$from/bundles/$source/hemseg_segmentation" "$copy"
  cp bundles/hemseg_segmentation/configs/inference.yaml "$copy/configs/"
  .venv/bin/python - "$copy/configs/inference.yaml" "$@" <<'PY'
import sys

import yaml
from monai.bundle import ConfigParser

path, *settings = sys.argv[1:]
parser = ConfigParser()
parser.read_config(path)
for setting in settings:
    key, value = setting.split("=", 1)
    parser[key] = yaml.safe_load(value)
config = parser.get()
config.pop("_meta_", None)  # ConfigParser adds it; the bundle's metadata.json holds it
ConfigParser.export_config_file(config, path, fmt="yaml", sort_keys=False)
PY
  .venv/bin/python - "$results/$source-train.json" "benchmarks/results/loso_segmentation/$from/$source-train.json" \
    "$recipe" "$from" "$@" <<'PY'
import json
import sys

out, record, recipe, source_recipe, *settings = sys.argv[1:]
with open(record) as handle:
    train = json.load(handle)
train.update(recipe=recipe, note=f"the {source_recipe} checkpoints scored with {' '.join(settings)}; train_s is theirs")
with open(out, "w") as handle:
    json.dump(train, handle)
PY
  score_arm "$source" "$copy" "$results"
done
