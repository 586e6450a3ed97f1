"""The upgrade and lowest-bounds checks (`scripts/upgrade_check.py`, `scripts/lowest_bounds.py`): the parts that
read lock files and pytest's output, the messages of a check that cannot run, and the weekly workflow.

The checks themselves run the whole suite in a clone; this module tests what decides their verdict.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from guidekit import lock_check
from guidekit.generated import proven_range
from guidekit.lock_check import CannotRunError, Failure, Move, failures_from, locked_versions, moves, outcome, suspects
from guidekit.paths import ROOT
from scripts import lowest_bounds, upgrade_check

WORKFLOW = ROOT / ".github" / "workflows" / "upgrade.yml"

OLD_LOCK = """
version = 1
requires-python = ">=3.12"

[[package]]
name = "httpx"
version = "0.28.1"

[[package]]
name = "sentry-sdk"
version = "2.75.0"

[[package]]
name = "gone"
version = "1.0"

[[package]]
name = "fastapi-postgres-guide"
source = { editable = "." }
"""

NEW_LOCK = OLD_LOCK.replace('"0.28.1"', '"0.29.0"').replace('name = "gone"', 'name = "arrived"')

# A failing run's end, as pytest prints it with -rfE (xdist or not) and a wide terminal.
FAILING_OUTPUT = """\
........F...E
=========================== short test summary info ============================
FAILED snippets/tests/api/test_items.py::test_a_client_error_is_a_problem[422] - AssertionError: assert 'loc' in {}
FAILED tests/test_site_build.py::test_build - httpx.HTTPStatusError: Server error '503 Service Unavailable'
ERROR snippets/tests/test_sentry.py::test_events_carry_no_user - TypeError: init() got an unexpected keyword 'x'
ERROR tests/broken_module.py
FAIL Required test coverage of 100% not reached. Total coverage: 99.12%
2 failed, 10 passed, 2 errors in 3.10s
"""


def test_a_lock_diff_names_each_package_that_moved_old_to_new() -> None:
    old = locked_versions(OLD_LOCK, "uv.lock")
    new = locked_versions(NEW_LOCK, "uv.lock")

    moved = moves(old, new)

    assert moved == [Move("arrived", None, "1.0"), Move("gone", "1.0", None), Move("httpx", "0.28.1", "0.29.0")]
    assert [str(move) for move in moved] == ["arrived 1.0 (new)", "gone 1.0 (removed)", "httpx 0.28.1 -> 0.29.0"]
    assert "fastapi-postgres-guide" not in old, "the project itself (no version) is not a locked release"


@pytest.mark.parametrize(
    ("text", "reason"),
    [("version = [", "not TOML"), ("version = 1\n", "no [[package]] tables")],
)
def test_a_file_that_is_not_a_lock_cannot_run_and_names_the_file(text: str, reason: str) -> None:
    with pytest.raises(CannotRunError, match=rf"snippets/poetry.lock is not a lock file.*{re.escape(reason)}"):
        locked_versions(text, "snippets/poetry.lock")


def test_the_failing_tests_and_their_first_error_lines_are_read_from_pytests_summary() -> None:
    assert failures_from(FAILING_OUTPUT) == [
        Failure(
            "snippets/tests/api/test_items.py::test_a_client_error_is_a_problem[422]",
            "AssertionError: assert 'loc' in {}",
        ),
        Failure(
            "tests/test_site_build.py::test_build", "httpx.HTTPStatusError: Server error '503 Service Unavailable'"
        ),
        Failure(
            "snippets/tests/test_sentry.py::test_events_carry_no_user",
            "TypeError: init() got an unexpected keyword 'x'",
        ),
        Failure("tests/broken_module.py", "(no message)"),
        Failure("coverage", "Required test coverage of 100% not reached. Total coverage: 99.12%"),
    ]


def test_a_failing_run_names_the_moved_packages_its_failures_mention() -> None:
    moved = [Move("httpx", "0.28.1", "0.29.0"), Move("sentry-sdk", "2.75.0", "2.76.0"), Move("redis", "8.1", "8.2")]
    failures = failures_from(FAILING_OUTPUT)

    assert suspects(moved, failures) == ["httpx"]
    assert suspects([Move("sentry-sdk", "2.75.0", "2.76.0")], [Failure("t", "in sentry_sdk/client.py")]) == [
        "sentry-sdk"
    ]
    assert suspects([Move("redis", "8.1", "8.2")], [Failure("t", "in redislite/client.py")]) == [], "not a prefix"


def test_the_report_of_a_failed_upgrade_names_what_moved_and_each_failing_test() -> None:
    moved = [Move("httpx", "0.28.1", "0.29.0")]

    text = upgrade_check.report(moved, failures_from(FAILING_OUTPUT), returncode=1)

    assert "httpx 0.28.1 -> 0.29.0" in text
    assert "FAILED: 5 failing test(s)" in text
    assert "Moved packages the failures name: httpx" in text
    assert "tests/test_site_build.py::test_build: httpx.HTTPStatusError" in text


def test_a_pytest_that_names_no_failure_cannot_run_rather_than_pass_or_fail() -> None:
    assert outcome(0, [], "") == lock_check.PASSED
    assert outcome(1, failures_from(FAILING_OUTPUT), FAILING_OUTPUT) == lock_check.FAILED
    with pytest.raises(CannotRunError, match="exit 3 and named no failing test"):
        outcome(3, [], "INTERNALERROR> Traceback")


def test_without_uv_the_check_cannot_run_names_what_to_install_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / ".record" / "upgrade.json"
    monkeypatch.setattr(upgrade_check, "UPGRADE_RECORD", record)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no uv, no git

    assert upgrade_check.main([]) == lock_check.CANNOT_RUN

    assert "`uv` is not installed: install uv (`pip install uv`" in capsys.readouterr().err
    assert not record.parent.exists()


def test_an_unreachable_package_index_cannot_run_names_the_setting_and_writes_nothing(tmp_path: Path) -> None:
    record = tmp_path / "upgrade.json"
    program = (
        "import sys; from scripts import upgrade_check as c; from pathlib import Path; "
        f"c.UPGRADE_RECORD = Path({str(record)!r}); sys.exit(c.main([]))"
    )
    # Port 9 (discard) refuses; no cache, so uv must ask the index.
    env = os.environ | {"UV_DEFAULT_INDEX": "http://127.0.0.1:9/simple", "UV_NO_CACHE": "1", "UV_HTTP_RETRIES": "0"}
    env["TMPDIR"] = str(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )

    assert completed.returncode == lock_check.CANNOT_RUN, completed.stdout + completed.stderr
    assert "`uv lock --upgrade` failed" in completed.stderr
    assert "set UV_DEFAULT_INDEX" in completed.stderr
    assert not record.exists()
    assert not list(tmp_path.glob("upgrade-check-*")), "the clone is removed"


SERVICE_PYPROJECT = """
[project]
dependencies = ["celery[redis]>=5.5,<6", "httpx>=0.28,<1", "opentelemetry-instrumentation-redis>=0.51b0,<1"]
[dependency-groups]
dev = ["pytest-asyncio>=1.2,<2"]
"""


def test_a_floor_the_lowest_resolution_could_not_take_is_named_with_the_release_it_took() -> None:
    declared = lowest_bounds.floors(SERVICE_PYPROJECT)
    locked = {"celery": "5.6.0", "httpx": "0.28.0", "opentelemetry-instrumentation-redis": "0.51b0"}
    locked |= {"pytest-asyncio": "1.3.0", "kombu": "5.7.0"}

    missed = lowest_bounds.unreached(declared, locked)

    assert declared["opentelemetry-instrumentation-redis"] == "0.51b0"
    assert missed == [("celery", "5.5", "5.6.0"), ("pytest-asyncio", "1.2", "1.3.0")]
    assert "raise the floor to 5.6.0" in lowest_bounds.report(locked, missed, [])


def test_a_dependency_without_a_floor_is_refused() -> None:
    with pytest.raises(ValueError, match="httpx has no lower bound"):
        lowest_bounds.floors('[project]\ndependencies = ["httpx<1"]\n')


def test_mypy_errors_count_as_failures_of_the_lowest_bounds() -> None:
    output = 'app/core/sentry.py:33: error: Unexpected keyword argument "x"  [call-arg]\nFound 1 error in 1 file\n'

    assert lowest_bounds.mypy_failures(output) == [
        Failure("mypy app/core/sentry.py:33", 'Unexpected keyword argument "x"  [call-arg]')
    ]


def workflow() -> dict[Any, Any]:
    """The upgrade workflow, parsed (YAML 1.1 reads the key `on` as True)."""
    parsed: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return parsed


def test_the_upgrade_workflow_runs_the_check_weekly_and_opens_a_pull_request_only_when_it_passed() -> None:
    parsed = workflow()
    [schedule] = parsed[True]["schedule"]
    *_, day_of_month, month, day_of_week = schedule["cron"].split()
    assert (day_of_month, month) == ("*", "*"), "every month, every day of it that is the day of the week"
    assert day_of_week.isdigit(), "once a week"

    assert parsed["permissions"] == {"contents": "read"}
    newest, lowest = parsed["jobs"]["newest"], parsed["jobs"]["lowest"]
    assert newest["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert "permissions" not in lowest, "the lowest bounds job only reads"
    assert [step.get("run") for step in lowest["steps"]][-1] == "uv run python scripts/lowest_bounds.py"
    steps = newest["steps"]
    runs = [step.get("run", "") for step in steps]
    check = runs.index("uv run python scripts/upgrade_check.py --apply")
    [pull_request] = [index for index, step in enumerate(steps) if "create-pull-request" in step.get("uses", "")]
    assert pull_request > check, "the pull request is opened after the check"
    assert "if" not in steps[pull_request], "only when every step before passed (a failed check stops the job)"
    assert set(steps[pull_request]["with"]["add-paths"].split()) == set(upgrade_check.LOCK_FILES)


def test_the_newest_job_installs_java_and_npm_before_the_whole_suite() -> None:
    """The check runs the suite with `CI=true`, where the HTML check fails without Java or npm."""
    newest = workflow()["jobs"]["newest"]
    lines = [line.strip() for step in newest["steps"] if "run" in step for line in step["run"].splitlines()]
    install = [
        index
        for index, line in enumerate(lines)
        if "apt-get install" in line and {"default-jre-headless", "npm"} <= set(line.split())
    ]
    assert install, "the newest job does not install Java and npm"
    check = lines.index("uv run python scripts/upgrade_check.py --apply")
    assert install[0] < check
    fetch = [index for index, line in enumerate(lines) if "nu_checker import vnu_jar; vnu_jar()" in line]
    assert fetch, "the checker is fetched inside the suite, within the HTML test's own time limit"
    assert fetch[0] < check


def test_the_check_takes_the_fetched_tools_into_its_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The clone has no git-ignored `.tools/`: the check copies it, so the suite does not fetch it again."""
    tools = tmp_path / "checkout" / ".tools"
    (tools / "vnu-jar-x").mkdir(parents=True)
    (tools / "vnu-jar-x" / "vnu.jar").write_text("jar", encoding="utf-8")
    monkeypatch.setattr(upgrade_check, "ROOT", tmp_path / "checkout")
    monkeypatch.setattr(upgrade_check, "TOOLS", tools)
    tree = tmp_path / "tree"
    tree.mkdir()
    upgrade_check.bring_tools(tree)
    assert (tree / ".tools" / "vnu-jar-x" / "vnu.jar").read_text(encoding="utf-8") == "jar"


