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


def onnx_network(parser, name: str, onnx_dir: Path, size: int, in_channels: int = 3):
    """The bundle's ``network`` through ONNX Runtime, exported once to ``onnx_dir``.

    The file is named ``<name>-<first 16 hex digits of the weights' SHA-256>-<size>.onnx``, so new
    weights get a new export. ``size`` is the side of the network's square input.
    """
    import torch

    from hemseg.models import OnnxNetwork, export_onnx

    sha256 = str(parser.get_parsed_content("model_sha256"))
    path = Path(onnx_dir) / f"{name}-{sha256[:16]}-{size}.onnx"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        export_onnx(parser.get_parsed_content("network"), path, roi_size=int(size), in_channels=in_channels)
    return OnnxNetwork(path, threads=torch.get_num_threads())
