"""Each page's "verified" stamp (guidekit/generated/stamp.py) and the run's record behind it
(guidekit/run_record.py, written by guidekit/verification.py and guidekit/tested_with.py).

The stamp's rules are checked on a small project in a temporary folder, with records planted
there or written by real pytest runs of that project; the built site shows the stamp on every page.
"""

import json
import multiprocessing
import re
import subprocess
import sys
from pathlib import Path

import pytest

from guidekit import run_record, tested_with, verification
from guidekit.generated.stamp import stamp_text
from guidekit.site.build import BuiltSite
from guidekit.verification import Run, enter

SHOWN = (
    "import fastapi\nfrom sqlalchemy import select\n\n# --8<-- [start:shown]\nQUERY = select(1)\n# --8<-- [end:shown]\n"
)
STARTED = "2026-12-01T10:00:00.000000Z"


def make_project(root: Path) -> Path:
    """A project with a page that includes code touching the database, and a page of prose only."""
    (root / "docs").mkdir(parents=True)
    (root / "snippets" / "app").mkdir(parents=True)
    (root / "snippets" / "app" / "shown.py").write_text(SHOWN, encoding="utf-8")
    (root / "docs" / "code.md").write_text('# Code\n\n```python\n--8<-- "app/shown.py:shown"\n```\n', encoding="utf-8")
    (root / "docs" / "prose.md").write_text("# Prose\n\nNo code here.\n", encoding="utf-8")
    return root


def plant(root: Path, outcome: str = "passed") -> None:
    """A record as a run that started at STARTED would leave it, seeing the project's files as they are now."""
    pages = sorted(page.relative_to(root).as_posix() for page in (root / "docs").glob("*.md"))
    files = run_record.fingerprint(pages, root)
    packages = {"fastapi": "0.1.2", "sqlalchemy": "2.0.1"}
    run = Run(STARTED, "all", pages, files, packages, run_record.imports_by_file(list(files), root))

    def change(recorded: run_record.Record) -> None:
        recorded.update(postgresql="18.4", recorded_at=STARTED[:10], postgresql_at="2026-12-01T10:00:05.000000Z")
        enter(recorded, run, outcome)

    run_record.update(root, change)


