"""Lighthouse performance of every nav page, on a phone and on a desktop, as GitHub Pages serves it.

    uv run python scripts/bench_lighthouse.py [--pages /tutorial/ devops/celery.md ...] [--runs N]
                                              [--presets mobile desktop] [--site DIR] [--json FILE]
                                              [--reports DIR]

Builds the site (`mkdocs build --strict`, or takes a built one with `--site`), serves it on
127.0.0.1 with gzip for text types, and runs Lighthouse 12.2.3 (npm; installed into
`.tools/lighthouse/` on first use) in Debian's Chromium, headless and offline, `--runs` times per
page with the mobile (default) and desktop presets. Prints, per page and preset, the median
performance score, largest contentful paint, total blocking time and DOM size, then the worst
pages and the pages under the targets: mobile >= 90, desktop >= 98.

A benchmark, not a test: Lighthouse simulates a slow phone from what it measures on this machine,
so a busy machine scores lower. The load average is printed with the figures.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guidekit.markdown.nav import nav_pages, page_url_path
from guidekit.paths import ROOT
from guidekit.site.chromium import CHROMIUM_ARGS, NO_BROWSER, chromium_executable
from guidekit.site.pages_server import served

LIGHTHOUSE = "lighthouse@12.2.3"
INSTALL_DIR = ROOT / ".tools" / "lighthouse"
"""Where npm installs Lighthouse (git-ignored); not in `.cache/`, which `zensical build --clean` empties."""
CLI = INSTALL_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
PRESETS = {"mobile": 90, "desktop": 98}
"""Each preset and its target performance score."""
# Headless and offline: nothing may reach another host (the machine has no network anyway).
CHROME_FLAGS = [
    "--headless=new",
    *(flag for flag in CHROMIUM_ARGS if flag != "--headless"),
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--mute-audio",
]


@dataclass(frozen=True)
class Figures:
    """What one Lighthouse run (or the median of several) says about one page."""

    score: float
    """Performance score, 0-100."""
    lcp_ms: float
    """Largest contentful paint."""
    tbt_ms: float
    """Total blocking time."""
    dom_size: int
    """Elements in the page's DOM."""


class SetupError(RuntimeError):
    """A tool the benchmark needs is missing; the message says how to get it."""


class RunError(RuntimeError):
    """One Lighthouse run gave no score (on a busy machine, a page may not paint in time: NO_FCP)."""


def figures_from(report: dict[str, Any]) -> Figures:
    """The figures of one Lighthouse JSON report (`--output=json`)."""
    audits = report["audits"]
    score = report["categories"]["performance"]["score"]
    if score is None:  # Lighthouse could not compute it: the metrics' audits say why
        errors = {audit.get("errorMessage") for audit in audits.values() if audit.get("errorMessage")}
        raise RunError(f"no performance score: {'; '.join(sorted(errors)) or report.get('runtimeError')}")
    return Figures(
        score=round(score * 100),
        lcp_ms=audits["largest-contentful-paint"]["numericValue"],
        tbt_ms=audits["total-blocking-time"]["numericValue"],
        dom_size=int(audits["dom-size"]["numericValue"]),
    )


def median(runs: list[Figures]) -> Figures:
    """Each figure's median over the runs."""
    if not runs:
        raise ValueError("no runs")
    return Figures(
        score=statistics.median(run.score for run in runs),
        lcp_ms=statistics.median(run.lcp_ms for run in runs),
        tbt_ms=statistics.median(run.tbt_ms for run in runs),
        dom_size=int(statistics.median(run.dom_size for run in runs)),
    )


