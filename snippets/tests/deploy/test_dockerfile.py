"""The `Dockerfile`: multi-stage, Poetry 2 with `--only main`, non-root, exec form, health-checked."""

import sys
import tomllib
from pathlib import Path

import dockerfile
import pytest
import yaml
from packaging.specifiers import SpecifierSet
from uvicorn.main import main as uvicorn_command

from app.core.config import Settings
from app.main import create_app

SERVICE_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def instructions() -> tuple[dockerfile.Command, ...]:
    parsed: tuple[dockerfile.Command, ...] = dockerfile.parse_file(str(SERVICE_ROOT / "Dockerfile"))
    return parsed


def stage(instructions: tuple[dockerfile.Command, ...], name: str) -> list[dockerfile.Command]:
    """The instructions of one named stage, its FROM included."""
    starts = [i for i, c in enumerate(instructions) if c.cmd == "FROM"]
    for begin, end in zip(starts, [*starts[1:], len(instructions)], strict=True):
        if instructions[begin].value[-1] == name:
            return list(instructions[begin:end])
    raise AssertionError(f"no stage named {name}")


def test_two_stages_on_the_python_the_tests_run(instructions: tuple[dockerfile.Command, ...]) -> None:
    bases = [c.value[0] for c in instructions if c.cmd == "FROM"]
    assert len(bases) == 2
    tested = f"python:{sys.version_info.major}.{sys.version_info.minor}-"
    assert all(base.startswith(tested) for base in bases), bases


def test_dependencies_come_from_poetry_2_main_group_only(instructions: tuple[dockerfile.Command, ...]) -> None:
    build = stage(instructions, "build")
    pyproject = tomllib.loads((SERVICE_ROOT / "pyproject.toml").read_text())
    env = dict(zip(*[iter(next(c.value for c in build if c.cmd == "ENV"))] * 2, strict=True))
    installs = [c.value[0] for c in build if c.cmd == "RUN" and "poetry install" in c.value[0]]

    assert env["POETRY_VERSION"] in SpecifierSet(pyproject["tool"]["poetry"]["requires-poetry"])
    assert pyproject["build-system"]["build-backend"] == "poetry.core.masonry.api"
    assert installs
    assert all("--only main" in run and "--no-dev" not in run for run in installs)
    copied_before_install = next(c.value for c in build if c.cmd == "COPY")
    assert {"pyproject.toml", "poetry.lock"} <= set(copied_before_install)


def test_runtime_runs_as_a_user_in_exec_form(instructions: tuple[dockerfile.Command, ...]) -> None:
    runtime = stage(instructions, "runtime")
    users = [c.value[0] for c in runtime if c.cmd == "USER"]
    cmd = next(c for c in runtime if c.cmd == "CMD")

    assert users
    assert users[-1] not in {"root", "0"}
    assert cmd.json, "CMD must be exec form so uvicorn gets SIGTERM"
    assert cmd.value[:3] == ("uvicorn", "app.main:create_app", "--factory")


def test_healthcheck_probes_a_real_liveness_route(
    instructions: tuple[dockerfile.Command, ...],
    settings: Settings,  # create_app() reads them
) -> None:
    healthcheck = next(c for c in stage(instructions, "runtime") if c.cmd == "HEALTHCHECK")

    assert healthcheck.value[0] == "CMD"
    assert "http://127.0.0.1:8000/livez" in healthcheck.value[-1]
    assert create_app().url_path_for("livez") == "/livez"


def test_the_image_and_the_manifest_start_the_same_server(instructions: tuple[dockerfile.Command, ...]) -> None:
    cmd = next(c for c in stage(instructions, "runtime") if c.cmd == "CMD")
    manifest = yaml.safe_load((SERVICE_ROOT / "deploy" / "kubernetes.yaml").read_text())
    [container] = manifest["spec"]["template"]["spec"]["containers"]
    # uvicorn's own parser: the same settings however they are spelt, and unknown options fail.
    image, kubernetes = (
        uvicorn_command.make_context(program, list(arguments)).params
        for program, *arguments in (cmd.value, container["command"])
    )

    assert image == kubernetes
    assert image["access_log"] is True  # one JSON line per request, as patterns/logging.md says


def test_query_strings_hold_only_paging_so_the_access_log_may_keep_them(settings: Settings) -> None:
    operations = [operation for path in create_app().openapi()["paths"].values() for operation in path.values()]
    query_names = {param["name"] for op in operations for param in op.get("parameters", []) if param["in"] == "query"}

    assert query_names == {"limit", "cursor"}  # a new query parameter: is it personal data in the access log?
