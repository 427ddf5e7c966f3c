"""Saving and loading network weights: small (fp16) files, checked by SHA-256, never unpickled code."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from hemseg.data.files import replacing


class WeightsError(RuntimeError):
    """A weight file is missing, altered (SHA-256 mismatch) or does not fit the network."""


def file_sha256(path: str | Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: The largest magnitude fp16 holds; a tensor beyond it (e.g. a batch-norm running variance) stays fp32.
FP16_MAX = torch.finfo(torch.float16).max


def save_weights(network: nn.Module, path: str | Path, half: bool = True) -> str:
    """Save the network's state dict (floating tensors in fp16 when ``half``); return its SHA-256.

    A floating tensor with a value beyond fp16's range (:data:`FP16_MAX`) stays fp32: cast, it would
    turn to infinity. The file is written to a temporary name and renamed, so a reader never sees
    half a file.
    """
    return _save_state(network.state_dict(), Path(path), half)


def _compact(tensor: torch.Tensor, half: bool) -> torch.Tensor:
    tensor = tensor.detach().cpu()
    if not (half and tensor.is_floating_point()) or (tensor.numel() and float(tensor.abs().max()) > FP16_MAX):
        return tensor
    return tensor.to(torch.float16)


def _save_state(state: dict[str, torch.Tensor], path: Path, half: bool) -> str:
    state = {k: _compact(v, half) for k, v in state.items()}
    with replacing(path) as tmp:
        torch.save(state, tmp)
    return file_sha256(path)


def load_weights(
    network: nn.Module, path: str | Path, sha256: str | None = None, keep: Sequence[str] = ()
) -> nn.Module:
    """Load a state dict into ``network`` (cast to its dtype) with ``torch.load(weights_only=True)``.

    Args:
        network: the network to fill.
        path: the weight file.
        sha256: expected hex digest; a mismatch raises before anything is loaded.
        keep: name prefixes of the network's own entries that the file does not replace (a new
            head when a network starts from another task's weights, e.g. ``["network._fc."]``).

    Raises:
        WeightsError: missing file, digest mismatch, or keys/shapes that do not fit.

    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weight file")
    if sha256 is not None and (actual := file_sha256(path)) != sha256.lower():
        raise WeightsError(f"{path}: SHA-256 is {actual}, expected {sha256}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    reference = network.state_dict()
    if keep:
        state = {k: v for k, v in state.items() if not k.startswith(tuple(keep))}
        state |= {k: v for k, v in reference.items() if k.startswith(tuple(keep))}
    try:
        state = {k: v.to(reference[k].dtype) if k in reference else v for k, v in state.items()}
        network.load_state_dict(state)
    except (RuntimeError, KeyError) as err:
        raise WeightsError(f"{path}: does not fit {type(network).__name__} ({err})") from None
    return network


def average_checkpoints(checkpoints: Sequence[str | Path], path: str | Path) -> str:
    """Write the tensor-wise mean of training checkpoints (a weight soup) to ``path``; return its SHA-256.

    Each checkpoint is a state dict of one network (read with ``weights_only=True``). Floating tensors,
    batch-norm running statistics included, are averaged in fp32 and kept in their own dtype; others
    (batch-norm batch counters) are taken from the last checkpoint. The file is written atomically.

    Raises:
        WeightsError: no checkpoints, or checkpoints whose entries differ.
    """
    states = [torch.load(c, map_location="cpu", weights_only=True) for c in checkpoints]
    if not states or any(s.keys() != states[0].keys() for s in states):
        raise WeightsError(f"{', '.join(map(str, checkpoints))}: not checkpoints of one network")
    mean = {
        k: (sum(s[k].float() for s in states) / len(states)).to(v.dtype) if v.is_floating_point() else states[-1][k]
        for k, v in states[0].items()
    }
    return _save_state(mean, Path(path), half=False)


def publish_weights(checkpoint: str | Path, bundle_root: str | Path) -> str:
    """Ship a training checkpoint in a bundle: fp16 ``models/model.pt`` + its SHA-256 in metadata.json.

    The checkpoint (a state dict, read with ``weights_only=True``) is cast to fp16 (as
    :func:`save_weights` does) and written
    atomically; ``configs/metadata.json`` gets the digest under ``hemseg.model_sha256``, which the
    bundle's inference config checks on every load.

    Returns:
        The SHA-256 of the new ``models/model.pt``.
    """
    bundle_root = Path(bundle_root)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    digest = _save_state(state, bundle_root / "models" / "model.pt", half=True)
    _set_metadata(bundle_root, "model_sha256", lambda hemseg: digest)
    return digest


def publish_field_reference(mix: dict[str, float], bundle_root: str | Path) -> dict[str, float]:
    """Record a red-cell classifier's reference mix (:func:`hemseg.models.red_cell_mix`) in its bundle.

    It goes to ``configs/metadata.json`` under ``hemseg.field_reference`` with the SHA-256 of the
    weights it was measured with; :func:`field_reference` reads it back. Returns ``mix``.
    """
    rounded = {k: round(v, 6) for k, v in mix.items()}
    _set_metadata(
        Path(bundle_root), "field_reference", lambda hemseg: {"model_sha256": hemseg["model_sha256"], "mix": rounded}
    )
    return mix


def field_reference(hemseg_meta: dict) -> dict[str, float]:
    """The reference mix of a bundle's field prior, from its ``metadata.json`` ``hemseg`` record.

    Raises:
        WeightsError: none is recorded, or it was measured with other weights than the bundle's.
    """
    record = hemseg_meta.get("field_reference")
    if record is None or record.get("model_sha256") != hemseg_meta.get("model_sha256"):
        raise WeightsError(
            "the field prior's reference mix is missing or was measured with other weights: "
            "run the bundle's configs/field_reference.yaml"
        )
    return dict(record["mix"])


def _set_metadata(bundle_root: Path, key: str, value_of: Callable[[dict], object]) -> None:
    """Set ``hemseg.<key>`` in a bundle's ``configs/metadata.json`` to ``value_of(hemseg)`` (written atomically).

    ``value_of`` gets the file's ``hemseg`` record as it stands, so a value may depend on it.
    """
    import json

    meta_path = bundle_root / "configs" / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    hemseg = meta.setdefault("hemseg", {})
    hemseg[key] = value_of(hemseg)
    with replacing(meta_path) as tmp:
        tmp.write_text(json.dumps(meta, indent=4) + "\n", encoding="utf-8")