def test_a_fresh_record_shows_the_date_and_the_versions_of_what_the_page_imports(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    plant(root)
    # The versions are the record's (the run's), not the ones installed now.
    assert (
        stamp_text("docs/code.md", root)
        == "Verified 2026-12-01 with fastapi 0.1.2, sqlalchemy 2.0.1 and PostgreSQL 18.4."
    )
    assert (
        stamp_text("docs/prose.md", root)
        == "Verified 2026-12-01: no service code on this page; its fences and links passed."
    )


def test_a_missing_record_shows_not_recorded(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    assert stamp_text("docs/code.md", root).startswith("Not verified: no test run is recorded")


def test_a_stale_record_shows_the_page_as_not_verified_since_its_code_changed(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    plant(root)  # the record holds the hashes of the files as they are now: the code changes after it
    shown = root / "snippets" / "app" / "shown.py"
    shown.write_text(SHOWN.replace("select(1)", "select(2)"), encoding="utf-8")
    (root / "docs" / "prose.md").write_text("# Prose\n\nOther words.\n", encoding="utf-8")

    assert stamp_text("docs/code.md", root) == (
        "Not verified since this page's code changed (`snippets/app/shown.py` differs from what the last run tested)."
    )
    assert stamp_text("docs/prose.md", root).startswith("Not verified since this page's code changed (`docs/prose.md`")


def test_a_failed_or_interrupted_run_leaves_no_verified_stamp(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    plant(root)
    plant(root, "failed")
    assert stamp_text("docs/code.md", root) == "Not verified: the last test run of this page failed."
    plant(root, "interrupted")
    assert stamp_text("docs/code.md", root) == "Not verified: the last test run of this page was interrupted."
    # Only the run the pages point at is kept.
    assert list(json.loads((root / run_record.RECORD).read_text())["runs"]) == [STARTED]


def test_a_page_no_recorded_run_covered_says_so(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    plant(root)
    (root / "docs" / "new.md").write_text("# New\n", encoding="utf-8")
    assert stamp_text("docs/new.md", root) == "Not verified: no recorded test run covered this page."


def _set_key(root: Path, key: str) -> None:
    run_record.update(root, lambda recorded: recorded.update({key: key}))


def test_processes_changing_the_record_at_once_lose_no_change(tmp_path: Path) -> None:
    """pytest-xdist's workers record the PostgreSQL version while the controller enters its run."""
    keys = [f"key{number}" for number in range(24)]
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        pool.starmap(_set_key, [(tmp_path, key) for key in keys])
    assert sorted(json.loads((tmp_path / run_record.RECORD).read_text())) == sorted(keys)
    assert [path.name for path in (tmp_path / ".record").iterdir() if path.suffix == ".tmp"] == []


PASSING = "def test_passes() -> None:\n    assert True\n"
FAILING = "def test_fails() -> None:\n    assert False\n"


def run_pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A real pytest run of the small project, with the site's plugin, in a process of its own."""
    command = [sys.executable, "-m", "pytest", "-p", "guidekit.verification", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False, timeout=120)


def test_a_real_run_enters_the_record_only_when_it_verifies_and_marks_a_failure(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["checks"]\n', encoding="utf-8")
    (root / "checks").mkdir()
    (root / "checks" / "test_one.py").write_text(PASSING, encoding="utf-8")

    narrowed = run_pytest(root, "-p", "no:randomly", "-k", "passes", f"--basetemp={tmp_path / 'bt0'}")
    assert narrowed.returncode == 0, narrowed.stdout
    assert not (root / run_record.RECORD).exists(), "a run of part of the suite verified pages"

    whole = run_pytest(root, f"--basetemp={tmp_path / 'bt1'}")
    assert whole.returncode == 0, whole.stdout
    assert re.fullmatch(
        r"Verified \d{4}-\d\d-\d\d with fastapi \S+, sqlalchemy \S+ and PostgreSQL \(not recorded by that run\)\.",
        stamp_text("docs/code.md", root),
    )

    (root / "checks" / "test_two.py").write_text(FAILING, encoding="utf-8")
    failed = run_pytest(root, f"--basetemp={tmp_path / 'bt2'}")
    assert failed.returncode == 1, failed.stdout
    assert stamp_text("docs/code.md", root) == "Not verified: the last test run of this page failed."


PAGE_OPTION = "def pytest_addoption(parser):\n    parser.addoption('--page', default=None)\n"


def small_suite(root: Path) -> Path:
    """The small project with one passing test under `testpaths` and a stand-in for the site's `--page` option."""
    make_project(root)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["checks"]\n', encoding="utf-8")
    (root / "checks").mkdir()
    (root / "checks" / "test_one.py").write_text(PASSING, encoding="utf-8")
    (root / "conftest.py").write_text(PAGE_OPTION, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    "args",
    [
        ["--fixtures"],
        ["--fixtures-per-test"],
        ["--setup-plan"],
        ["--setup-only"],
        ["-o", "testpaths=checks/test_one.py"],
        ["--page", "docs/code.md", "checks/test_one.py"],
        ["--page", "docs/code.md", "checks/test_one.py::test_passes"],
        ["checks/test_one.py"],
        ["--no-cov"],
        ["--cov-fail-under=0"],
        ["-W", "ignore::DeprecationWarning"],
        ["-p", "no:warnings"],
        ["-o", "filterwarnings=ignore"],
    ],
    ids=lambda args: " ".join(args),
)
def test_a_run_that_runs_no_test_body_or_less_than_its_scope_verifies_no_page(args: list[str], tmp_path: Path) -> None:
    root = small_suite(tmp_path / "project")
    done = run_pytest(root, *args, f"--basetemp={tmp_path / 'bt'}")
    assert done.returncode == 0, done.stdout
    assert not (root / run_record.RECORD).exists(), f"`pytest {' '.join(args)}` verified pages"


def test_a_page_run_verifies_that_page_only(tmp_path: Path) -> None:
    root = small_suite(tmp_path / "project")
    done = run_pytest(root, "--page", "docs/code.md", f"--basetemp={tmp_path / 'bt'}")
    assert done.returncode == 0, done.stdout
    assert stamp_text("docs/code.md", root).startswith("Verified ")
    assert stamp_text("docs/prose.md", root) == "Not verified: no recorded test run covered this page."


SKIPPED = (
    "import pytest\n\n\n@pytest.mark.skip(reason='not here')\ndef test_skipped() -> None:\n    assert False\n\n\n"
    "def test_skips_in_its_body() -> None:\n    pytest.skip('not here either')\n"
)
CTRL_C = "import os\nimport signal\n\n\ndef test_stopped() -> None:\n    os.kill(os.getpid(), signal.SIGINT)\n"


def test_a_run_whose_every_test_skipped_or_that_a_ctrl_c_stopped_verifies_nothing(tmp_path: Path) -> None:
    """Exit status 0 with no test body run is "ran no test"; a Ctrl-C is "was interrupted", not "failed"."""
    root = small_suite(tmp_path / "project")
    (root / "checks" / "test_one.py").write_text(SKIPPED, encoding="utf-8")
    skipped = run_pytest(root, f"--basetemp={tmp_path / 'bt0'}")
    assert skipped.returncode == 0, skipped.stdout
    assert stamp_text("docs/code.md", root) == "Not verified: the last test run of this page ran no test."

    (root / "checks" / "test_one.py").write_text(CTRL_C, encoding="utf-8")
    stopped = run_pytest(root, f"--basetemp={tmp_path / 'bt1'}")
    assert stopped.returncode == pytest.ExitCode.INTERRUPTED, stopped.stdout
    assert stamp_text("docs/code.md", root) == "Not verified: the last test run of this page was interrupted."


KILLED = "import os\n\n\ndef test_killed() -> None:\n    os._exit(1)\n"
BROKEN = "import no_such_module_here  # noqa\n"


def test_a_killed_run_or_a_collection_error_leaves_no_verified_stamp(tmp_path: Path) -> None:
    """A run killed before its end (a time limit's `os._exit`, SIGKILL) cannot write its end; the mark it
    wrote at its start stays. A collection error is a failure, not an interruption."""
    root = small_suite(tmp_path / "project")
    assert run_pytest(root, f"--basetemp={tmp_path / 'bt0'}").returncode == 0
    assert stamp_text("docs/code.md", root).startswith("Verified ")

    (root / "checks" / "test_killed.py").write_text(KILLED, encoding="utf-8")
    killed = run_pytest(root, "-p", "no:randomly", f"--basetemp={tmp_path / 'bt1'}")
    assert killed.returncode == 1, killed.stdout
    assert stamp_text("docs/code.md", root) == "Not verified: the last test run of this page did not finish."

    (root / "checks" / "test_killed.py").write_text(BROKEN, encoding="utf-8")
    broken = run_pytest(root, f"--basetemp={tmp_path / 'bt2'}")
    assert broken.returncode == pytest.ExitCode.INTERRUPTED, broken.stdout
    assert stamp_text("docs/code.md", root) == "Not verified: the last test run of this page failed."


_ARTICLE = re.compile(r'<article class="md-content__inner md-typeset">(.*?)</article>', re.DOTALL)
_STAMP = re.compile(r'<p class="page-stamp" data-search-exclude>(?:Verified|Not verified)[^\n]*</p>')


def test_every_page_of_the_built_site_ends_with_its_stamp_and_llms_txt_has_it(built_site: BuiltSite) -> None:
    pages = sorted(path for path in built_site.path.rglob("index.html") if (path.parent / "index.md").is_file())
    assert len(pages) > 40
    for page in pages:
        article = _ARTICLE.search(page.read_text(encoding="utf-8"))
        assert article, page
        stamps = list(_STAMP.finditer(article[1]))
        assert len(stamps) == 1, f"{page.relative_to(built_site.path)}: {len(stamps)} stamps"
        after = re.sub(r"<[^>]+>", "", article[1][stamps[0].end() :])
        assert not after.strip(), f"{page.relative_to(built_site.path)}: text after the stamp: {after[:80]}"
    index = (built_site.path / "search/search_index.json").read_text(encoding="utf-8")
    assert "Not verified:" not in index
    assert "Verified 20" not in index
    listed = [line for line in (built_site.path / "llms.txt").read_text(encoding="utf-8").splitlines() if "- [" in line]
    assert len(listed) == len(pages)
    assert all(re.search(r"\): (Verified|Not verified)", line) for line in listed), listed[:3]


def test_a_namespace_package_counts_only_the_distribution_holding_the_imported_module(tmp_path: Path) -> None:
    """`opentelemetry` is installed by a dozen distributions; `from opentelemetry import trace` uses one."""
    modules = run_record.imported_modules("from opentelemetry import trace\nimport opentelemetry.sdk.trace\n")
    assert run_record.distributions(modules, make_project(tmp_path)) == {"opentelemetry-api", "opentelemetry-sdk"}


def test_a_page_rendering_docstrings_vouches_for_the_documented_module(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "docs" / "reference.md").write_text("# Reference\n\n::: app.shown.QUERY\n", encoding="utf-8")
    plant(root)
    assert run_record.page_files("docs/reference.md", root) == ["docs/reference.md", "snippets/app/shown.py"]
    assert stamp_text("docs/reference.md", root).startswith("Verified 2026-12-01 with fastapi 0.1.2")


def test_the_build_during_a_run_waits_for_the_version_not_for_the_runs_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run enters the record when it starts, so the record's own time cannot tell the build that this
    run's PostgreSQL version is in it; `POSTGRESQL_SEEN`, which only recording the version touches, can."""
    seen = tmp_path / ".record" / "postgresql-seen"
    monkeypatch.setattr(tested_with, "ROOT", tmp_path)
    monkeypatch.setattr(tested_with, "POSTGRESQL_SEEN", seen)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n", encoding="utf-8")
    run = Run(verification.now(), "all", ["docs/page.md"], {}, {}, {})
    run_record.update(tmp_path, lambda recorded: enter(recorded, run, verification.RUNNING))
    assert not seen.exists(), "starting a run marked the version as recorded"

    tested_with.write_record("18.4")
    assert seen.stat().st_mtime_ns >= (tmp_path / run_record.RECORD).stat().st_mtime_ns
    assert json.loads((tmp_path / run_record.RECORD).read_text(encoding="utf-8"))["postgresql"] == "18.4"
