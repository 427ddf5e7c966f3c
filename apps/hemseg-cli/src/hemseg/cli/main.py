"""Entry point of the ``hemseg`` command."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from hemseg.cli.data import data_app
from hemseg.cli.diagnose import diagnose
from hemseg.cli.evaluate import evaluate_app
from hemseg.cli.review import review

#: The distributions whose versions ``hemseg --version`` prints.
DISTRIBUTIONS = ("hemseg-cli", "hemseg-data", "hemseg-models", "hemseg-postproc", "hemseg-diagnosis", "hemseg-review")

app = typer.Typer(
    name="hemseg",
    help="Blood-smear white-cell segmentation, classification and decision-support reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data_app, name="data")
app.add_typer(evaluate_app, name="evaluate")
app.command("diagnose")(diagnose)
app.command("review")(review)


def _version(value: bool) -> None:
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    typer.echo(f"hemseg {installed('hemseg-cli')}")
    for name in DISTRIBUTIONS[1:]:
        typer.echo(f"  {name} {installed(name)}")
    raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the versions and exit.")
    ] = False,
) -> None:
    """Blood-smear white-cell segmentation, classification and decision-support reports."""


@app.command("sample")
def sample(
    path: Annotated[Path, typer.Argument(help="PNG file to write.")] = Path("out/sample-smear.png"),
    seed: Annotated[int, typer.Option(help="Seed of the drawing.")] = 0,
) -> None:
    """Draw a synthetic 640x480 smear photo (red cells, a neutrophil, a lymphocyte) to try hemseg diagnose."""
    from hemseg.diagnosis import write_sample

    typer.echo(str(write_sample(path, seed)))


def main() -> None:
    """Run the ``hemseg`` command."""
    # MONAI's PIL reader hands read-only arrays to torch, which warns once per process; nothing writes them
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    app()
