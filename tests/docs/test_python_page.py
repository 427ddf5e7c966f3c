"""The first code block of docs/python.md ("hemseg from Python") runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_pipeline_snippet_runs_on_one_photo(tmp_path):
    page = (REPO / "docs" / "python.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", page, re.S).group(1)
    assert "load_analyser()" in snippet and len(snippet.splitlines()) <= 11
    done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    wbc, rbc, diameter, source = done.stdout.splitlines()[0].split()
    assert (wbc, source) == ("2", "estimated") and int(rbc) > 20 and 40 < float(diameter) < 56
    assert "'neutrophil': 50.0" in done.stdout and "'lymphocyte': 50.0" in done.stdout
    classified, counts = done.stdout.splitlines()[3].split(" ", 1)
    assert classified == rbc and sum(int(n) for n in re.findall(r": (\d+)", counts)) == int(rbc)
