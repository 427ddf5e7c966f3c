"""hemseg.models: networks for smear segmentation and cell classification."""

from hemseg.models.networks import segmentation_network

__all__ = ["segmentation_network"]
