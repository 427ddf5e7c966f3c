"""Photos in, reports out: the batch that ``hemseg diagnose`` and the ``hemseg_diagnose`` bundle run.

Every input gets a row in ``OUT/summary.csv`` and a section in ``OUT/report.html``; each photo that
can be analysed gets ``OUT/<stem>/`` with ``report.json``, ``cells.csv``, ``cells.geojson``,
``overlay.png`` and ``cells/<id>.png`` (a crop around each white cell, for review). Every file is
written to a temporary name and renamed; a photo that cannot be read or analysed gets a one-line
error and an error row, and the others go on.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, replace
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from hemseg.data.files import replacing, write_text_atomic
from hemseg.diagnosis.pipeline import SmearAnalyser
from hemseg.diagnosis.report import SmearReport

#: Files written per image, under ``OUT/<image-stem>/``; besides them ``cells/<id>.png``, a crop of
#: the photo around each white cell (:func:`white_cell_crop`), for review and export.
IMAGE_FILES = ("report.json", "cells.csv", "cells.geojson", "overlay.png")
#: Side of a white cell's crop, in red-cell diameters (at least 1.5 times the cell's box).
CROP_RBC = 3.0


def hemseg_version() -> str:
    """The installed hemseg version (that of the ``hemseg-diagnosis`` distribution)."""
    try:
        return version("hemseg-diagnosis")
    except PackageNotFoundError:
        return "unknown"


def image_inputs(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str | None]]:
    """Every image to analyse, or (path, reason) for a path that gives none (folders: their images, sorted)."""
    from hemseg.data.layout import IMAGE_SUFFIXES

    for path in map(Path, paths):
        if path.is_dir():
            images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if images:
                yield from ((image, None) for image in images)
            else:
                yield path, "no images in this folder"
        elif path.exists():
            yield path, None
        else:
            yield path, "no such file or folder"


def output_names(paths: Iterable[Path]) -> list[str]:
    """Per-image folder names: the image stem, made unique with ``-2``, ``-3`` ... when stems repeat."""
    seen: dict[str, int] = {}
    names = []
    for path in paths:
        stem = path.stem or "image"
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return names


def write_image_outputs(
    folder: Path, image_name: str, rgb, report: SmearReport, provenance: Mapping | None = None
) -> None:
    """Write ``cells.csv``, ``cells.geojson``, ``overlay.png`` and, last, ``report.json`` of one image.

    ``report.json`` is written last, so its presence means the image's files are complete.
    """
    from PIL import Image

    from hemseg.diagnosis.report import cells_csv, cells_geojson, colour_of
    from hemseg.postproc import draw_outlines

    folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder / "cells", ignore_errors=True)  # no crop of an earlier run's cells
    for cell in report.cells:
        if cell.kind == "wbc":
            with replacing(folder / "cells" / f"{cell.id}.png") as tmp:
                Image.fromarray(white_cell_crop(rgb, cell, report.rbc_diameter_px)).save(tmp, format="PNG")
    write_text_atomic(folder / "cells.csv", cells_csv(report.cells))
    write_text_atomic(folder / "cells.geojson", cells_geojson(report.cells) + "\n")
    thickness = outline_thickness(rgb.shape[:2])
    order = sorted(report.cells, key=lambda c: c.kind == "wbc")  # white cells drawn last, on top
    outlines = [(c.outline, colour_of(c.cls, c.kind)) for c in order]
    with replacing(folder / "overlay.png") as tmp:
        Image.fromarray(draw_outlines(rgb, outlines, thickness)).save(tmp, format="PNG")
    write_text_atomic(folder / "report.json", json.dumps(report.to_dict(image_name, provenance), indent=1) + "\n")


def outline_thickness(shape: tuple[int, int]) -> int:
    """Outline width (px) in an overlay of an image of ``shape``: 2 px up to 375 px, wider in larger images."""
    return max(2, round(max(shape) / 250))


#: Longest side (px) of the overlays embedded in ``report.html`` (JPEG), which stays one file.
EMBED_SIDE = 1600


def overlay_data_uri(path: Path) -> str | None:
    """An overlay as a ``data:`` URI (JPEG, longest side at most :data:`EMBED_SIDE`), for ``report.html``.

    None when the file cannot be read (the page then shows no picture for that photo).
    """
    import base64

    from PIL import Image

    try:
        with Image.open(path) as overlay:
            image = overlay.convert("RGB")
    except OSError:
        return None
    image.thumbnail((EMBED_SIDE, EMBED_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def white_cell_crop(rgb, cell, rbc_px: float):
    """The square of ``rgb`` centred on ``cell``, :data:`CROP_RBC` red-cell diameters across (cut at the edges)."""
    x0, y0, x1, y1 = cell.bbox
    half = max(CROP_RBC * rbc_px, 1.5 * max(x1 - x0, y1 - y0)) / 2
    cx, cy = cell.centroid
    height, width = rgb.shape[:2]
    top, left = max(0, round(cy - half)), max(0, round(cx - half))
    return rgb[top : min(height, round(cy + half) + 1), left : min(width, round(cx + half) + 1)]


def print_error(path: Path, error: str) -> None:
    """The default error report: one line on stderr."""
    print(f"hemseg: error: {path}: {error}", file=sys.stderr)


#: Files of a whole run, under ``OUT/``.
RUN_FILES = ("summary.csv", "log.jsonl", "report.html", "specimens.csv")


def remove_temporaries(out: Path) -> None:
    """Delete the temporary files that a killed run left beside its outputs (``.<output name>.<random>``)."""
    names = (*RUN_FILES, *IMAGE_FILES, "review.json")
    for path in out.rglob(".*"):
        crop = path.parent.name == "cells" and re.fullmatch(r"\.\d+\.png\..+", path.name)
        if path.is_file() and (any(path.name.startswith(f".{name}.") for name in names) or crop):
            path.unlink(missing_ok=True)


def finished_report(folder: Path, settings_sha256: str) -> SmearReport | None:
    """The report of an image whose files are complete and were made with these settings, else None."""
    try:
        data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("provenance", {}).get("settings_sha256") != settings_sha256:
        return None
    if not all((folder / name).is_file() for name in IMAGE_FILES):
        return None
    return SmearReport.from_dict(data)


def analyse_image(
    analyser: SmearAnalyser,
    path: Path,
    folder: Path,
    rbc_px: float | None,
    scale_source: str | None,
    provenance: Mapping,
) -> tuple[SmearReport | None, str | None]:
    """Read, analyse and write one photo: (report, None), or (None, the one-line reason it failed)."""
    from hemseg.data import SmearImageError, read_smear

    try:
        rgb = read_smear(path)
        report = analyser.analyse(rgb, rbc_px, scale_source)
        write_image_outputs(folder, path.name, rgb, report, provenance)
        return report, None
    except SmearImageError as err:
        return None, str(err)
    except Exception as err:  # one bad image must not stop the others
        return None, f"analysis failed ({type(err).__name__}: {err})".splitlines()[0]


def scale_reading(analyser: SmearAnalyser, path: Path) -> float | None:
    """One photo's own first reading of the red-cell diameter (px); None when unreadable or nothing to read.

    :meth:`SmearAnalyser.estimate_scale`: from its red cells, or a crop's from its central white cell;
    a photo where neither is found (the diameter assumed) gives no reading.
    """
    from hemseg.data import SmearImageError, read_smear

    try:
        px, source = analyser.estimate_scale(read_smear(path))
    except SmearImageError:
        return None  # reported when the photo is analysed
    return px if source != "assumed" else None


def crop_photos(analyser: SmearAnalyser, paths: Iterable[Path]) -> list[Path]:
    """The photos of ``paths`` that the analyser measures as single-cell crops (:meth:`ScaleRules.is_crop`).

    Only each file's header is read; files that cannot be opened are left out (reported when analysed).
    """
    from PIL import Image, UnidentifiedImageError

    crops = []
    for path in paths:
        try:
            with Image.open(path) as image:
                width, height = image.size
        except (OSError, UnidentifiedImageError, ValueError):
            continue
        if analyser.scale.is_crop((height, width)):
            crops.append(path)
    return crops


class Batch:
    """One run over a list of inputs: their output names and specimens, the provenance, the finished rows.

    :func:`diagnose_images` drives it in one process or several; under torchrun, the
    ``hemseg_diagnose`` bundle's ``multi_gpu_inference`` config drives it on every rank
    (:func:`hemseg.models.diagnose_sharded`), with ``writes`` only on rank 0.

    Args:
        analyser: the pipeline (e.g. the ``hemseg_diagnose`` bundle's ``analyser``).
        inputs: photos and folders of photos.
        out: the output folder.
        rbc_px: red-cell diameter of every photo (None: estimated per photo).
        scale_source: where ``rbc_px`` comes from (``given``, ``um_per_px``).
        shared: without ``rbc_px``, analyse the photos of each specimen at one scale, the median of
            their own first readings (``scale_source`` ``shared``): one slide's photos, taken on one
            analyser or microscope at one magnification, share one scale. The readings are taken by
            :meth:`scale_readings` and shared by :meth:`share_scales` before :meth:`pending`
            (:func:`diagnose_images`; on every rank, :func:`hemseg.models.diagnose_sharded`).
        on_error: called with each input that failed and the one-line reason.
        on_done: called after each input (progress).
        specimens: {image: specimen} (keys: path, file name or stem; :func:`hemseg.diagnosis.read_specimens`);
            None: every photo's folder is its specimen. With the analyser's ``specimen_rules``, the
            photos of each specimen are pooled into ``OUT/specimens.csv``, ``OUT/specimens/<name>.json``
            and the top of ``report.html`` (:mod:`hemseg.diagnosis.specimen`).
        writes: prepare ``out`` (create it, remove a killed run's temporaries); False on the ranks
            that only analyse.
        on_adapted: called with each specimen classified again by a classifier adapted to its
            stain, and what that meant (:meth:`adapt`).
    """

    def __init__(
        self,
        analyser: SmearAnalyser,
        inputs: Iterable[str | Path],
        out: str | Path,
        rbc_px: float | None = None,
        scale_source: str | None = None,
        on_error: Callable[[Path, str], None] = print_error,
        on_done: Callable[[Path], None] | None = None,
        specimens: Mapping[str, str] | None = None,
        writes: bool = True,
        on_adapted: Callable[[str, dict], None] | None = None,
        shared: bool = False,
    ) -> None:
        from hemseg.diagnosis.specimen import specimen_of

        self.on_error, self.on_done, self.on_adapted = on_error, on_done, on_adapted
        self.todo = list(image_inputs(inputs))
        self.names = output_names([path for path, _ in self.todo])
        self.specimens = specimen_of([path for path, _ in self.todo], specimens)
        self.shared = shared and rbc_px is None
        #: {specimen: the red-cell diameter its photos share} (``shared``: :meth:`share_scales`)
        self.shared_scales: dict[str, float] = {}
        self.analyser, self.out, self.rbc_px, self.scale_source = analyser, Path(out), rbc_px, scale_source
        if writes:
            self.out.mkdir(parents=True, exist_ok=True)
            remove_temporaries(self.out)
        self.provenance = {
            "hemseg_version": hemseg_version(),
            "bundles": analyser.provenance.get("bundles", {}),
            "settings_sha256": analyser.settings_sha256(rbc_px, scale_source),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            # what a person's review needs to recompute the findings (hemseg.diagnosis.review)
            "classes": list(analyser.classifier.classes),
            "red_cell_classes": list(analyser.red_cell_classifier.classes) if analyser.red_cell_classifier else [],
            "flag_rules": asdict(analyser.flag_rules),
        }
        self.done: dict[int, tuple[dict, SmearReport | None]] = {}

    def scale_readings(self, indices: Iterable[int]) -> list[tuple[int, float]]:
        """(index, first reading) of the photos ``indices`` that give one (:func:`scale_reading`)."""
        readings = []
        for index in indices:
            path, error = self.todo[index]
            if error is None and (px := scale_reading(self.analyser, path)) is not None:
                readings.append((index, px))
        return readings

    def share_scales(self, readings: Iterable[tuple[int, float]]) -> None:
        """Give each specimen's photos the median of its ``readings`` (:meth:`scale_readings`) as their scale.

        A specimen with no reading keeps the per-photo estimate. The run's settings (what ``resume``
        compares) take the specimens' scales.
        """
        import statistics

        by_specimen: dict[str, list[float]] = {}
        for index, px in readings:
            by_specimen.setdefault(self.specimens[index], []).append(px)
        self.shared_scales = {specimen: statistics.median(pxs) for specimen, pxs in sorted(by_specimen.items())}
        self.provenance["settings_sha256"] = self.analyser.settings_sha256(
            self.rbc_px, self.scale_source, list(self.shared_scales.items())
        )

    def pending(self, resume: bool = False) -> list[int]:
        """Finish the inputs that give no image and, with ``resume``, those finished before; the rest's indices."""
        pending = []
        for index, (_, error) in enumerate(self.todo):
            folder = self.out / self.names[index]
            kept = finished_report(folder, self.provenance["settings_sha256"]) if resume and error is None else None
            if error is not None or kept is not None:
                self.finish(index, kept, error)
            else:
                pending.append(index)
        return pending

    def analyse(self, index: int) -> tuple[int, SmearReport | None, str | None]:
        """Analyse input ``index`` and write its files: (index, report or None, error or None)."""
        folder = self.out / self.names[index]
        rbc_px, source = self.rbc_px, self.scale_source
        if (shared := self.shared_scales.get(self.specimens[index])) is not None:
            rbc_px, source = shared, "shared"
        return index, *analyse_image(self.analyser, self.todo[index][0], folder, rbc_px, source, self.provenance)

    def finish(self, index: int, report: SmearReport | None, error: str | None) -> None:
        """Record a finished input and rewrite ``summary.csv`` and ``log.jsonl``."""
        self._record(index, report, error)
        if self.on_done is not None:
            self.on_done(self.todo[index][0])

    def _record(self, index: int, report: SmearReport | None, error: str | None) -> None:
        from hemseg.diagnosis.report import summary_row

        path, name = self.todo[index][0], self.names[index]
        if error is not None:
            self.on_error(path, error)
            for stale in IMAGE_FILES:  # no report of an earlier run beside an error row
                (self.out / name / stale).unlink(missing_ok=True)
            shutil.rmtree(self.out / name / "cells", ignore_errors=True)
        if report is not None and not self.analyser.adapts:
            report = replace(report, patches=None)  # kept only for adapt()
        self.done[index] = (summary_row(str(path), report, error or "", self.provenance, name), report)
        _write_progress(self.out, self.done, self.provenance)

    def adapt(self) -> None:
        """Classify again every specimen whose white cells call for a classifier adapted to their look.

        A specimen's photos are those of one folder (or of one name in ``specimens``); whether it
        calls for it is :func:`hemseg.diagnosis.adaptation.adaptation_of` with the analyser's
        ``adaptation``. The analyser's ``adapter`` re-estimates the classifier on the white-cell
        patches of all its photos (photos kept by ``resume`` are analysed again for theirs), each
        photo's white cells are classified again (:meth:`SmearAnalyser.reclassified`) and its files
        and row rewritten. Without an ``adapter`` (``hemseg diagnose --no-adapt``), such a specimen
        keeps its classes, and its look is recorded and its cells marked (:meth:`SmearAnalyser.marked`).
        """
        from hemseg.diagnosis.adaptation import adaptation_of

        rules = self.analyser.adaptation
        if rules is None:
            return
        by_specimen: dict[str, list[int]] = {}
        for index in sorted(self.done):
            if self.done[index][1] is not None:
                by_specimen.setdefault(self.specimens[index], []).append(index)
        for specimen, indices in by_specimen.items():
            look = adaptation_of([self.done[i][1] for i in indices], rules, self.analyser.stain_reference)
            if look is None:
                continue
            adaptation = {"specimen": specimen, **look}
            if self.analyser.adapts:
                for index in [i for i in indices if self.done[i][1].patches is None]:
                    self._record(*self.analyse(index))  # kept by resume: its patches are cut again
                indices = [i for i in indices if self.done[i][1] is not None]
                if not indices:
                    continue
                patches = np.concatenate([self.done[i][1].patches for i in indices])
                classifier = self.analyser.adapter(patches, rules.layers)
                if rules.zooms:
                    adaptation["zoom"] = float(classifier.zoom)
                redo = partial(self.analyser.reclassified, classifier=classifier, adaptation=adaptation)
            else:  # no adapter (--no-adapt): the look is recorded and its cells marked
                adaptation["adapted"] = False
                redo = partial(self.analyser.marked, look=adaptation)
            for index in indices:
                self._rewrite(index, redo(self.done[index][1]))
            if self.on_adapted is not None:
                self.on_adapted(specimen, adaptation)

    def _rewrite(self, index: int, report: SmearReport) -> None:
        """Rewrite the files and row of input ``index`` for a new ``report``.

        When the photo cannot be read again, its first report stays and the reason is reported.
        """
        from hemseg.data import SmearImageError, read_smear

        path = self.todo[index][0]
        try:
            write_image_outputs(self.out / self.names[index], path.name, read_smear(path), report, self.provenance)
        except (SmearImageError, OSError) as err:
            self.on_error(path, f"not adapted, the report as first analysed stays ({err})".splitlines()[0])
            return
        self._record(index, report, None)

    def close(self, adapt: bool = True) -> list[dict]:
        """Write ``report.html`` (one file, overlays embedded) and the specimens; return the rows in input order.

        With ``adapt``, first the specimens that call for it are classified again (:meth:`adapt`).
        """
        from hemseg.diagnosis.report import html_page

        if adapt:
            self.adapt()
        order = sorted(self.done)
        done, names = self.done, self.names
        entries = [
            (done[i][0], done[i][1], overlay_data_uri(self.out / names[i] / "overlay.png") if done[i][1] else None)
            for i in order
        ]
        analysed = [(self.specimens[i], str(self.todo[i][0]), done[i][1]) for i in order if done[i][1] is not None]
        rules = self.analyser.specimen_rules
        pooled = write_specimens(self.out, analysed, self.analyser) if rules is not None else []
        write_text_atomic(self.out / "report.html", html_page(entries, self.provenance, pooled))
        return [done[i][0] for i in order]


def diagnose_images(
    analyser: SmearAnalyser,
    inputs: Iterable[str | Path],
    out: str | Path,
    resume: bool = False,
    workers: int = 1,
    analyser_factory: Callable[[], SmearAnalyser] | None = None,
    should_stop: Callable[[], bool] | None = None,
    pool=None,
    **options: object,
) -> list[dict]:
    """Analyse photos and folders of photos; write every report under ``out``.

    ``OUT/summary.csv`` and ``OUT/log.jsonl`` (one JSON line per finished input) are rewritten,
    atomically, as each input finishes, so a run killed at any moment leaves a valid summary of every
    finished image and no half-written file; ``report.html`` and the specimen files follow at the end.

    Args:
        analyser: the pipeline (e.g. the ``hemseg_diagnose`` bundle's ``analyser``).
        inputs: photos and folders of photos.
        out: the output folder.
        resume: keep the reports of images already finished under ``out`` with the same settings
            (:meth:`SmearAnalyser.settings_sha256`, recorded in each ``report.json``); analyse the rest.
        workers: processes analysing photos at once: this one, with ``analyser`` (built after
            ``use_threads(worker_threads(workers))``), and ``workers - 1`` started ones, each loading
            the networks once from ``analyser_factory`` with its share of the CPU threads.
        analyser_factory: builds the analyser in each worker process (picklable; ``workers`` > 1).
        pool: the other processes, already started by :func:`start_workers` (so that they load their
            networks while this process loads its own; ``workers`` > 1); None: started here. Shut
            down at the end.
        should_stop: asked after each finished image; True stops the run after the images under way,
            with the summary, ``report.html`` and specimens of those finished.
        options: the rest of :class:`Batch`'s arguments (``rbc_px``, ``scale_source``, ``shared``,
            ``on_error``, ``on_done``, ``specimens``, ``on_adapted``).

    Returns:
        The :func:`hemseg.diagnosis.summary_row` rows of the finished inputs, in input order, as in
        ``summary.csv``.
    """
    batch = Batch(analyser, inputs, out, **options)
    if batch.shared:
        batch.share_scales(batch.scale_readings(range(len(batch.todo))))
    pending = batch.pending(resume)
    stop = should_stop or (lambda: False)
    if workers > 1:
        _run_workers(pool or start_workers(analyser_factory, workers), workers, pending, batch, stop)
    else:
        for index in pending:
            if stop():
                break
            batch.finish(*batch.analyse(index))
    return batch.close(adapt=not stop())  # a stopped run's specimens adapt when --resume finishes them


def _write_progress(out: Path, done: Mapping[int, tuple[dict, SmearReport | None]], provenance: Mapping) -> None:
    """``summary.csv`` and ``log.jsonl`` of the inputs finished so far, in input order, each written whole."""
    from hemseg.diagnosis.report import summary_csv

    rows = [done[i][0] for i in sorted(done)]
    write_text_atomic(out / "summary.csv", summary_csv(rows))
    lines = [json.dumps({"settings_sha256": provenance["settings_sha256"], **row}) for row in rows]
    write_text_atomic(out / "log.jsonl", "".join(f"{line}\n" for line in lines))


#: The analyser of a worker process (built once by :func:`_start_worker`).
_WORKER_ANALYSER: SmearAnalyser | None = None


def use_threads(threads: int) -> None:
    """Limit this process to ``threads`` CPU threads: OpenMP/BLAS (for libraries not yet started), OpenCV, torch.

    Call it before the networks are built: ONNX Runtime sessions take torch's thread count then.
    """
    import os

    import cv2

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)  # read when torch and ONNX Runtime start in this process
    cv2.setNumThreads(threads)
    if "torch" in sys.modules:  # already started: tell it (hemseg.diagnosis never imports torch itself)
        sys.modules["torch"].set_num_threads(threads)


