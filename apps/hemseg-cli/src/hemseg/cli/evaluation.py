"""Evaluation of the segmentation bundle on a dataset folder (used by ``hemseg evaluate``)."""

from __future__ import annotations

from pathlib import Path

from hemseg.cli.bundles import bundle_dir, inference_parser
from hemseg.cli.segmentation import mask_metrics, mean_ignoring_nan, postprocess

METRICS = ("dice", "iou", "precision", "recall", "accuracy")


def _rbc_diameter(parser, dataset, override: float | None) -> float:
    """``override``, else the dataset's red-cell diameter from the bundle's ``dataset_rbc_diameter_px``."""
    if override is not None:
        return override
    table = parser["dataset_rbc_diameter_px"]
    if dataset.name not in table:
        raise ValueError(f"{dataset.root}: no red-cell diameter known for {dataset.name!r}; pass --rbc-diameter-px")
    return float(table[dataset.name])


def _split_side(dataset, split: str) -> list:
    """The dataset's samples: all, or one side of :func:`hemseg.data.split_samples`."""
    from hemseg.data import split_samples

    if split == "all":
        return list(dataset.samples)
    train, val = split_samples(dataset.samples)
    return train if split == "train" else val


def evaluate_segmentation(
    dataset_dir: str | Path,
    split: str = "all",
    rbc_diameter_px: float | None = None,
    bundle: Path | None = None,
) -> dict:
    """Segment every image of a dataset (or one side of its split) and score each annotated structure.

    Masks are thresholded and post-processed exactly as in inference (the bundle's ``mask_rules``)
    and compared with the reference masks at the image's own resolution; per-image scores are
    averaged over the images that have that structure's mask (NaN scores, e.g. Dice of two empty
    masks, are left out). ``ms_per_image`` is the mean time in zooming and the network.

    Raises:
        LayoutError: the folder is not a dataset.
        ValueError: no red-cell diameter is known for the dataset.
    """
    from hemseg.data import read_dataset, read_mask
    from hemseg.data.transforms import load_rgb

    dataset = read_dataset(dataset_dir)
    parser = inference_parser(bundle_dir("hemseg_segmentation", bundle))
    structures = list(parser["structures"])
    rbc_diameter_px = _rbc_diameter(parser, dataset, rbc_diameter_px)
    segmenter = parser.get_parsed_content("segmenter")
    rules = parser["mask_rules"]
    samples = _split_side(dataset, split)
    scored = [s for s in dataset.structures if s in structures]
    samples = [s for s in samples if any(k in s.masks for k in scored)]
    scores = {s: {m: [] for m in METRICS} for s in scored}
    times = []
    for sample in samples:
        probabilities = segmenter.probabilities(load_rgb(sample.image), rbc_diameter_px)
        times.append(segmenter.last_network_ms)
        masks = postprocess(probabilities, structures, rules, rbc_diameter_px)
        for structure in scored:
            if structure in sample.masks:
                for name, value in mask_metrics(masks[structure], read_mask(sample.masks[structure])).items():
                    scores[structure][name].append(value)
    return {
        "dataset": dataset.name,
        "images": len(samples),
        "split": split,
        "rbc_diameter_px": rbc_diameter_px,
        "structures": {
            s: {**{m: mean_ignoring_nan(v) for m, v in scores[s].items()}, "images": len(scores[s]["dice"])}
            for s in scored
        },
        "ms_per_image": sum(times) / len(times) if times else 0.0,
    }


def evaluate_classification(
    dataset_dir: str | Path,
    split: str = "all",
    rbc_diameter_px: float | None = None,
    bundle: Path | None = None,
) -> dict:
    """Classify the central cell of every single-label crop of a dataset (or one side of its split).

    Each image goes through the steps ``hemseg diagnose`` uses: segmentation, the white cell
    nearest the centre, its patch, the classifier. Images with several labels (or none) are
    skipped and counted; labels that are not cell classes (ALL-IDB1's image-level ``all``) too.
    Scores are those of :func:`hemseg.cli.classification.classification_scores`;
    ``ms_per_image`` is the mean time of segmentation plus classification networks, ``not_found``
    the images where no white cell was segmented (classified on a centred patch).

    Raises:
        LayoutError: the folder is not a dataset.
        ValueError: no red-cell diameter is known for the dataset.
    """
    from hemseg.cli.classification import classification_scores
    from hemseg.data import CELL_CLASSES, PARTIAL_LABELS, read_dataset
    from hemseg.data.transforms import load_rgb

    dataset = read_dataset(dataset_dir)
    parser = inference_parser(bundle_dir("hemseg_classification", bundle))
    rbc_diameter_px = _rbc_diameter(parser, dataset, rbc_diameter_px)
    patcher = parser.get_parsed_content("patcher")
    classifier = parser.get_parsed_content("classifier")
    samples = _split_side(dataset, split)
    known = set(CELL_CLASSES) | set(PARTIAL_LABELS)
    kept = [s for s in samples if len(s.labels) == 1 and s.labels[0] in known]
    labels, predicted, confidence, times, not_found = [], [], [], [], 0
    for sample in kept:
        patch, found = patcher.central_patch(load_rgb(sample.image), rbc_diameter_px)
        probabilities = classifier.probabilities(patch[None])[0]
        times.append(patcher.last_ms + classifier.last_network_ms)
        not_found += not found
        labels.append(sample.labels[0])
        predicted.append(classifier.classes[int(probabilities.argmax())])
        confidence.append(float(probabilities.max()))
    return {
        "dataset": dataset.name,
        "images": len(kept),
        "skipped": len(samples) - len(kept),
        "split": split,
        "rbc_diameter_px": rbc_diameter_px,
        **classification_scores(labels, predicted, confidence),
        "not_found": not_found,
        "ms_per_image": sum(times) / len(times) if times else 0.0,
    }
