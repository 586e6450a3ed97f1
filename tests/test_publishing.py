"""The hosted site is built and tested by the same commands the README gives, and deployed from main.

The commands are read from the README's code blocks, never typed here a second time.
"""

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from guidekit.markdown.fences import parse_page
from guidekit.markdown.nav import nav_pages, page_url_path
from guidekit.paths import ROOT
from guidekit.site.build import BuiltSite

WORKFLOW = ROOT / ".github" / "workflows" / "docs.yml"
MAIN = "refs/heads/main"


def readme_commands() -> list[str]:
    """Every command line in the README's code blocks (a `$ ` prompt, if shown, removed)."""
    blocks = [fence.body for fence in parse_page((ROOT / "README.md").read_text(), Path("README.md"))]
    return [line.strip().removeprefix("$ ") for block in blocks for line in block.splitlines() if line.strip()]


def readme_command(start: str) -> str:
    """The README command `start` itself, or else the one README command that starts with it."""
    if start in readme_commands():
        return start
    found = [command for command in readme_commands() if command.startswith(start)]
    assert len(found) == 1, f"the README should give exactly one `{start} ...` command, it gives {found}"
    return found[0]


def workflow() -> dict[Any, Any]:
    """The docs workflow, parsed."""
    parsed: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return parsed


def run_lines(job: dict[str, Any]) -> list[str]:
    """The shell lines a job runs, in order."""
    return [line.strip() for step in job["steps"] if "run" in step for line in step["run"].splitlines()]


def uses(job: dict[str, Any]) -> list[str]:
    """The actions a job uses, without their versions."""
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


@pytest.mark.parametrize("start", ["uv run pytest", "uv run mkdocs build"])
def test_workflow_runs_the_readme_commands(start: str) -> None:
    """The build job runs the README's test and build commands exactly, the tests before the build."""
    lines = run_lines(workflow()["jobs"]["build"])
    assert readme_command(start) in lines, f"the workflow does not run the README's `{readme_command(start)}`"
    assert lines.index(readme_command("uv run pytest")) < lines.index(readme_command("uv run mkdocs build"))


def test_readme_build_is_strict() -> None:
    """Broken links and anchors fail the published build."""
    assert "--strict" in readme_command("uv run mkdocs build").split()


def without_time_limit(line: str) -> str:
    """A command line without its `timeout [options] DURATION` prefix."""
    words = line.split()
    if words[:1] != ["timeout"]:
        return line
    rest = [word for word in words[1:] if not word.startswith("-")]
    return " ".join(rest[1:])


def test_ci_runs_the_readme_test_command_under_a_time_limit() -> None:
    """`.ci/run` runs the README's test command as it is, under a limit for the whole run."""
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    limited = [line for line in ci_lines if line.startswith("timeout ") and without_time_limit(line) == "uv run pytest"]
    assert limited, "`.ci/run` should run `timeout ... uv run pytest`, so a hang cannot eat CI's time"


