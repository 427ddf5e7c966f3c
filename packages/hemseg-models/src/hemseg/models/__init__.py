"""hemseg.models: networks, losses, engine glue and weight files for smear segmentation and cell classification."""

from hemseg.models.bundles import (
    BUNDLES_ENV,
    Bundle,
    bundle_dir,
    cache_dir,
    check_patches,
    has_onnxruntime,
    load_analyser,
    patcher_from_bundle,
    shipped_bundles,
)
from hemseg.models.classifier import Classifier, field_prior, prior_weights, specimen_mix, zoomed
from hemseg.models.distributed import diagnose_sharded
from hemseg.models.engines import (
    known_structures_output,
    partial_label_output,
    prepare_classification_batch,
    prepare_segmentation_batch,
)
from hemseg.models.evaluation import evaluate_classification, evaluate_red_cells, evaluate_segmentation
from hemseg.models.export import OnnxNetwork, export_onnx
from hemseg.models.inference import classify_folder, classify_red_cells_folder, segment_folder
from hemseg.models.losses import UNKNOWN, MaskedDiceCELoss, PartialLabelCELoss, mark_unknown
from hemseg.models.metrics import (
    classification_scores,
    group_accuracy,
    group_bootstrap,
    mask_metrics,
    paired_group_bootstrap,
    shared_cell_scores,
)
from hemseg.models.networks import (
    ARCHITECTURES,
    CLASSIFIER_NORMS,
    COLOUR_NORMS,
    ColourNormalised,
    ColourStandardised,
    SlideGrey,
    SlideReferenced,
    classification_network,
    segmentation_network,
)
from hemseg.models.patch_cache import patch_records
from hemseg.models.pseudo_labels import pseudo_label_dataset
from hemseg.models.red_cells import (
    classify_red_cells,
    every_red_cell,
    pseudo_labelled_red_cells,
    red_cell_mix,
    red_cell_patches,
    red_cell_records,
)
from hemseg.models.sampling import SourceBatchSampler
from hemseg.models.segmenter import Segmenter
from hemseg.models.stain import fit_stain_reference, read_stain_reference, record_signatures
from hemseg.models.styles import MixStyle, mix_styles
from hemseg.models.weights import (
    WeightsError,
    average_checkpoints,
    field_reference,
    file_sha256,
    load_weights,
    publish_field_reference,
    publish_weights,
    save_weights,
)

__all__ = [
    "ARCHITECTURES",
    "BUNDLES_ENV",
    "CLASSIFIER_NORMS",
    "COLOUR_NORMS",
    "UNKNOWN",
    "Bundle",
    "Classifier",
    "ColourNormalised",
    "ColourStandardised",
    "MaskedDiceCELoss",
    "MixStyle",
    "OnnxNetwork",
    "PartialLabelCELoss",
    "Segmenter",
    "SourceBatchSampler",
    "SlideGrey",
    "SlideReferenced",
    "WeightsError",
    "average_checkpoints",
    "bundle_dir",
    "cache_dir",
    "check_patches",
    "classification_network",
    "diagnose_sharded",
    "classification_scores",
    "classify_folder",
    "classify_red_cells",
    "classify_red_cells_folder",
    "evaluate_classification",
    "evaluate_red_cells",
    "every_red_cell",
    "evaluate_segmentation",
    "export_onnx",
    "field_prior",
    "field_reference",
    "file_sha256",
    "fit_stain_reference",
    "group_accuracy",
    "group_bootstrap",
    "has_onnxruntime",
    "known_structures_output",
    "load_analyser",
    "load_weights",
    "mark_unknown",
    "mask_metrics",
    "mix_styles",
    "paired_group_bootstrap",
    "partial_label_output",
    "patch_records",
    "read_stain_reference",
    "record_signatures",
    "red_cell_mix",
    "red_cell_patches",
    "red_cell_records",
    "patcher_from_bundle",
    "prepare_classification_batch",
    "prepare_segmentation_batch",
    "prior_weights",
    "publish_field_reference",
    "pseudo_label_dataset",
    "pseudo_labelled_red_cells",
    "publish_weights",
    "save_weights",
    "segment_folder",
    "segmentation_network",
    "shared_cell_scores",
    "shipped_bundles",
    "specimen_mix",
    "zoomed",
]
