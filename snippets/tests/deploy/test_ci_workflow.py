"""The service's own CI, `.github/workflows/ci.yml`: the Makefile targets the
README teaches, on the servers of the Compose file and the Python the service
declares. Every value is read from its source, never typed here."""

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url

SERVICE_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = SERVICE_ROOT / ".github" / "workflows" / "ci.yml"
# In the guide's repository, these pages teach the same targets; a copy of the
# service alone has only its README.
GUIDE_PAGES = [
    SERVICE_ROOT.parent / "docs" / "devops" / name
    for name in ("new-project-checklist.md", "testing.md")
]
TEACHING = [
    SERVICE_ROOT / "README.md",
    *(page for page in GUIDE_PAGES if page.exists()),
]


def job() -> dict[str, Any]:
    """The workflow's one job, parsed."""
    parsed: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())["jobs"][
        "check"
    ]
    return parsed


def run_lines() -> list[str]:
    """The shell lines the job runs, in order."""
    return [
        line.strip()
        for step in job()["steps"]
        if "run" in step
        for line in step["run"].splitlines()
    ]


def taught_make_commands(page: Path) -> set[str]:
    """The backticked `make TARGET` commands a page names, but `make help`."""
    return set(re.findall(r"`(make [a-z-]+)`", page.read_text())) - {
        "make help"
    }


def make_dry_run(target: str) -> str:
    """What `make TARGET` would run."""
    return subprocess.run(
        ["make", "-n", target],
        cwd=SERVICE_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def compose_service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = yaml.safe_load(
        (SERVICE_ROOT / "docker-compose.yml").read_text()
    )["services"][name]
    return service


def pyproject() -> dict[str, Any]:
    return tomllib.loads((SERVICE_ROOT / "pyproject.toml").read_text())


@pytest.mark.parametrize("page", TEACHING, ids=lambda page: page.name)
def test_ci_runs_the_make_targets_the_pages_teach_after_make_install(
    page: Path,
) -> None:
    made = [line for line in run_lines() if line.startswith("make ")]

    assert taught_make_commands(page) <= set(made), (
        f"{page.name} teaches a target CI does not run"
    )
    assert set(made) <= taught_make_commands(SERVICE_ROOT / "README.md"), (
        "CI runs a target the README does not teach"
    )
    assert made[0] == "make install"
    # the quick checks first
    assert (
        made.index("make lint")
        < made.index("make typecheck")
        < made.index("make test")
    )


def test_the_targets_lint_check_formatting_type_check_strictly_test_and_audit() -> (
    None
):
    assert "ruff check ." in make_dry_run("lint")
    assert "ruff format --check ." in make_dry_run("lint")
    assert "mypy app tests" in make_dry_run("typecheck")
    assert pyproject()["tool"]["mypy"]["strict"] is True
    assert "pytest" in make_dry_run("test")
    assert (
        "--cov-fail-under=100"
        in pyproject()["tool"]["pytest"]["ini_options"]["addopts"]
    )
    audit = make_dry_run("audit")
    assert "pip-audit --strict" in audit, (
        "a package pip-audit could not check must fail the audit"
    )
    assert "poetry.lock" in audit, "the audit reads the locked versions"


def audited_requirements(
    tmp_path: Path, lock_file: Path
) -> subprocess.CompletedProcess[str]:
    """Run `make audit` with a stand-in for pip-audit that keeps the
    requirements it was handed.
    """
    # pip-audit's own options land in $@
    stand_in = f"sh -c 'cat > {tmp_path / 'requirements.txt'}' pip-audit"
    command = [
        "make",
        "-s",
        "audit",
        f"PIP_AUDIT={stand_in}",
        f"LOCK_FILE={lock_file}",
    ]
    return subprocess.run(
        command, cwd=SERVICE_ROOT, capture_output=True, text=True, check=False
    )


def test_the_audit_hands_pip_audit_every_package_the_lock_pins_windows_only_ones_included(
    tmp_path: Path,
) -> None:
    lock = SERVICE_ROOT / "poetry.lock"
    pinned = {
        f"{package['name']}=={package['version']}"
        for package in tomllib.loads(lock.read_text())["package"]
    }

    assert audited_requirements(tmp_path, lock).returncode == 0
    assert set((tmp_path / "requirements.txt").read_text().split()) == pinned
    # `sys_platform == "win32"` only
    assert any(name.startswith("colorama==") for name in pinned)


@pytest.mark.parametrize("lock", ["missing.lock", "empty.lock"])
def test_the_audit_fails_when_it_has_no_package_list(
    tmp_path: Path, lock: str
) -> None:
    (tmp_path / "empty.lock").write_text("[metadata]\n")

    audit = audited_requirements(tmp_path, tmp_path / lock)

    # not pip-audit's "No known vulnerabilities found" on an empty list
    assert audit.returncode != 0


def test_the_tests_run_on_the_compose_files_postgresql_and_redis() -> None:
    services, environment = job()["services"], job()["env"]
    postgres, redis = compose_service("postgres"), compose_service("redis")
    database_url, redis_url = (
        make_url(environment["TEST_DATABASE_URL"]),
        make_url(environment["TEST_REDIS_URL"]),
    )

    assert services["postgres"]["image"] == postgres["image"]
    assert services["redis"]["image"] == redis["image"]
    assert services["postgres"]["env"] == postgres["environment"]
    assert (
        database_url.username,
        database_url.password,
        database_url.database,
    ) == (
        postgres["environment"]["POSTGRES_USER"],
        postgres["environment"]["POSTGRES_PASSWORD"],
        postgres["environment"]["POSTGRES_DB"],
    )
    assert services["postgres"]["ports"] == [f"{database_url.port}:5432"]
    assert services["redis"]["ports"] == [f"{redis_url.port}:6379"]
    for service in services.values():
        assert "--health-cmd" in service["options"], (
            "the job starts once the server answers, not before"
        )
    # the tests refuse the service's own variable
    assert "REDIS_URL" not in environment


def test_pg_dump_is_the_servers_major_version() -> None:
    major = compose_service("postgres")["image"].split(":")[1].split(".")[0]
    lines = run_lines()

    assert (
        "sudo apt-get install -y --no-install-recommends"
        f" postgresql-client-{major}" in lines
    )
    # before Ubuntu's own pg_dump
    assert f'echo "/usr/lib/postgresql/{major}/bin" >> "$GITHUB_PATH"' in lines


def test_ci_uses_the_lowest_python_and_a_poetry_the_service_accepts() -> None:
    lowest = re.fullmatch(
        r">=(\d+\.\d+),<\d+", pyproject()["project"]["requires-python"]
    )
    setup_python = next(
        step
        for step in job()["steps"]
        if step.get("uses", "").startswith("actions/setup-python@")
    )
    [install_poetry] = [
        line for line in run_lines() if line.startswith("pipx install")
    ]

    assert lowest
    assert (
        setup_python["with"]["python-version"]
        == lowest[1]
        == pyproject()["tool"]["mypy"]["python_version"]
    )
    assert (
        f'"poetry{pyproject()["tool"]["poetry"]["requires-poetry"]},'
        in install_poetry
    )


def test_ci_checks_pushes_to_main_and_pull_requests_with_read_only_access() -> (
    None
):
    parsed = yaml.safe_load(WORKFLOW.read_text())
    triggers = parsed[True]  # YAML 1.1 reads `on` as true

    assert triggers["push"]["branches"] == ["main"]
    assert "pull_request" in triggers
    assert parsed["permissions"] == {"contents": "read"}
