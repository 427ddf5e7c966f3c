"""The shipped MONAI bundles: where they are, their configs parsed, the objects they build.

The bundles (``hemseg_segmentation``, ``hemseg_classification``, ``hemseg_rbc_classification``,
``hemseg_diagnose``) ship inside the ``hemseg-models`` wheel as package data
(``hemseg/models/bundles/``); in a source checkout they are the repository's ``bundles/`` folder.
``$HEMSEG_BUNDLES`` points at another folder of bundles.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

#: Environment variable naming a folder that holds the bundles (default: the shipped ones).
BUNDLES_ENV = "HEMSEG_BUNDLES"


def shipped_bundles() -> Path:
    """The folder of the shipped bundles: in the installed package, else the source checkout's ``bundles/``.

    Raises:
        FileNotFoundError: neither exists.
    """
    here = Path(__file__).resolve().parent
    for folder in (here / "bundles", here.parents[4] / "bundles"):
        if (folder / "hemseg_diagnose" / "configs").is_dir():
            return folder
    raise FileNotFoundError(f"no shipped bundles beside {here}; set {BUNDLES_ENV} to a folder of hemseg bundles")


def bundle_dir(name: str, override: str | Path | None = None) -> Path:
    """The folder of bundle ``name``: ``override``, else ``$HEMSEG_BUNDLES/name``, else the shipped one.

    Raises:
        FileNotFoundError: the folder has no ``configs/inference.yaml``.
    """
    if override is not None:
        folder = Path(override)
    elif os.environ.get(BUNDLES_ENV):
        folder = Path(os.environ[BUNDLES_ENV]) / name
    else:
        folder = shipped_bundles() / name
    if not (folder / "configs" / "inference.yaml").is_file():
        raise FileNotFoundError(f"{folder}: not a hemseg bundle (no configs/inference.yaml)")
    return folder


def cache_dir() -> Path:
    """Folder for exported ONNX networks: ``$HEMSEG_CACHE``, else ``~/.cache/hemseg``."""
    return Path(os.environ.get("HEMSEG_CACHE") or Path.home() / ".cache" / "hemseg")


class Bundle:
    """A bundle's ``configs/inference.yaml`` parsed with its ``metadata.json`` (``@_meta_#...``).

    Args:
        root: the bundle folder.
        overrides: config keys to replace before anything is built (as on the command line).
    """

    def __init__(self, root: str | Path, **overrides: object) -> None:
        from monai.bundle import ConfigParser

        self.root = Path(root)
        self.parser = ConfigParser()
        self.parser.read_meta(str(self.root / "configs" / "metadata.json"))
        self.parser.read_config(str(self.root / "configs" / "inference.yaml"))
        self.parser["bundle_root"] = str(self.root)
        for key, value in overrides.items():
            self.parser[key] = value
        self._settings = json.dumps(
            {k: v for k, v in self.parser.get().items() if k not in ("_meta_", "bundle_root")},
            sort_keys=True,
            default=str,
        )

    @property
    def name(self) -> str:
        """The bundle's folder name."""
        return self.root.name

    @property
    def meta(self) -> dict:
        """The parsed ``metadata.json``."""
        return self.parser["_meta_"]

    def get(self, key: str) -> object:
        """A config value as written (``#`` separates nested keys)."""
        return self.parser[key]

    def item(self, key: str) -> object:
        """The object a config key builds (``@`` references and ``$`` expressions evaluated)."""
        return self.parser.get_parsed_content(key)

    def settings(self) -> str:
        """The config as read, with its overrides, without ``_meta_`` and ``bundle_root``, as sorted JSON.

        It names caches of the bundle's outputs and enters the reports' settings hash.
        """
        return self._settings

    def provenance(self) -> dict[str, dict]:
        """``{name: {"version", "sha256", "settings_sha256"}}`` of this bundle.

        ``sha256`` is that of its weights (None for a bundle without), ``settings_sha256`` that of its
        config (:meth:`settings`), so a changed setting is told apart from the same run.
        """
        import hashlib

        meta = self.meta
        return {
            self.name: {
                "version": meta["version"],
                "sha256": meta.get("hemseg", {}).get("model_sha256"),
                "settings_sha256": hashlib.sha256(self.settings().encode()).hexdigest(),
            }
        }

    def run_on_onnx(self, onnx_dir: str | Path, size: int, in_channels: int = 3) -> Bundle:
        """Replace the config's ``network`` by the same network through ONNX Runtime; return ``self``.

        The network is exported once to ``onnx_dir``, as ``<bundle>-<first 16 hex digits of the
        weights' SHA-256>-<first 8 of the network's settings'>-<size>.onnx`` (new weights or a new
        ``network_def``, such as another ``input_zoom``: new file); ``size`` is the side of its square input.
        """
        import hashlib
        import json

        import torch

        from hemseg.models.export import OnnxNetwork, export_onnx

        sha256 = str(self.item("model_sha256"))
        network_def = {key: self.parser.get_parsed_content(f"network_def#{key}") for key in self.parser["network_def"]}
        network_sha256 = hashlib.sha256(json.dumps(network_def, sort_keys=True, default=str).encode()).hexdigest()
        path = Path(onnx_dir) / f"{self.name}-{sha256[:16]}-{network_sha256[:8]}-{int(size)}.onnx"
        if not path.is_file():
            export_onnx(self.item("network"), path, roi_size=int(size), in_channels=in_channels)
        self.parser["network"] = OnnxNetwork(path, threads=torch.get_num_threads())
        self.parser["channels_last"] = False
        return self


