"""Entry point of the ``hemseg`` command."""

from __future__ import annotations

import warnings

import typer

from hemseg.cli.data import data_app
from hemseg.cli.evaluate import evaluate_app

app = typer.Typer(
    name="hemseg",
    help="Blood-smear white-cell segmentation, classification and decision-support reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data_app, name="data")
app.add_typer(evaluate_app, name="evaluate")


def main() -> None:
    """Run the ``hemseg`` command."""
    # MONAI's PIL reader hands read-only arrays to torch, which warns once per process; nothing writes them
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    app()
