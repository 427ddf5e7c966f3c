"""hemseg.models: networks, losses, engine glue and weight files for smear segmentation and cell classification."""

from hemseg.models.classifier import Classifier
from hemseg.models.engines import (
    known_structures_output,
    partial_label_output,
    prepare_classification_batch,
    prepare_segmentation_batch,
)
from hemseg.models.export import OnnxNetwork, export_onnx
from hemseg.models.losses import UNKNOWN, MaskedDiceCELoss, PartialLabelCELoss, mark_unknown
from hemseg.models.networks import (
    ARCHITECTURES,
    COLOUR_NORMS,
    ColourNormalised,
    ColourStandardised,
    SlideReferenced,
    classification_network,
    segmentation_network,
)
from hemseg.models.segmenter import Segmenter
from hemseg.models.weights import WeightsError, file_sha256, load_weights, publish_weights, save_weights

__all__ = [
    "ARCHITECTURES",
    "COLOUR_NORMS",
    "UNKNOWN",
    "Classifier",
    "ColourNormalised",
    "ColourStandardised",
    "MaskedDiceCELoss",
    "OnnxNetwork",
    "PartialLabelCELoss",
    "Segmenter",
    "SlideReferenced",
    "WeightsError",
    "classification_network",
    "export_onnx",
    "file_sha256",
    "known_structures_output",
    "load_weights",
    "mark_unknown",
    "partial_label_output",
    "prepare_classification_batch",
    "prepare_segmentation_batch",
    "publish_weights",
    "save_weights",
    "segmentation_network",
]
