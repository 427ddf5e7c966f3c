"""End to end in a real browser (Debian's chromium, driven by Playwright): review by keyboard, reload, export."""

from __future__ import annotations

import csv
import os
import shutil
from urllib.parse import urlsplit

import pytest


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium: HEMSEG_CHROMIUM, else the ``chromium`` on PATH (scripts/test.sh installs it)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("HEMSEG_CHROMIUM") or shutil.which("chromium")
    if not executable:
        pytest.fail("no chromium: install Debian's chromium (scripts/test.sh does) or set HEMSEG_CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


def reviewed(page, name: str) -> str:
    return page.locator(f"#summary tr[data-class='{name}'] .reviewed-count").inner_text()


def test_review_by_keyboard_survives_a_reload_and_exports(browser, server, out, tmp_path):
    from hemseg.data import read_dataset
    from hemseg.diagnosis import export_reviews

    page = browser.new_page()
    hosts = []
    page.on("request", lambda r: hosts.append(urlsplit(r.url).hostname))
    page.goto(server)
    page.click("a[href='/images/a']")
    page.wait_for_selector("#gallery .card.selected")  # review.js has run: keys pressed now are heard
    assert page.locator("#gallery .card").count() == 3
    assert page.locator("#gallery .card").first.get_attribute("class").split()[:2] == ["card", "marked"]
    assert reviewed(page, "lymphocyte") == "2" and reviewed(page, "blast") == "0"

    page.keyboard.press("3")  # the stub classifier's classes: 1 neutrophil, 2 lymphocyte, 3 blast
    page.wait_for_function(
        "document.querySelector(\"#summary tr[data-class='blast'] .reviewed-count\").innerText == '1'"
    )
    assert reviewed(page, "lymphocyte") == "1"
    assert page.locator("#reviewed-flags").inner_text().startswith("blasts_present")
    assert page.locator("#gallery .card").nth(0).locator(".label").inner_text() == "\u2192 blast"
    # the next cell is selected: Enter confirms it, s calls the third a smudge
    assert "selected" in page.locator("#gallery .card").nth(1).get_attribute("class")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#gallery .card.done').length == 2")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("s")
    page.wait_for_function("document.querySelector('#reviewed-smudge').innerText == '1'")
    assert page.locator("#reviewed-wbc").inner_text() == "2"

    page.reload()  # kept: the page is rebuilt from review.json
    assert reviewed(page, "blast") == "1" and page.locator("#reviewed-smudge").inner_text() == "1"
    assert [page.locator("#gallery .card").nth(i).locator(".label").inner_text() for i in range(3)] == [
        "\u2192 blast",
        "confirmed",
        "\u2192 smudge",
    ]
    # a click on a cell's outline selects its card
    page.locator("polygon.cell").nth(0).click(force=True)
    selected = page.locator("#gallery .card.selected").get_attribute("data-id")
    assert selected == page.locator("polygon.cell").nth(0).get_attribute("data-id")
    assert set(hosts) == {"127.0.0.1"}  # nothing loaded from the network

    row = next(r for r in csv.DictReader((out / "summary.csv").open()) if r["folder"] == "a")
    assert (row["reviewed_blast"], row["smudge"], row["reviewers"]) == ("1", "1", "tester")
    assert export_reviews([out], tmp_path / "export") == 2
    assert sorted(s.labels[0] for s in read_dataset(tmp_path / "export").samples) == ["blast", "lymphocyte"]


def test_red_cells_are_reclassified_from_their_lists_and_the_flags_follow(browser, red_server, red_out):
    page = browser.new_page()
    page.goto(f"{red_server}/images/a")
    cards = page.locator("#red-gallery .red-card")
    count = cards.count()
    assert count > 20 and "normal_cells: normal" in page.locator("#reviewed-flags").inner_text()
    sprite = cards.first.locator(".sprite")
    assert "overlay.png" in sprite.evaluate("e => getComputedStyle(e).backgroundImage")
    assert sprite.bounding_box()["width"] > 20  # the window of the overlay around the cell is shown
    for index in range(count // 2 + 1):  # over half called schistocytes: normal cells fall below 50 %
        cards.nth(index).locator("select").select_option("schistocyte")
        page.wait_for_function(f"document.querySelectorAll('#red-gallery .red-card.done').length == {index + 1}")
        if index == 0:  # one schistocyte, over 1 % of too few red cells: held back, shown as such
            page.wait_for_function("(document.querySelector('#reviewed-held-back')?.innerText || '').includes('1 of')")
    page.wait_for_function(f"document.querySelector('#reviewed-red-cells').innerText.startsWith('{count // 2 + 1} ')")
    assert "normal_cells" not in page.locator("#reviewed-flags").inner_text()
    assert "schistocytes" in page.locator("#reviewed-flags").inner_text()  # now shown above 1 % on these cells
    assert cards.first.locator(".label").inner_text() == "\u2192 schistocyte"
    page.keyboard.press("1")  # keys go to the white cells, not to the focused list
    page.wait_for_function("document.querySelectorAll('#gallery .card.done').length == 1")
    page.reload()
    assert page.locator("#red-gallery .red-card").first.locator("select").input_value() == "schistocyte"
    assert page.locator("#red-gallery .red-card.done").count() == count // 2 + 1
    (row,) = csv.DictReader((red_out / "summary.csv").open())
    assert (row["reviewed_red_cells"], row["reviewed_cells"], row["reviewed_flags"]) == (
        str(count // 2 + 1),
        "1",
        "uncertain_cells;schistocytes",
    )
