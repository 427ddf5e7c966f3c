"""hemseg.models: networks, losses, engine glue and weight files for smear segmentation."""

from hemseg.models.engines import known_structures_output, prepare_segmentation_batch
from hemseg.models.export import OnnxNetwork, export_onnx
from hemseg.models.losses import UNKNOWN, MaskedDiceCELoss, mark_unknown
from hemseg.models.networks import segmentation_network
from hemseg.models.segmenter import Segmenter
from hemseg.models.weights import WeightsError, file_sha256, load_weights, publish_weights, save_weights

__all__ = [
    "UNKNOWN",
    "MaskedDiceCELoss",
    "OnnxNetwork",
    "Segmenter",
    "WeightsError",
    "export_onnx",
    "file_sha256",
    "known_structures_output",
    "load_weights",
    "mark_unknown",
    "prepare_segmentation_batch",
    "publish_weights",
    "save_weights",
    "segmentation_network",
]