def project_with_records(root: Path, records: dict[str, dict[str, Any]]) -> Path:
    """A project root with the service's pyproject and the given `.record/` files."""
    (root / "snippets").mkdir(parents=True)
    (root / "snippets" / "pyproject.toml").write_text(SERVICE_PYPROJECT, encoding="utf-8")
    for name, record in records.items():
        (root / ".record").mkdir(exist_ok=True)
        (root / ".record" / name).write_text(json.dumps(record), encoding="utf-8")
    return root


def test_the_proven_range_says_not_recorded_when_no_check_ran(tmp_path: Path) -> None:
    text = proven_range.generate([], project_with_records(tmp_path, {}))

    assert "- Lowest bounds: **not recorded**: run `uv run python scripts/lowest_bounds.py`" in text
    assert "- Newest releases: **not recorded**: run `uv run python scripts/upgrade_check.py`" in text
    assert "| `celery` | not recorded | not recorded |" in text


def test_the_proven_range_states_each_checks_versions_and_marks_a_failed_one(tmp_path: Path) -> None:
    lowest = {
        "checked_at": "2026-12-05T04:00:00+00:00",
        "commit": "0123456789abcdef",
        "result": "failed",
        "versions": {"celery": "5.6.0", "httpx": "0.28.0"},
        "unreached": [["celery", "5.5", "5.6.0"]],
        "failures": [],
    }
    newest = lowest | {"result": "passed", "versions": {"celery": "5.6.3", "httpx": "0.29.0"}, "unreached": []}
    text = proven_range.generate([], project_with_records(tmp_path, {"lowest.json": lowest, "upgrade.json": newest}))

    assert "- Lowest bounds: **failed** on 2026-12-05: 0 failing check(s); named: celery>=5.5 (the lowest" in text
    assert "- Newest releases: the whole suite passed on 2026-12-05 (commit `0123456789`)" in text
    assert "| `celery` | 5.6.0 (failed) | 5.6.3 |" in text
    assert "| `opentelemetry-instrumentation-redis` | not locked (failed) | not locked |" in text


