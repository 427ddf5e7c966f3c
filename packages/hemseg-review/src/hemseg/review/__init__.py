"""hemseg.review: a local web app where a person confirms or reclassifies the cells of a diagnose output.

Decision support, not a medical device: the review is how a qualified person takes responsibility
for the counts. The corrections, their findings and the export live in :mod:`hemseg.diagnosis.review`.
"""

from hemseg.review.app import create_app, label_keys, serve

__all__ = ["create_app", "label_keys", "serve"]
