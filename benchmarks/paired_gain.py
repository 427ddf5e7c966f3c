"""The accuracy gain between two ``hemseg evaluate rbc`` results on the same photos, with its interval.

    .venv/bin/python benchmarks/paired_gain.py benchmarks/results/rbc/017c812f/chula_rbc.json \
        benchmarks/results/rbc/chula_rbc.json --json benchmarks/results/rbc/paired_gain.json

Reads the ``per_group`` of each result (the points and accuracy of each of the split's groups of
photos: for ``chula_rbc`` the blocks of five neighbouring image ids) and draws the groups again
with replacement, the same draw for both (``hemseg.models.paired_group_bootstrap``): the gain and
its 95 % interval, and the share of draws in which the second scores higher. Where the interval
lies above zero the gain holds whichever groups were held back.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    """Compare, print and write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="hemseg evaluate rbc --json of the first weights")
    parser.add_argument("after", type=Path, help="the same for the second weights, on the same photos")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from hemseg.models import paired_group_bootstrap

    before, after = (json.loads(path.read_text()) for path in (args.before, args.after))
    result = {
        "before": str(args.before),
        "after": str(args.after),
        "accuracy": [before["accuracy"], after["accuracy"]],
        **paired_group_bootstrap(before["per_group"], after["per_group"]),
    }
    low, high = result["interval"]
    print(
        f"accuracy {before['accuracy']:.4f} -> {after['accuracy']:.4f}: gain {result['gain']:+.4f}, "
        f"95 % interval {low:+.4f} to {high:+.4f} over {result['unit_count']} groups drawn again, "
        f"higher in {result['share_above_zero']:.1%} of the draws"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