def table(results: dict[str, dict[str, Figures]]) -> str:
    """One line per page: score, LCP, TBT and DOM size for each preset; `*` marks a missed target."""
    header = f"{'page':<36}" + "".join(f" | {preset:>7} {'LCP':>6} {'TBT':>7} {'DOM':>6}" for preset in PRESETS)
    lines = [header, "-" * len(header)]
    for page, by_preset in results.items():
        cells = []
        for preset, target in PRESETS.items():
            figures = by_preset.get(preset)
            if figures is None:
                cells.append(f" | {'-':>7} {'-':>6} {'-':>7} {'-':>6}")
                continue
            mark = "*" if figures.score < target else " "
            cells.append(
                f" | {figures.score:>6.0f}{mark} {figures.lcp_ms / 1000:>5.1f}s {figures.tbt_ms:>5.0f}ms"
                f" {figures.dom_size:>6}"
            )
        lines.append(f"{page:<36}" + "".join(cells))
    return "\n".join(lines)


def worst(results: dict[str, dict[str, Figures]], preset: str, count: int = 5) -> list[tuple[str, Figures]]:
    """The `count` pages with the lowest score for a preset, lowest first."""
    scored = [(page, by_preset[preset]) for page, by_preset in results.items() if preset in by_preset]
    return sorted(scored, key=lambda item: (item[1].score, -item[1].tbt_ms))[:count]


def summary(results: dict[str, dict[str, Figures]]) -> str:
    """The worst pages of each preset and every page under its target."""
    lines = []
    for preset, target in PRESETS.items():
        if not any(preset in by for by in results.values()):
            lines.append(f"{preset}: not measured")
            continue
        names = ", ".join(f"{page} {figures.score:.0f}" for page, figures in worst(results, preset))
        lines.append(f"worst {preset}: {names}")
        missed = [page for page, by in results.items() if preset in by and by[preset].score < target]
        verdict = f"{len(missed)} under {target}: {', '.join(missed)}" if missed else f"all >= {target}"
        lines.append(f"{preset} target: {verdict}")
    return "\n".join(lines)


def url_paths(selected: list[str] | None) -> list[str]:
    """The nav pages' URL paths (`tutorial/`), or those of the pages asked for, by URL or by source."""
    every = {page_url_path(source): source for source in nav_pages()}
    if not selected:
        return list(every)
    paths = []
    for wanted in selected:
        path = wanted.lstrip("/")
        if path.endswith(".md"):
            path = page_url_path(path.removeprefix("docs/"))
        if path not in every:
            raise SetupError(f"{wanted!r} is not a nav page; nav pages: {', '.join(every) or '/'}")
        paths.append(path)
    return paths


def lighthouse_cli() -> Path:
    """The Lighthouse CLI, installed with npm into `.tools/lighthouse/` if it is not there yet."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise SetupError("Lighthouse needs Node.js and npm: apt-get install -y nodejs npm")
    if not CLI.exists():
        print(f"installing {LIGHTHOUSE} into {INSTALL_DIR} ...", flush=True)
        installed = subprocess.run(
            [npm, "install", "--prefix", str(INSTALL_DIR), "--no-audit", "--no-fund", LIGHTHOUSE],
            capture_output=True,
            text=True,
            check=False,
        )
        if installed.returncode != 0 or not CLI.exists():
            raise SetupError(f"`npm install {LIGHTHOUSE}` failed:\n{installed.stdout}{installed.stderr}")
    return CLI


def run_lighthouse(cli: Path, chromium: Path, url: str, preset: str, report: Path | None = None) -> Figures:
    """One Lighthouse run of one page with one preset, in a Chromium of its own; its JSON report kept in `report`."""
    node = shutil.which("node")
    assert node is not None
    command = [
        node,
        str(cli),
        url,
        "--quiet",
        "--output=json",
        "--output-path=stdout",
        "--only-categories=performance",
        "--max-wait-for-load=60000",
        f"--chrome-flags={' '.join(CHROME_FLAGS)}",
    ]
    if preset == "desktop":
        command.append("--preset=desktop")
    completed = subprocess.run(
        command, env=os.environ | {"CHROME_PATH": str(chromium)}, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RunError(f"Lighthouse failed on {url} ({preset}):\n{completed.stderr[-2000:]}")
    if report is not None:
        report.write_text(completed.stdout)
    return figures_from(json.loads(completed.stdout))


def build(site_dir: Path, site_url: str) -> None:
    """`mkdocs build --strict` for the address the site is served at (instant navigation needs it)."""
    environment = os.environ | {"NO_MKDOCS_2_WARNING": "1", "SITE_URL": site_url}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site_dir)]
    completed = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SetupError(f"the site does not build:\n{completed.stdout}{completed.stderr}")


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages and its cores: context for the figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def report_path(reports: Path | None, path: str, preset: str, run: int) -> Path | None:
    """Where one run's full Lighthouse report goes (`tutorial-mobile-1.json`), or None when none is kept."""
    if reports is None:
        return None
    return reports / f"{path.strip('/').replace('/', '-') or 'home'}-{preset}-{run}.json"


