"""The pure parts of scripts/bench_lighthouse.py, and the server it measures pages through.

The benchmark itself is not a test (Lighthouse's figures depend on the machine's load); what it
computes from Lighthouse's reports, and that the pages reach Lighthouse compressed as GitHub Pages
sends them, are.
"""

import gzip
import http.client
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scripts.bench_lighthouse import Figures, RunError, figures_from, median, report_path, summary, table, url_paths


def _report(score: float | None, lcp: float = 1200.0, tbt: float = 50.0, dom: int = 800) -> dict[str, object]:
    """A Lighthouse JSON report, reduced to what the benchmark reads."""
    failed = {"errorMessage": "The page did not paint any content. (NO_FCP)"} if score is None else {}
    return {
        "categories": {"performance": {"score": score}},
        "audits": {
            "largest-contentful-paint": {"numericValue": lcp, **failed},
            "total-blocking-time": {"numericValue": tbt},
            "dom-size": {"numericValue": dom},
        },
    }


def test_figures_are_read_from_a_lighthouse_report() -> None:
    assert figures_from(_report(0.934, lcp=2500.5, tbt=120.0, dom=1500)) == Figures(93, 2500.5, 120.0, 1500)


def test_each_runs_full_report_is_named_by_page_preset_and_run(tmp_path: Path) -> None:
    assert report_path(tmp_path, "devops/celery/", "mobile", 2) == tmp_path / "devops-celery-mobile-2.json"
    assert report_path(tmp_path, "", "desktop", 1) == tmp_path / "home-desktop-1.json"
    assert report_path(None, "tutorial/", "mobile", 1) is None


def test_a_report_without_a_score_fails_the_run_with_lighthouse_s_reason() -> None:
    with pytest.raises(RunError, match="NO_FCP"):
        figures_from(_report(None))


def test_the_median_is_taken_figure_by_figure() -> None:
    runs = [Figures(80, 3000, 100, 900), Figures(95, 1000, 900, 900), Figures(90, 2000, 300, 900)]
    assert median(runs) == Figures(90, 2000, 300, 900)


def test_the_table_marks_each_score_under_its_target_and_the_summary_names_the_pages() -> None:
    results = {
        "/tutorial/": {"mobile": Figures(57, 6700, 5500, 6050), "desktop": Figures(99, 800, 0, 6050)},
        "/": {"mobile": Figures(98, 1500, 20, 700), "desktop": Figures(97, 700, 10, 700)},
    }
    lines = table(results).splitlines()
    assert "57*" in lines[2]
    assert "99 " in lines[2]
    assert "97*" in lines[3]
    assert "98 " in lines[3]
    assert "mobile target: 1 under 90: /tutorial/" in summary(results)
    assert "desktop target: 1 under 98: /" in summary(results)
    assert "desktop: not measured" in summary({page: {"mobile": by["mobile"]} for page, by in results.items()})


def test_pages_are_named_by_url_or_by_source_and_an_unknown_page_is_refused() -> None:
    assert url_paths(["/tutorial/", "devops/celery.md", "docs/database/soft-delete.md"]) == [
        "tutorial/",
        "devops/celery/",
        "database/soft-delete/",
    ]
    assert "" in url_paths(None)  # the home page, with every other nav page
    with pytest.raises(RuntimeError, match="not a nav page"):
        url_paths(["/nowhere/"])


@pytest.fixture
def pages_server(tmp_path: Path) -> Iterator[str]:
    """A folder with a page and an image, served by `python -m guidekit.site.pages_server` (its own process)."""
    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "index.html").write_text("<p>" + "code " * 500 + "</p>")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG" + bytes(200))
    server = subprocess.Popen(
        [sys.executable, "-m", "guidekit.site.pages_server", str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    try:
        yield server.stdout.readline().strip()
    finally:
        server.terminate()
        server.communicate(timeout=10)


def _get(url: str, encoding: str) -> tuple[str | None, bytes]:
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.netloc, timeout=10)
    try:
        connection.request("GET", address.path, headers={"Accept-Encoding": encoding})
        response = connection.getresponse()
        return response.getheader("Content-Encoding"), response.read()
    finally:
        connection.close()


def test_the_server_sends_text_gzip_compressed_to_a_client_that_accepts_it(pages_server: str) -> None:
    encoding, body = _get(pages_server + "page/", "gzip, deflate")
    assert encoding == "gzip"
    assert gzip.decompress(body).startswith(b"<p>code code")
    assert len(body) < 100


def test_the_server_sends_images_and_plain_clients_the_file_as_it_is(pages_server: str) -> None:
    assert _get(pages_server + "logo.png", "gzip") == (None, b"\x89PNG" + bytes(200))
    encoding, body = _get(pages_server + "page/", "identity")
    assert encoding is None
    assert body.startswith(b"<p>code code")