def has_onnxruntime() -> bool:
    """Whether ONNX Runtime is installed (``pip install hemseg-models[onnx]``)."""
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def check_patches(patches: Mapping[str, object], segmentation: Bundle) -> None:
    """Check that a classifier's training patches came from this segmentation bundle's weights.

    ``patches`` is the classification bundle's ``metadata.json`` ``hemseg#patches`` record.

    Raises:
        hemseg.models.WeightsError: the segmentation weights differ from those the patches were cut with.
    """
    from hemseg.models.weights import WeightsError

    expected, actual = patches.get("segmentation_sha256"), segmentation.meta.get("hemseg", {}).get("model_sha256")
    if expected != actual:
        raise WeightsError(
            f"{segmentation.root}: segmentation weights {str(actual)[:12]}... differ from those the classifier "
            f"was trained on ({str(expected)[:12]}...); retrain the classifier or use its segmentation bundle"
        )


def patcher_from_bundle(
    segmentation_bundle: str | Path,
    patches: Mapping[str, object],
    onnx_dir: str | Path | None = None,
):
    """A :class:`hemseg.postproc.CellPatcher` on the segmentation bundle, cutting ``patches``' geometry.

    ``patches`` holds ``segmentation_roi_size`` (the sliding-window side: a single 256 window covers
    a whole single-cell crop), ``target_rbc_px`` and ``patch_size``, and ``segmentation_sha256``
    (checked, :func:`check_patches`), as the classification bundle's metadata records them. With
    ``onnx_dir`` the network runs through ONNX Runtime (:meth:`Bundle.run_on_onnx`).
    """
    from hemseg.postproc import CellPatcher

    roi_size = int(patches["segmentation_roi_size"])
    segmentation = Bundle(segmentation_bundle, roi_size=roi_size)
    check_patches(patches, segmentation)
    settings = segmentation.settings()
    if onnx_dir is not None:
        segmentation.run_on_onnx(onnx_dir, roi_size)
    return CellPatcher(
        segmenter=segmentation.item("segmenter"),
        structures=list(segmentation.get("structures")),
        mask_rules=segmentation.get("mask_rules"),
        split_distance=float(segmentation.get("split_distance")),
        target_rbc_px=float(patches["target_rbc_px"]),
        patch_size=int(patches["patch_size"]),
        segmentation_sha256=str(segmentation.item("model_sha256")),
        segmentation_settings=settings,
    )


def load_analyser(bundle: str | Path | None = None, onnx: bool = True, **overrides: object):
    """The whole pipeline, :class:`hemseg.diagnosis.SmearAnalyser`, from the ``hemseg_diagnose`` bundle.

    Args:
        bundle: the ``hemseg_diagnose`` folder (default: :func:`bundle_dir`).
        onnx: run both networks through ONNX Runtime when it is installed (faster on a CPU).
        overrides: config keys of the ``hemseg_diagnose`` bundle to replace.
    """
    diagnose = Bundle(bundle_dir("hemseg_diagnose", bundle), onnx=onnx and has_onnxruntime(), **overrides)
    return diagnose.item("analyser")
