"""The review app over HTTP: pages without JavaScript, corrections, and nothing served outside OUT."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient
from stubs import analyser, smear

from hemseg.diagnosis import diagnose_images
from hemseg.postproc import StainReference
from hemseg.review import create_app


def request(base: str, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
    """One raw request (the path is sent as written: no client-side normalisation of '..')."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.request(method, path, body, {"Content-Type": "application/json"} if body is not None else {})
    response = connection.getresponse()
    return response.status, response.read()


def test_pages_read_without_javascript(server):
    status, page = request(server, "GET", "/")
    text = page.decode()
    assert status == 200 and "/images/a" in text and "/images/b" in text
    assert "uncertain_cells" in text and "not a medical device" in text
    status, page = request(server, "GET", "/images/a")
    text = page.decode()
    assert status == 200 and text.count("class='card") + text.count('class="card') == 3
    assert "lymphocyte 0.55" in text and "next: neutrophil" in text and text.count("<polygon") == 3


def test_a_correction_is_saved_and_recomputes_the_findings(server, out):
    cells = json.loads(request(server, "GET", "/api/images/a")[1])["cells"]
    first = cells[0]
    assert (first["class"], first["review"], first["label"]) == ("lymphocyte", True, None)
    status, body = request(server, "POST", f"/api/images/a/cells/{first['id']}", json.dumps({"label": "blast"}))
    found = json.loads(body)
    assert status == 200 and found["counts"]["blast"] == 1 and found["reviewers"] == ["tester"]
    assert "blasts_present" in [f["name"] for f in found["flags"]]
    assert json.loads((out / "a" / "review.json").read_text())["corrections"][0]["label"] == "blast"
    status, fragment = request(server, "GET", "/images/a/summary")
    assert status == 200 and "blasts_present" in fragment.decode()


def test_red_cells_are_listed_and_reclassified_over_http(red_server, red_out):
    status, page = request(red_server, "GET", "/images/a")
    text = page.decode()
    assert status == 200 and "Red cells (" in text and "background-position:-" in text
    state = json.loads(request(red_server, "GET", "/api/images/a")[1])
    assert state["red_labels"] == ["normal", "microcyte", "schistocyte", "not_rbc"]
    red = [c for c in state["cells"] if c["class"] == "normal"]
    assert len(red) > 20 and all(c["probability"] == pytest.approx(0.7) for c in red)
    path = f"/api/images/a/cells/{red[0]['id']}"
    assert request(red_server, "POST", path, json.dumps({"label": "lymphocyte"}))[0] == 422  # a white-cell class
    status, body = request(red_server, "POST", path, json.dumps({"label": "microcyte"}))
    found = json.loads(body)
    assert status == 200 and found["red_cells"]["counts"]["microcyte"] == 1 and found["reviewed_red_cells"] == 1
    assert (
        json.loads((red_out / "a" / "report.json").read_text())["review"]["red_cells"]["counts"]["normal"]
        == len(red) - 1
    )
    path = f"/api/images/a/cells/{red[1]['id']}"  # one schistocyte: over 1 %, on far fewer than 1,000 red cells
    held_back = json.loads(request(red_server, "POST", path, json.dumps({"label": "schistocyte"}))[1])["held_back"]
    assert [f["name"] for f in held_back] == ["schistocytes"]
    fragment = request(red_server, "GET", "/images/a/summary")[1].decode()
    assert "Not flagged, too few red cells counted" in fragment and f"schistocyte 1 of {len(red)} red cells" in fragment


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/images/a/cells/{cell}", '{"label": "dog"}', 422),
        ("/api/images/a/cells/999", '{"label": "blast"}', 404),
        ("/api/images/zz/cells/{cell}", '{"label": "blast"}', 404),
        ("/api/images/a/cells/{cell}", "not json", 400),
        ("/api/images/a/cells/{cell}", '{"labels": "blast"}', 400),
        ("/api/images/a/cells/{cell}", '{"label": 3}', 400),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(server, out, path, body, status):
    cell = json.loads(request(server, "GET", "/api/images/a")[1])["cells"][0]["id"]
    before = (out / "a" / "report.json").read_text()
    assert request(server, "POST", path.format(cell=cell), body)[0] == status
    assert not (out / "a" / "review.json").exists() and (out / "a" / "report.json").read_text() == before


def test_only_files_under_out_are_served(server, out, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("outside OUT")
    (out / "a" / "link.txt").symlink_to(secret)
    assert request(server, "GET", "/files/a/overlay.png")[0] == 200
    for path in [
        "/files/../secret.txt",
        "/files/a/../../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/a/..%2f..%2fsecret.txt",
        "/files/a/%2e%2e%2f%2e%2e%2fsecret.txt",
        f"/files/{secret}",
        f"/files/{str(secret).replace('/', '%2f')}",
        "/files/a/link.txt",
        "/images/..%2f..%2fsecret.txt",
        "/static/../../secret.txt",
    ]:
        status, body = request(server, "GET", path)
        assert status in (400, 404) and b"outside OUT" not in body, path


def test_a_folder_that_is_no_diagnose_output_is_refused(tmp_path):
    from hemseg.diagnosis import ReviewError
    from hemseg.review import create_app

    with pytest.raises(ReviewError, match=r"no summary\.csv"):
        create_app(Path(tmp_path))


def test_a_cell_of_an_unfamiliar_stain_says_why_it_is_marked(tmp_path):
    Image.fromarray(smear()[0]).save(tmp_path / "a.png")
    everything_unfamiliar = StainReference({"any": (np.zeros(6), np.eye(6))}, -1.0)
    diagnose_images(analyser(stain_reference=everything_unfamiliar), [tmp_path / "a.png"], tmp_path / "out")
    page = TestClient(create_app(tmp_path / "out")).get("/images/a").text
    assert page.count("for review (unfamiliar stain)") == 3  # the confident neutrophil too
