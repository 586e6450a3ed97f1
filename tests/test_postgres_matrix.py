"""The PostgreSQL matrix: its command refuses bad input clearly, records whole results, and CI runs it.

The command is `scripts/postgres_matrix.py` (logic in `guidekit.postgres_matrix`); the Stack page's
PostgreSQL row is generated from its record.
"""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from guidekit import postgres_matrix
from guidekit.generated.stack_versions import postgres_row
from guidekit.paths import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "postgres.yml"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The command's exit status and what it printed to stderr."""
    status = postgres_matrix.main(argv)
    return status, capsys.readouterr().err


@pytest.mark.parametrize("major", ["14", "19"])
def test_an_unknown_major_is_refused_naming_the_supported_ones_and_how_to_get_each(
    major: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    record = tmp_path / "matrix.json"
    status, message = run([major, "--record", str(record)], capsys)
    assert status == 2
    assert f"PostgreSQL {major} is not supported" in message
    assert "15, 16, 17, 18" in message
    assert "apt-get install postgresql-15" in message
    assert "TEST_DATABASE_URL" in message
    assert not record.exists()


def test_a_missing_debian_server_names_the_package_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    planted = postgres_matrix.Source(
        tmp_path / "no-such-dir" / "bin", "Debian's package", "apt-get install postgresql-15"
    )
    monkeypatch.setitem(postgres_matrix.SOURCES, 15, planted)
    record = tmp_path / "matrix.json"
    status, message = run(["15", "16", "--record", str(record)], capsys)
    assert status == 2
    assert "apt-get install postgresql-15" in message
    assert str(planted.bin_dir) in message
    assert not record.exists(), "nothing runs, so nothing is recorded, not even for 16"


def test_17_without_a_server_url_names_the_variable_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    status, message = run(["17", "--record", str(tmp_path / "matrix.json")], capsys)
    assert status == 2
    assert "TEST_DATABASE_URL" in message
    assert "postgres:17" in message


def test_a_server_url_is_for_one_major_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:1/postgres")
    status, message = run(["16", "18", "--record", str(tmp_path / "matrix.json")], capsys)
    assert status == 2
    assert "one major" in message


def test_a_run_that_passes_no_test_is_recorded_as_failed_with_the_real_servers_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real 16 starts; a selection that matches nothing makes pytest exit 5, which is not a pass."""
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    record = tmp_path / "matrix.json"
    argv = ["16", "--record", str(record), "--workdir", str(tmp_path / "work"), "--", "-k", "no_test_has_this_name"]
    status, _ = run(argv, capsys)
    assert status == 1
    entry = json.loads(record.read_text())["majors"]["16"]
    assert entry["result"] == "failed"
    assert entry["version"].startswith("16.")
    assert entry["passed"] == 0


def entry(result: str, version: str) -> postgres_matrix.Result:
    """A finished run, as the command records it."""
    return postgres_matrix.Result(
        major=int(version.split(".")[0]),
        version=version,
        date="2026-12-05",
        result=result,
        passed=3 if result == "passed" else 2,
        failed=0 if result == "passed" else 1,
        skipped=0,
        seconds=1.5,
        server="test",
    )


def test_a_failed_major_is_recorded_as_failed_and_the_other_majors_are_kept(tmp_path: Path) -> None:
    record = tmp_path / "matrix.json"
    postgres_matrix.record_result(record, entry("passed", "16.14"))
    postgres_matrix.record_result(record, entry("passed", "15.18"))
    postgres_matrix.record_result(record, entry("failed", "15.18"))
    majors = json.loads(record.read_text())["majors"]
    assert majors["15"]["result"] == "failed"
    assert majors["15"]["failed"] == 1
    assert majors["16"]["result"] == "passed"


def test_a_write_that_breaks_leaves_the_old_record_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "matrix.json"
    postgres_matrix.record_result(record, entry("passed", "16.14"))
    before = record.read_text()

    def broken_rename(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", broken_rename)
    with pytest.raises(OSError, match="disk full"):
        postgres_matrix.record_result(record, entry("failed", "16.14"))
    monkeypatch.undo()
    assert record.read_text() == before
    assert [path.name for path in tmp_path.iterdir()] == ["matrix.json"], "no partial file is left behind"


def test_the_stack_row_lists_the_majors_that_passed_with_their_dates(tmp_path: Path) -> None:
    record = tmp_path / "matrix.json"
    postgres_matrix.record_result(record, entry("passed", "18.4"))
    postgres_matrix.record_result(record, entry("passed", "15.18"))
    postgres_matrix.record_result(record, entry("failed", "16.14"))
    _, supported, tested = postgres_row(record)
    assert supported == "15 to 18"
    assert "passed on 15.18 (2026-12-05) and 18.4 (2026-12-05)" in tested
    assert "failed on 16.14 (2026-12-05)" in tested


def test_the_stack_row_says_when_no_matrix_was_recorded(tmp_path: Path) -> None:
    _, _, tested = postgres_row(tmp_path / "matrix.json")
    assert "no matrix recorded" in tested
    assert "scripts/postgres_matrix.py" in tested


def matrix_job() -> dict[str, Any]:
    """The one job of the PostgreSQL workflow."""
    parsed: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    (job,) = parsed["jobs"].values()
    return dict(job)


def test_the_workflow_runs_the_matrix_command_on_15_to_18_with_each_server_from_a_container() -> None:
    job = matrix_job()
    majors = job["strategy"]["matrix"]["postgres"]
    assert majors == sorted(postgres_matrix.SOURCES), "every supported major, no more"
    assert job["services"]["postgres"]["image"].startswith("postgres:${{ matrix.postgres }}")
    assert "TEST_DATABASE_URL" in job["env"]
    lines = [line.strip() for step in job["steps"] if "run" in step for line in step["run"].splitlines()]
    assert f"{postgres_matrix.COMMAND} ${{{{ matrix.postgres }}}}" in lines
    assert "17" in WORKFLOW.read_text().split("jobs:")[0], "the header says why 17 comes from a container"


def test_the_page_gives_the_command_the_workflow_runs() -> None:
    page = (ROOT / "docs" / "stack.md").read_text()
    assert f"{postgres_matrix.COMMAND} 15 16 18" in page


def test_the_records_of_the_ci_jobs_merge_into_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each CI job uploads its own record; the site's build merges them before it builds."""
    for version in ("15.18", "17.7"):
        postgres_matrix.record_result(tmp_path / "jobs" / version / "postgres-matrix.json", entry("passed", version))
    postgres_matrix.record_result(tmp_path / "jobs" / "16" / "postgres-matrix.json", entry("failed", "16.14"))
    record = tmp_path / "matrix.json"
    status, _ = run(["--merge", str(tmp_path / "jobs"), "--record", str(record)], capsys)
    assert status == 0
    majors = json.loads(record.read_text())["majors"]
    assert {major: run["result"] for major, run in majors.items()} == {"15": "passed", "16": "failed", "17": "passed"}


def test_the_site_is_built_with_the_matrix_of_the_same_push() -> None:
    """The docs workflow runs the matrix first and merges its records before building the page that states them."""
    docs = yaml.safe_load((ROOT / ".github" / "workflows" / "docs.yml").read_text())
    assert docs["jobs"]["postgres"]["uses"] == "./.github/workflows/postgres.yml"
    build = docs["jobs"]["build"]
    assert "postgres" in build["needs"]
    lines = [line.strip() for step in build["steps"] if "run" in step for line in step["run"].splitlines()]
    merge = [index for index, line in enumerate(lines) if line.startswith(f"{postgres_matrix.COMMAND} --merge ")]
    built = [index for index, line in enumerate(lines) if line.startswith("uv run mkdocs build")]
    assert merge, "the build job does not merge the matrix's records"
    assert built
    assert merge[0] < built[0]
    assert "workflow_call" in yaml.safe_load(WORKFLOW.read_text())[True], "postgres.yml runs when docs.yml calls it"


def test_each_job_uploads_its_record_from_the_hidden_folder_and_a_missing_one_is_an_error() -> None:
    """upload-artifact v4.4+ skips hidden paths unless told; `.record/` is one."""
    [upload] = [step for step in matrix_job()["steps"] if step.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["with"]["path"].startswith(".record/")
    assert upload["with"]["include-hidden-files"] is True
    assert upload["with"]["if-no-files-found"] == "error"