def test_a_conftest_that_cannot_import_is_a_failure_naming_the_missing_module() -> None:
    """pytest exits 4 (usage error) when a conftest fails to import: with an old release, that is a finding."""
    output = (
        "ImportError while loading conftest '/clone/tree/snippets/tests/conftest.py'.\n"
        "tests/conftest.py:22: in <module>\n"
        "    from app.celery_app import celery_app\n"
        "E   ModuleNotFoundError: No module named 'sentry_sdk.integrations.otlp'\n"
    )

    failures = failures_from(output)

    assert failures == [
        Failure(
            "/clone/tree/snippets/tests/conftest.py",
            "ModuleNotFoundError: No module named 'sentry_sdk.integrations.otlp'",
        )
    ]
    assert outcome(4, failures, output) == lock_check.FAILED
    assert suspects([Move("sentry-sdk", None, "2.39.0")], failures) == ["sentry-sdk"]


def test_a_test_stopped_at_its_time_limit_is_a_failure_naming_it() -> None:
    """The run limit ends the test process, so pytest prints no summary; the limit's own line names the test."""
    output = (
        "tests/test_code_quality.py::test_tool_passes[mypy-strict-service] ran longer than its limit of 120 s "
        "(GUIDE_TEST_TIME_LIMIT); the stack of every thread follows, then this test process ends.\n"
        "Thread 0x00007f132e7fc6c0 (most recent call first):\n"
    )

    failures = failures_from(output)

    assert failures == [
        Failure(
            "tests/test_code_quality.py::test_tool_passes[mypy-strict-service]",
            "ran longer than its limit of 120 s (GUIDE_TEST_TIME_LIMIT)",
        )
    ]
    assert outcome(1, failures, output) == lock_check.FAILED


