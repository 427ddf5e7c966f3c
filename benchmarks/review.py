"""What a review costs: 20 white cells reviewed by keyboard in a real browser, and the docs' screenshot.

    HEMSEG_DATA=../shared/data .venv/bin/python benchmarks/review.py \
        --json benchmarks/results/review.json --screenshot docs/figures/review.jpg

Diagnoses two ALL-IDB1 fields (the shipped bundles, scale estimated), serves the output with
``hemseg.review`` on 127.0.0.1 and drives Debian's chromium (Playwright; ``HEMSEG_CHROMIUM`` or
``chromium`` on PATH) through the first 20 white cells, field by field, in the page's order (cells
marked for review first): Enter confirms the machine's class; a cell marked for review is given its
next most probable class by that class's key (a stand-in for a person's decision). Each decision is
timed from the key press to the recomputed summary on screen; a person's looking time comes on top.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

#: ALL-IDB1 fields reviewed, in this order: a leukaemia patient's (16 white cells found), a healthy one's (10)
FIELDS = ("Im012_1", "Im079_0")


def main() -> None:
    """Diagnose, serve, review 20 cells; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--screenshot", type=Path, help="save a JPEG of the review page here")
    parser.add_argument("--cells", type=int, default=20)
    args = parser.parse_args()
    import uvicorn
    from playwright.sync_api import sync_playwright

    from hemseg.diagnosis import diagnose_images
    from hemseg.models import load_analyser
    from hemseg.review import create_app

    root = Path(os.environ.get("HEMSEG_DATA", "../shared/data")) / "all_idb1"
    work = Path(tempfile.mkdtemp(prefix="hemseg-review-"))
    photos = [next((root / "images").glob(f"{field}.*")) for field in FIELDS]
    rows = diagnose_images(load_analyser(), photos, work / "out")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(work / "out", "benchmark"), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    executable = os.environ.get("HEMSEG_CHROMIUM") or shutil.which("chromium")
    latencies, keystrokes, corrected = [], 0, 0
    start = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for row in rows:
            if len(latencies) >= args.cells:
                break
            name = row["folder"]
            page.goto(f"http://127.0.0.1:{port}/images/{name}")
            keys = {
                label: key for key, label in page.evaluate("JSON.parse(document.getElementById('keys').textContent)")
            }
            for index in range(page.locator("#gallery .card").count()):
                if len(latencies) >= args.cells:
                    break
                card = page.locator("#gallery .card").nth(index)
                key = "Enter"
                if "marked" in card.get_attribute("class"):
                    key, corrected = keys[card.locator(".alt").inner_text().split()[1]], corrected + 1
                done = page.locator("#gallery .card.done").count()
                began = time.perf_counter()
                page.keyboard.press(key)
                page.wait_for_function(
                    f"document.querySelectorAll('#gallery .card.done').length == {done + 1}"
                    " && !document.querySelector('#summary').dataset.loading"
                )
                latencies.append(1000 * (time.perf_counter() - began))
                keystrokes += 1
        if args.screenshot:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.goto(f"http://127.0.0.1:{port}/images/{rows[0]['folder']}")
            page.screenshot(path=str(args.screenshot), full_page=True, type="jpeg", quality=80)
        browser.close()
    total = time.perf_counter() - start
    server.should_exit = True
    figures = {
        "cells": len(latencies),
        "fields": len({r["folder"] for r in rows}),
        "keystrokes": keystrokes,
        "corrected": corrected,
        "decision_ms_median": round(statistics.median(latencies), 1),
        "decision_ms_max": round(max(latencies), 1),
        "browser_s_total": round(total, 1),
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
