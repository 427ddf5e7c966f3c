"""Carry a training run's --key value overrides into a bundle copy's inference config.

Usage: python scripts/override-inference.py COPY/configs/inference.yaml [--key value ...]

Each ``--key value`` pair whose key is a top-level entry of the file (``colour_norm``, ``norm``)
replaces that entry's value, so that the copy builds the network the run trained; other keys are
training-only and left alone. Used by the leave-one-source-out scripts.
"""

import re
import sys

path, args = sys.argv[1], sys.argv[2:]
with open(path) as handle:
    text = handle.read()
for key, value in zip(args[::2], args[1::2], strict=True):
    text = re.sub(rf"^{key[2:]}: .*$", f"{key[2:]}: {value}", text, flags=re.M)
with open(path, "w") as handle:
    handle.write(text)