def measure(
    site_dir: Path | None,
    pages: list[str],
    presets: list[str],
    runs: int,
    scratch: Path,
    reports: Path | None = None,
) -> dict[str, dict[str, Figures]]:
    """Serve the site (building it first unless given) and measure every page with both presets."""
    chromium = chromium_executable()
    if chromium is None:
        raise SetupError(NO_BROWSER)
    cli = lighthouse_cli()
    served_dir = site_dir or scratch / "site"
    results: dict[str, dict[str, Figures]] = {}
    with served(served_dir, compress=True) as base_url:
        if site_dir is None:
            print(f"building the site for {base_url} ...", flush=True)
            build(served_dir, base_url)
        print(f"{load_average()}; {len(pages)} pages x {len(presets)} presets x {runs} runs", flush=True)
        for path in pages:
            page = "/" + path
            results[page] = {}
            for preset in presets:
                started = time.perf_counter()
                each: list[Figures] = []
                for _ in range(2 * runs):  # a failed run is reported and made up for, once per run asked
                    if len(each) == runs:
                        break
                    try:
                        report = report_path(reports, path, preset, len(each) + 1)
                        each.append(run_lighthouse(cli, chromium, base_url + path, preset, report))
                    except RunError as error:
                        print(f"  {page} {preset}: run failed: {str(error).splitlines()[0][:300]}", flush=True)
                if each:
                    results[page][preset] = median(each)
                scores = " ".join(f"{run.score:.0f}" for run in each) or "no run gave a score"
                print(f"  {page} {preset}: {scores} ({time.perf_counter() - started:.0f} s)", flush=True)
    return results


def main() -> int:
    """Measure, print the table and the summary; exit 1 when a page misses its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="+", help="URL paths (/tutorial/) or sources (tutorial.md); default: all")
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page and preset (median)")
    parser.add_argument("--presets", nargs="+", choices=list(PRESETS), default=list(PRESETS), help="default: both")
    parser.add_argument("--site", type=Path, help="a built site to serve instead of building one")
    parser.add_argument("--json", type=Path, help="also write the medians to this file")
    parser.add_argument("--reports", type=Path, help="keep each run's full Lighthouse report (JSON) in this folder")
    arguments = parser.parse_args()
    if arguments.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        pages = url_paths(arguments.pages)
        with tempfile.TemporaryDirectory() as scratch:
            if arguments.reports:
                arguments.reports.mkdir(parents=True, exist_ok=True)
            results = measure(
                arguments.site, pages, arguments.presets, arguments.runs, Path(scratch), arguments.reports
            )
    except SetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print()
    print(f"Lighthouse {LIGHTHOUSE.split('@')[1]}, median of {arguments.runs}; {load_average()} (at the end)")
    print(table(results))
    print()
    print(summary(results))
    if arguments.json:
        medians = {page: {preset: vars(figures) for preset, figures in by.items()} for page, by in results.items()}
        arguments.json.write_text(json.dumps(medians, indent=2) + "\n")
    missed = any(figures.score < PRESETS[preset] for by in results.values() for preset, figures in by.items())
    failed = any(preset not in by for by in results.values() for preset in arguments.presets)
    return 1 if missed or failed else 0


if __name__ == "__main__":
    sys.exit(main())
