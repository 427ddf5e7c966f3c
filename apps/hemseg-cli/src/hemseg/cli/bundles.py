"""Finding the shipped MONAI bundles and building objects from their configs."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the folder that holds the bundles (default: the repository's bundles/).
BUNDLES_ENV = "HEMSEG_BUNDLES"


def bundle_dir(name: str, override: Path | None = None) -> Path:
    """Return the folder of bundle ``name``: ``override``, else ``$HEMSEG_BUNDLES/name``, else the repo's.

    Raises:
        FileNotFoundError: the folder has no ``configs/inference.yaml``.
    """
    if override is not None:
        folder = Path(override)
    elif os.environ.get(BUNDLES_ENV):
        folder = Path(os.environ[BUNDLES_ENV]) / name
    else:
        folder = Path(__file__).resolve().parents[5] / "bundles" / name
    if not (folder / "configs" / "inference.yaml").is_file():
        raise FileNotFoundError(f"{folder}: not a hemseg bundle (no configs/inference.yaml); pass --bundle")
    return folder


def inference_parser(folder: Path):
    """Parse a bundle's ``configs/inference.yaml`` with its ``metadata.json`` (``@_meta_#...``)."""
    from monai.bundle import ConfigParser

    parser = ConfigParser()
    parser.read_meta(str(folder / "configs" / "metadata.json"))
    parser.read_config(str(folder / "configs" / "inference.yaml"))
    parser["bundle_root"] = str(folder)
    return parser