def test_ci_runs_the_readme_test_command_with_chromium() -> None:
    """`.ci/run` and the workflow both install Chromium before the README's test command."""
    ci_lines = [without_time_limit(line.strip()) for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert readme_command("uv run pytest") in ci_lines
    for lines in (ci_lines, run_lines(workflow()["jobs"]["build"])):
        install = next(i for i, line in enumerate(lines) if "apt-get install" in line and "chromium" in line)
        assert install < lines.index(readme_command("uv run pytest")), "Chromium must be installed before the tests"


def test_ci_installs_java_and_npm_for_the_html_check() -> None:
    """With `CI=true` the HTML check fails without Java or npm, so `.ci/run` and the workflow install them."""
    ci_lines = [without_time_limit(line.strip()) for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    for lines in (ci_lines, run_lines(workflow()["jobs"]["build"])):
        install = next(
            i
            for i, line in enumerate(lines)
            if "apt-get install" in line and {"default-jre-headless", "npm"} <= set(line.split())
        )
        assert install < lines.index(readme_command("uv run pytest")), "Java and npm must be installed before the tests"


def test_workflow_deploys_to_pages_from_main_only() -> None:
    """Pushes and pull requests are checked; only a push to main deploys, with the least permissions."""
    parsed = workflow()
    triggers: dict[str, Any] = parsed["on"] if "on" in parsed else parsed[True]  # YAML 1.1 reads `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert "pull_request" in triggers
    assert parsed["permissions"] == {"contents": "read"}

    build, deploy = parsed["jobs"]["build"], parsed["jobs"]["deploy"]
    assert uses(build)[:2] == ["actions/checkout", "astral-sh/setup-uv"]
    upload = next(step for step in build["steps"] if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "site", "mkdocs builds into site/"
    assert MAIN in upload["if"]

    assert deploy["needs"] == "build"
    assert MAIN in deploy["if"]
    assert "push" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert uses(deploy) == ["actions/deploy-pages"]
    assert deploy["concurrency"]["cancel-in-progress"] is False, "a deployment is never cancelled half-way"


def default_site_url() -> str:
    """The address mkdocs.yml publishes under when `SITE_URL` is not set."""
    site_url = re.search(r'site_url: !ENV \[SITE_URL, "([^"]+)"\]', (ROOT / "mkdocs.yml").read_text())
    assert site_url, "mkdocs.yml sets site_url from SITE_URL with the Pages address as the default"
    return site_url.group(1)


def test_readme_says_where_the_site_lives() -> None:
    """The README names the local address a build without `SITE_URL` is for, and where the published one comes from."""
    readme = (ROOT / "README.md").read_text()
    assert default_site_url() in readme
    assert "`base_url`" in readme, "the README should say the published address is Pages' `base_url`"
    assert "SITE_URL" in readme, "the README should say how to build for another address"


# The host the site once shipped with, in every page's canonical link, before anyone had set it.
PLACEHOLDER_HOST = "example-org"


def _step(job: dict[str, Any], action: str) -> dict[str, Any]:
    """The one step of a job that uses `action`."""
    found: list[dict[str, Any]] = [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action]
    assert len(found) == 1, f"the build job should use {action} once, it does {len(found)} times"
    return found[0]


def test_the_published_address_is_the_one_github_pages_reports() -> None:
    """The uploaded build has `SITE_URL` from Pages' own `base_url`, read before it whenever it is uploaded."""
    build = workflow()["jobs"]["build"]
    steps: list[dict[str, Any]] = build["steps"]
    configure, upload = _step(build, "actions/configure-pages"), _step(build, "actions/upload-pages-artifact")
    command = readme_command("uv run mkdocs build")
    building = next(step for step in steps if command in step.get("run", "").splitlines())
    assert configure["if"] == upload["if"], "the Pages address must be read whenever the build is uploaded"
    assert steps.index(configure) < steps.index(building) < steps.index(upload)
    site_url = str(building.get("env", {}).get("SITE_URL", ""))
    # Without SITE_URL the build would take mkdocs.yml's default, an address of this machine.
    assert f"steps.{configure['id']}.outputs.base_url" in site_url, f"SITE_URL is not Pages' address: {site_url!r}"
    assert not re.search(r"://|\.github\.io|\.(com|org|io|net)\b", site_url), f"SITE_URL types an address: {site_url!r}"


def test_no_build_can_carry_the_placeholder_host() -> None:
    """A build without `SITE_URL` is for this machine (`mkdocs serve`), never for a made-up public host."""
    assert urlsplit(default_site_url()).hostname in {"127.0.0.1", "localhost"}, default_site_url()
    for source in (ROOT / "mkdocs.yml", WORKFLOW, ROOT / "README.md"):
        assert PLACEHOLDER_HOST not in source.read_text(), f"{source.relative_to(ROOT)} names {PLACEHOLDER_HOST}"


def test_every_page_is_canonical_at_the_address_the_site_was_built_for(built_site: BuiltSite) -> None:
    """Each page's canonical link is its own address under `SITE_URL`; nothing in the build names the placeholder."""
    for source in nav_pages():
        html = built_site.page(page_url_path(source))
        canonical = re.findall(r'<link rel="canonical" href="([^"]*)"', html)
        assert canonical == [built_site.url + page_url_path(source)], f"{source}: canonical link {canonical}"
    carriers = [
        str(path.relative_to(built_site.path))
        for path in sorted(built_site.path.rglob("*"))
        if path.suffix in {".html", ".xml", ".json", ".js"} and PLACEHOLDER_HOST in path.read_text(errors="replace")
    ]
    assert not carriers, f"the build names {PLACEHOLDER_HOST}: {carriers}"


def test_every_local_address_names_a_page_that_exists() -> None:
    """`mkdocs serve` serves the guide under site_url's path, so its bare host and port is a 404."""
    site_path = "/" + default_site_url().split("/", 3)[3]
    texts = {"README.md": (ROOT / "README.md").read_text()} | {
        str(page.relative_to(ROOT)): page.read_text() for page in sorted((ROOT / "docs").rglob("*.md"))
    }
    addresses = {
        (name, match.group(0))
        for name, text in texts.items()
        for match in re.finditer(r"http://(?:127\.0\.0\.1|localhost):8000(/[^\s>)`'\"]*)?", text)
    }
    bare = sorted((name, address) for name, address in addresses if address.split(":8000")[1] in ("", "/"))

    assert ("README.md", f"http://127.0.0.1:8000{site_path}") in addresses
    assert bare == [], f"the guide is at http://127.0.0.1:8000{site_path}; fix these: {bare}"


def lowest_python() -> str:
    """The lowest Python the service declares (`requires-python = ">=X.Y,<4"`), the one source."""
    declared = tomllib.loads((ROOT / "snippets" / "pyproject.toml").read_text())["project"]["requires-python"]
    found = re.fullmatch(r">=(\d+\.\d+)(?:,<\d+)?", declared)
    assert found, f"snippets/pyproject.toml: requires-python should be `>=X.Y` or `>=X.Y,<N`, it is {declared!r}"
    return found[1]


def dotted(ruff_target: str) -> str | None:
    """Ruff's `py312` as `3.12`."""
    found = re.fullmatch(r"py(\d)(\d+)", ruff_target)
    return f"{found[1]}.{found[2]}" if found else None


# How the prose states the lowest Python: "Python 3.12+" or "Python 3.12 or newer".
_STATED_MINIMUM = re.compile(r"Python (\d+\.\d+)(?:\+| or newer)")


def test_every_statement_of_the_python_version_matches_the_declared_one() -> None:
    """The prose (README, docs), the test run (`.python-version`), the tools' targets, CI's
    container and the service's image all name the Python the service declares."""
    lowest = lowest_python()
    root_config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    service_config = tomllib.loads((ROOT / "snippets" / "pyproject.toml").read_text())
    stated: dict[str, str | None] = {
        ".python-version": (ROOT / ".python-version").read_text().strip(),
        "pyproject.toml requires-python": root_config["project"]["requires-python"].removeprefix(">="),
        "pyproject.toml [tool.mypy] python_version": root_config["tool"]["mypy"]["python_version"],
        "snippets/pyproject.toml [tool.mypy] python_version": service_config["tool"]["mypy"]["python_version"],
        # The root's ruff settings extend the service's, target-version included.
        "snippets/pyproject.toml [tool.ruff] target-version": dotted(service_config["tool"]["ruff"]["target-version"]),
        "docs.yml container": workflow()["jobs"]["build"]["container"].removeprefix("python:").split("-")[0],
    }
    for number, line in enumerate((ROOT / "snippets" / "Dockerfile").read_text().splitlines(), start=1):
        if line.startswith("FROM python:"):
            # The image pins a patch release (`3.12.12`) of the declared minor version.
            tag = line.removeprefix("FROM python:").split("-")[0]
            stated[f"snippets/Dockerfile:{number} (minor of {tag})"] = ".".join(tag.split(".")[:2])
    prose = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for page in prose:
        for found in _STATED_MINIMUM.finditer(page.read_text()):
            stated[f"{page.relative_to(ROOT)} ({found[0]!r})"] = found[1]
    assert any(where.startswith("README.md") for where in stated), "the README should state the Python it needs"
    wrong = {where: version for where, version in stated.items() if version != lowest}
    assert not wrong, f"snippets/pyproject.toml requires Python >={lowest}; these say otherwise: {wrong}"


@pytest.mark.parametrize("path", sorted((ROOT / ".github" / "workflows").glob("*.yml")), ids=lambda path: path.name)
def test_every_container_job_trusts_its_checkout_before_git_runs(path: Path) -> None:
    """In a job's container git runs as root over a checkout the runner's user owns; without
    `safe.directory` every git call there fails with "dubious ownership"."""
    jobs: dict[str, Any] = yaml.safe_load(path.read_text())["jobs"]
    for name, job in jobs.items():
        if "container" not in job:
            continue
        steps = job["steps"]
        checkout = next(index for index, step in enumerate(steps) if "actions/checkout" in step.get("uses", ""))
        trusted = [
            index
            for index, step in enumerate(steps)
            if "git config --global --add safe.directory" in step.get("run", "")
        ]
        assert trusted, f"{path.name}: job {name} runs in a container and never sets safe.directory"
        later = [index for index, step in enumerate(steps) if "run" in step and index not in trusted]
        assert checkout < trusted[0] < min(later), f"{path.name}: job {name} sets safe.directory too late"


def test_a_failed_postgresql_major_does_not_stop_the_deploy() -> None:
    """`build` runs after a failed major; `deploy` must not inherit the failure from two jobs up, or the
    failed row is never published (a bare `if` means `success()` over the whole chain)."""
    deploy = workflow()["jobs"]["deploy"]
    condition = deploy["if"]
    assert "!cancelled()" in condition
    assert "needs.build.result == 'success'" in condition
