#!/usr/bin/env bash
# Score the leave-one-out checkpoints of recipe FROM again with inference settings changed, without
# training (docs/benchmarks.md, "Leave one source out"): each argument sets one entry of the copied
# bundle's configs/inference.yaml, nested ids joined by "#" as in MONAI bundles. Scores go to
# benchmarks/results/loso_segmentation/<RECIPE>/ beside FROM's training record.
#   FROM=colour3 RECIPE=colour3_flips bash scripts/rescore-loso-segmentation.sh flips=true
#   FROM=colour3 RECIPE=colour3_thr02 bash scripts/rescore-loso-segmentation.sh \
#       'mask_rules#wbc#threshold=0.2' 'mask_rules#nucleus#threshold=0.2'
# MEMBERS names more recipes whose checkpoints of the same arm join FROM's (models/member<N>.pt): each
# window's logits are then the mean of every member's (a deep ensemble).
#   FROM=colour3_pbc2_margin MEMBERS="colour3_pbc2_margin_seed1 colour3_pbc2_margin_seed2" \
#       RECIPE=colour3_pbc2_margin_ensemble3 bash scripts/rescore-loso-segmentation.sh
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
  members=()
  for member in ${MEMBERS:-}; do
    members+=("member$((${#members[@]} + 1)).pt")
    cp "out/loso/$member/bundles/$source/hemseg_segmentation/models/model.pt" "$copy/models/${members[-1]}"
  done
  MEMBER_FILES="${members[*]}" .venv/bin/python - "$copy/configs/inference.yaml" "$@" <<'PY'
import os
import sys

import yaml
from monai.bundle import ConfigParser

path, *settings = sys.argv[1:]
parser = ConfigParser()
parser.read_config(path)
for setting in settings:
    key, value = setting.split("=", 1)
    parser[key] = yaml.safe_load(value)
if members := os.environ["MEMBER_FILES"].split():
    # the mean logits of the bundle's network and each member (references passed in: a comprehension
    # inside a config expression does not see them)
    files = [("model.pt", "@model_sha256"), *((name, "None") for name in members)]
    listed = ", ".join(f"('{name}', {sha})" for name, sha in files)
    parser["network"] = (
        "$(lambda root, channels, backbone, device, layout, files: (lambda nets: lambda x: torch.stack("
        "[n(x) for n in nets]).mean(0))([hemseg_models.load_weights(hemseg_models.segmentation_network("
        "out_channels=channels, backbone=backbone), os.path.join(root, 'models', name), sha).to(device, "
        "memory_format=layout).eval() for name, sha in files]))(@bundle_root, len(@structures), @backbone, @device, "
        f"torch.channels_last if @channels_last else torch.contiguous_format, [{listed}])"
    )
config = parser.get()
config.pop("_meta_", None)  # ConfigParser adds it; the bundle's metadata.json holds it
ConfigParser.export_config_file(config, path, fmt="yaml", sort_keys=False)
PY
  .venv/bin/python - "$results/$source-train.json" "benchmarks/results/loso_segmentation/$from/$source-train.json" \
    "$recipe" "$from" "$@" <<'PY'
import json
import os
import sys

out, record, recipe, source_recipe, *settings = sys.argv[1:]
with open(record) as handle:
    train = json.load(handle)
members = f" averaged with {os.environ['MEMBERS']}'s" if os.environ.get("MEMBERS") else ""
note = f"the {source_recipe} checkpoints{members} scored with {' '.join(settings) or 'the committed settings'}"
train.update(recipe=recipe, note=f"{note}; train_s is theirs")
with open(out, "w") as handle:
    json.dump(train, handle)
PY
  score_arm "$source" "$copy" "$results"
done
