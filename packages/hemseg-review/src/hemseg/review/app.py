"""The review web app: Starlette routes over one ``hemseg diagnose`` output folder.

Pages are rendered by the server (they read without JavaScript); ``static/review.js`` adds the
keyboard and clicks. Only files under the output folder are served (Starlette's ``StaticFiles``,
which refuses paths and symlinks that lead outside it); every correction goes through
:class:`hemseg.diagnosis.ImageReview`, which validates it and writes it at once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from hemseg.diagnosis import COUNT_CLASSES, NOT_WBC, NOTICE, SMUDGE, ImageReview, ReviewError, image_folders

HERE = Path(__file__).parent
#: Keys of the review labels besides the classes (bound to 1, 2, ... in the classes' order).
EXTRA_KEYS = {NOT_WBC: "0", SMUDGE: "s"}


def label_keys(labels: tuple[str, ...]) -> list[tuple[str, str]]:
    """(key, label) for every label of a review: digits for the classes, then :data:`EXTRA_KEYS`."""
    classes = [label for label in labels if label not in EXTRA_KEYS]
    return [(str(i), label) for i, label in enumerate(classes, start=1)] + [
        (EXTRA_KEYS[label], label) for label in labels if label in EXTRA_KEYS
    ]


def _outlines(folder: Path) -> dict[int, str]:
    """SVG ``points`` of every cell's outline, from ``cells.geojson``."""
    try:
        features = json.loads((folder / "cells.geojson").read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError):
        return {}
    return {
        int(f["id"]): " ".join(f"{x},{y}" for x, y in f["geometry"]["coordinates"][0])
        for f in features
        if f["properties"].get("kind") == "wbc"
    }


def _sprite(cell, data: dict) -> dict[str, int]:
    """Where a red cell sits in the image's overlay: its box grown by a quarter each side, within the image.

    The page shows that window of ``overlay.png`` (a CSS background), so red cells need no crop files.
    """
    x0, y0, x1, y1 = cell.bbox
    pad = max(x1 - x0, y1 - y0) // 4
    left, top = max(0, x0 - pad), max(0, y0 - pad)
    right, bottom = min(data["width"], x1 + pad), min(data["height"], y1 + pad)
    return {"left": left, "top": top, "width": right - left, "height": bottom - top}


def create_app(out: str | Path, reviewer: str | None = None) -> Starlette:
    """The web app reviewing the diagnose output ``out``.

    Args:
        out: a ``hemseg diagnose`` output folder.
        reviewer: name recorded with each decision unless the page gives another.

    Raises:
        ReviewError: ``out`` is no diagnose output.
    """
    out = Path(out).resolve()
    names = image_folders(out)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    lock = threading.Lock()
    reviews: dict[str, ImageReview | str] = {}
    for name in names:
        try:
            reviews[name] = ImageReview(out, name)
            if reviews[name].corrections:  # a run killed between review.json and report.json
                reviews[name].write_findings()
        except ReviewError as err:
            reviews[name] = str(err)

    def review_of(request: Request) -> ImageReview:
        review = reviews.get(request.path_params["name"])
        if not isinstance(review, ImageReview):
            raise HTTPException(404, "no such image" if review is None else review)
        return review

    def summary_context(review: ImageReview) -> dict:
        return {
            "machine": review.data,
            "reviewed": review.summary(),
            "classes": COUNT_CLASSES,
        }

    async def index(request: Request) -> HTMLResponse:
        rows = [
            {"name": name, "review": review, "summary": review.summary() if isinstance(review, ImageReview) else None}
            for name, review in reviews.items()
        ]
        context = {"out": out, "rows": rows, "notice": NOTICE}
        return templates.TemplateResponse(request, "index.html", context)

    async def image_page(request: Request) -> HTMLResponse:
        review = review_of(request)
        latest = review.latest()
        context = {
            "name": review.name,
            "review": review,
            "cells": review.white_cells(),
            "red_cells": [(cell, _sprite(cell, review.data)) for cell in review.red_cells()],
            "red_labels": review.red_labels,
            "latest": latest,
            "outlines": _outlines(review.folder),
            "keys": label_keys(review.labels),
            "reviewer": reviewer or "",
            "notice": NOTICE,
            **summary_context(review),
        }
        return templates.TemplateResponse(request, "image.html", context)

    async def summary_fragment(request: Request) -> HTMLResponse:
        review = review_of(request)
        return templates.TemplateResponse(request, "summary.html", summary_context(review))

    async def state(request: Request) -> JSONResponse:
        review = review_of(request)
        latest = review.latest()
        cells = [
            {
                "id": c.id,
                "class": c.cls,
                "probability": c.probability,
                "alternative": c.alternative,
                "review": c.review,
                "label": latest[c.id].label if c.id in latest else None,
            }
            for c in [*review.white_cells(), *review.red_cells()]
        ]
        return JSONResponse(
            {
                "name": review.name,
                "labels": list(review.labels),
                "red_labels": list(review.red_labels),
                "cells": cells,
                **review.summary(),
            }
        )

    async def correct(request: Request) -> JSONResponse:
        review = review_of(request)
        try:
            body = await request.json()
            label, name = body["label"], body.get("reviewer") or reviewer
        except (ValueError, KeyError, TypeError):
            raise HTTPException(400, 'the body must be JSON {"label": ..., "reviewer": ...}') from None
        if not isinstance(label, str) or not (name is None or isinstance(name, str)):
            raise HTTPException(400, "label and reviewer must be strings")
        with lock:
            try:
                summary = review.correct(int(request.path_params["cell"]), label, name)
            except KeyError as err:
                raise HTTPException(404, str(err.args[0])) from None
            except ReviewError as err:
                raise HTTPException(422, str(err)) from None
        return JSONResponse({"cell": int(request.path_params["cell"]), "label": label, **summary})

    routes = [
        Route("/", index),
        Route("/images/{name}", image_page),
        Route("/images/{name}/summary", summary_fragment),
        Route("/api/images/{name}", state),
        Route("/api/images/{name}/cells/{cell:int}", correct, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        Mount("/files", StaticFiles(directory=out), name="files"),
    ]
    return Starlette(routes=routes)


def serve(
    out: str | Path,
    host: str = "127.0.0.1",
    port: int = 8765,
    reviewer: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve the review of ``out`` until interrupted (uvicorn); ``announce`` gets the address once the app is built.

    Raises:
        ReviewError: ``out`` is no diagnose output (before anything listens).
    """
    import uvicorn

    app = create_app(out, reviewer)
    if announce is not None:
        announce(f"http://{host}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="warning")
