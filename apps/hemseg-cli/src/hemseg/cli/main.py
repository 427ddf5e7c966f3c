"""Entry point of the ``hemseg`` command."""

from __future__ import annotations

import typer

from hemseg.cli.data import data_app

app = typer.Typer(
    name="hemseg",
    help="Blood-smear white-cell segmentation, classification and decision-support reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data_app, name="data")


def main() -> None:
    """Run the ``hemseg`` command."""
    app()
