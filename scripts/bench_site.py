"""Measure the site as readers and contributors meet it, and print medians against the targets.

    uv run python scripts/bench_site.py [--runs N] [--pytest-runs N]

- a cold `mkdocs build --strict` (new process, empty output folder); target under 10 s;
- a cold `zensical build` of the same site (empty cache), for comparison (no target);
- the heaviest page's first load in a new browser (empty cache): every byte transferred for
  HTML, CSS, JS, fonts and images (the search index loads only once search is opened:
  overrides/main.html), served gzip-compressed as GitHub Pages serves it (and uncompressed, for
  reference); target at most 400 KB;
- the search index (`search/search_index.json`), raw and gzip-compressed; target at most 1 MB;
- search latency in Chromium, from the keystroke to results on screen, over the queries of
  tests/browser/test_search.py; target at most 100 ms;
- `uv run pytest` wall time, and that time per fence the fence guard verified (read from its
  totals in pytest's output; "n/a" with the reason when there are none).

Figures, not assertions: the machine may be shared, so compare medians between runs.
"""

import argparse
import gzip
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, Request, sync_playwright

from guidekit.markdown.nav import nav_pages, page_url_path
from guidekit.paths import ROOT
from guidekit.site.browser import search
from guidekit.site.chromium import CHROMIUM_ARGS, chromium_executable
from guidekit.site.pages_server import served
from guidekit.site.search_queries import QUERIES
from guidekit.site.zensical import zensical_build

KB = 1024
# The fence guard's totals line: kind, found, verified, opted out, failed, pending.
FENCE_TOTALS = re.compile(r"^all\s+(\d+)\s+(\d+)\s+(\d+)", re.MULTILINE)


def build(site_dir: Path, site_url: str | None = None) -> float:
    """One cold `mkdocs build --strict` into `site_dir`; its wall time in seconds."""
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if site_url:
        environment["SITE_URL"] = site_url
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site_dir)]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=environment, check=True, capture_output=True)
    return time.perf_counter() - started


def first_load_bytes(browser: Browser, url: str) -> tuple[int, list[str]]:
    """Every byte (headers and bodies as sent) a new reader's browser transfers to show `url`."""
    context = browser.new_context(service_workers="block")
    finished: list[Request] = []
    context.on("requestfinished", lambda request: finished.append(request))
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    sizes = [(request.sizes(), request.url) for request in finished]
    context.close()
    total = sum(size["responseBodySize"] + size["responseHeadersSize"] for size, _ in sizes)
    return total, [address for _, address in sizes]


def first_loads(browser: Browser, base_url: str) -> list[tuple[int, str, list[str]]]:
    """Every page of the nav by the bytes its first load transfers, heaviest first."""
    loads = [(*first_load_bytes(browser, base_url + page_url_path(source)), source) for source in nav_pages()]
    return sorted(((size, source, urls) for size, urls, source in loads), reverse=True)


def search_latencies(browser: Browser, base_url: str, runs: int) -> list[float]:
    """Milliseconds from keystroke to results shown, for every query, `runs` times."""
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    page.goto(base_url, wait_until="networkidle")
    search(page, base_url, QUERIES[0][0])  # warm: the first search also builds the index
    latencies = [search(page, base_url, query).milliseconds for _ in range(runs) for query, _ in QUERIES]
    context.close()
    return latencies


def pytest_figures(runs: int) -> tuple[float, str]:
    """Median wall time of `uv run pytest`, and the guard's verified fence count (or why there is none)."""
    uv = shutil.which("uv")
    assert uv, "uv is not on PATH"
    timings: list[float] = []
    output = ""
    for _ in range(runs):
        started = time.perf_counter()
        completed = subprocess.run(
            [uv, "run", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        timings.append(time.perf_counter() - started)
        output = completed.stdout + completed.stderr
        if completed.returncode != 0:
            print(f"warning: `uv run pytest` failed (exit {completed.returncode}); its time is still reported")
    seconds = statistics.median(timings)
    totals = FENCE_TOTALS.search(output)
    if totals is None:
        return seconds, "n/a (no fence guard totals in pytest's output: the guard is not on this branch yet)"
    found, verified, opted_out = (int(number) for number in totals.groups())
    if verified == 0:
        return seconds, f"n/a (the guard verified no fence: {found} found, {opted_out} opted out)"
    return seconds, f"{seconds / verified * 1000:.0f} ms per verified fence ({verified} of {found} verified)"


def verdict(value: float, limit: float) -> str:
    """`ok` or `OVER` against a target that is an upper bound."""
    return "ok" if value <= limit else "OVER"


def main() -> None:
    """Measure everything and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repeats for the build and search figures")
    parser.add_argument("--pytest-runs", type=int, default=1, help="repeats of the whole test suite (0: skip)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        builds = [build(Path(scratch) / f"cold-{run}") for run in range(arguments.runs)]
        median_build = statistics.median(builds)
        print(
            f"cold mkdocs build --strict: {median_build:.1f} s median of {len(builds)} (target < 10 s: "
            f"{verdict(median_build, 10)})"
        )
        zensical = statistics.median(zensical_build()[1] for _ in range(arguments.runs))
        print(f"cold zensical build: {zensical:.1f} s median of {arguments.runs}")

        index = Path(scratch) / "cold-0" / "search" / "search_index.json"
        raw = index.stat().st_size
        packed = len(gzip.compress(index.read_bytes(), compresslevel=6))
        target = verdict(raw, 1024 * KB)
        print(f"search index: {raw / KB:.0f} KB raw, {packed / KB:.0f} KB gzip (target <= 1024 KB: {target})")

        executable = chromium_executable()
        if executable is None:
            print("page weight and search latency: n/a (no Chromium: apt-get install chromium)")
        else:
            served_dir = Path(scratch) / "served"
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                for compress in (True, False):
                    with served(served_dir, compress=compress) as base_url:
                        if not served_dir.exists():
                            build(served_dir, base_url)  # its own address: instant navigation works
                        loads = first_loads(browser, base_url)
                        size, source, urls = loads[0]
                        # The target is on bytes transferred, which is the gzip-compressed weight.
                        how = "gzip, as GitHub Pages serves it" if compress else "uncompressed"
                        against = f"target <= 400 KB: {verdict(size, 400 * KB)}" if compress else "for reference"
                        print(
                            f"heaviest first load ({how}): {size / KB:.0f} KB, {source}, {len(urls)} requests "
                            f"({against})"
                        )
                        others = ", ".join(f"{page} {weight / KB:.0f} KB" for weight, page, _ in loads[1:4])
                        median_page = statistics.median(weight for weight, _, _ in loads)
                        print(f"  next: {others}; median page {median_page / KB:.0f} KB")
                        if compress:
                            latencies = search_latencies(browser, base_url, arguments.runs)
                browser.close()
            median_latency = statistics.median(latencies)
            print(
                f"search latency, keystroke to results shown: {median_latency:.0f} ms median of {len(latencies)} "
                f"(max {max(latencies):.0f} ms; target <= 100 ms: {verdict(median_latency, 100)})"
            )

    if arguments.pytest_runs > 0:
        seconds, per_fence = pytest_figures(arguments.pytest_runs)
        print(f"uv run pytest: {seconds:.0f} s median of {arguments.pytest_runs}; {per_fence}")


if __name__ == "__main__":
    main()