def test_the_lowest_bounds_check_stops_a_hanging_service_test_and_names_it(tmp_path: Path) -> None:
    """The check's pytest run loads the time-limit plugin from a folder of its own: a test that sleeps past
    GUIDE_TEST_TIME_LIMIT ends the run, and the output names it as a failure."""
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "test_hang.py").write_text(
        "import time\n\n\ndef test_it_hangs() -> None:\n    time.sleep(60)\n", encoding="utf-8"
    )
    plugins = lowest_bounds.time_limit_plugin(ROOT, tmp_path / "plugins")
    env = {**os.environ, "PYTHONPATH": str(plugins), "GUIDE_TEST_TIME_LIMIT": "2"}
    command = [sys.executable, "-m", "pytest", "-p", lowest_bounds.TIME_LIMIT_PLUGIN, "-p", "no:cacheprovider"]
    completed = subprocess.run(
        [
            *command,
            "-p",
            "no:xdist",
            "--no-cov",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path / "service"),
            "test_hang.py",
        ],
        cwd=tmp_path / "service",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = completed.stdout + completed.stderr

    failures = failures_from(output)

    assert [failure.nodeid for failure in failures] == ["test_hang.py::test_it_hangs"], output
    assert outcome(completed.returncode, failures, output) == lock_check.FAILED