def _start_worker(factory: Callable[[], SmearAnalyser], threads: int) -> None:
    """Worker start: its share of the CPU threads, SIGINT left to the parent, the networks loaded once."""
    import signal

    global _WORKER_ANALYSER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    use_threads(threads)
    _WORKER_ANALYSER = factory()


def _work(batch: Batch, index: int) -> tuple:
    batch.analyser = _WORKER_ANALYSER
    return batch.analyse(index)


def worker_threads(workers: int) -> int:
    """CPU threads of each of ``workers`` processes sharing this machine (at least 1)."""
    import os

    return max(1, (os.cpu_count() or 1) // workers)


def start_workers(factory: Callable[[], SmearAnalyser] | None, workers: int):
    """Start the ``workers - 1`` processes that analyse photos beside this one; each loads its networks at once.

    Returns:
        A ``concurrent.futures.ProcessPoolExecutor`` (``spawn``: no fork of a process holding
        torch or ONNX Runtime threads) for :func:`diagnose_images`.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if factory is None:
        raise ValueError("workers > 1 needs an analyser_factory")
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers - 1, mp_context=context, initializer=_start_worker, initargs=(factory, worker_threads(workers))
    )
    for _ in range(workers - 1):  # processes start on demand: ask each for nothing now
        pool.submit(int)
    return pool


def _run_workers(pool, workers: int, pending: list[int], batch: Batch, stop: Callable[[], bool]) -> None:
    """Analyse ``pending`` inputs of ``batch`` in ``workers`` processes: this one and the ``pool``'s.

    This process analyses photos with its own analyser while the others start and load their
    networks, and between collecting their results; each other process has its next photo waiting,
    so that it never waits for this one.
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    # what a worker needs of the batch: no analyser, no callbacks (they stay in this process)
    shipped = Batch.__new__(Batch)
    shipped.__dict__.update(
        {**batch.__dict__, "analyser": None, "on_error": None, "on_done": None, "on_adapted": None, "done": {}}
    )
    queue = list(pending)
    with pool:
        running: set = set()
        while queue or running:
            while queue and len(running) < 2 * (workers - 1) and not stop():  # the next photo waits in line
                running.add(pool.submit(_work, shipped, queue.pop(0)))
            if queue and not stop():
                batch.finish(*batch.analyse(queue.pop(0)))  # this process's share
                finished = {future for future in running if future.done()}
            elif running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
            else:
                break
            running -= finished
            for future in finished:
                batch.finish(*future.result())


def write_specimens(out: Path, analysed: list[tuple[str, str, SmearReport]], analyser: SmearAnalyser) -> list:
    """Pool the analysed photos per specimen; write ``specimens.csv`` and ``specimens/<name>.json``."""
    from hemseg.diagnosis.specimen import pool_specimens, specimen_file_name, specimens_csv

    pooled = pool_specimens(analysed, analyser.flag_rules, analyser.specimen_rules)
    used: set[str] = set()
    for specimen in pooled:
        name = specimen_file_name(specimen.name)
        while name in used:  # two specimens whose names differ only in characters not kept
            name = name.removesuffix(".json") + "_.json"
        used.add(name)
        write_text_atomic(out / "specimens" / name, json.dumps(specimen.to_dict(), indent=1) + "\n")
    write_text_atomic(out / "specimens.csv", specimens_csv(pooled))
    return pooled
