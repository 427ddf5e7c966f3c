from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from hemseg.cli.main import app


def test_help_does_not_import_torch_or_monai():
    code = (
        "import sys; from hemseg.cli.main import app; from typer.testing import CliRunner;"
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output;"
        "assert 'data' in r.output;"
        "print(sorted(m for m in ('torch', 'monai', 'skimage') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_summary_prints_counts_and_writes_json(data_root, tmp_path):
    out = tmp_path / "report" / "summary.json"
    result = CliRunner().invoke(app, ["data", "summary", str(data_root), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "bccd: 295 images, 295 source groups" in result.output
    assert "all_idb1: 52 images, 47 source groups" in result.output
    summaries = {d["name"]: d for d in json.loads(out.read_text())["datasets"]}
    assert summaries["pbc"]["images"] == 10803
    assert summaries["all_idb1"]["masks"] == {"wbc": 51, "rbc": 11}
    assert sum(summaries["bccd"]["split"][k] for k in ("train", "val")) == 295
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind


def test_summary_measures_cell_sizes(data_root):
    result = CliRunner().invoke(app, ["data", "summary", str(data_root / "bccd"), "--sizes", "--json", "-"])
    assert result.exit_code == 0, result.output
    sizes = json.loads(result.output)["datasets"][0]["sizes_px"]
    assert 90 <= sizes["rbc_box"] <= 110  # README: red cells about 100 px across in bccd
    assert 160 <= sizes["wbc"] <= 210  # README: white cells about 170 px


def test_summary_measures_how_nuclei_are_drawn(data_root):
    result = CliRunner().invoke(app, ["data", "summary", str(data_root / "jtsc_wbc"), "--nuclei"])
    assert result.exit_code == 0, result.output
    # jtsc_wbc's experts trace a neutrophil's lobes: a third of the cell, far from convex (docs/howto/data.md)
    assert "nuclei      neutrophil: 0.335 of the cell, solidity 0.761 (176 cells; medians)" in result.output
    assert "nuclei      lymphocyte: 0.610 of the cell, solidity 0.969 (53 cells; medians)" in result.output


def test_bad_folder_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["data", "summary", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"hemseg: error: {tmp_path / 'nowhere'}: no such directory"]
