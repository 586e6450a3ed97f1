"""`scripts/dev_service.py` runs the reference service with no Docker, as the onboarding page says.

The test starts the command for real, as a reader would, waits until `/readyz` answers 200
(the database and Redis are up), calls the API with the token the command printed, stops it
with SIGINT (Ctrl-C) and checks that nothing it started is still running.
"""

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml
from mkdocs.config.defaults import MkDocsConfig
from redis import Redis

from guidekit.janitor import Process, alive, run_processes
from guidekit.paths import ROOT
from scripts.dev_service import DEFAULT_PORT

DEV_SERVICE = ROOT / "scripts" / "dev_service.py"
START_SECONDS = 90  # PostgreSQL's first start, dbmate and Uvicorn; about 10 s on a loaded machine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _program(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def test_the_pages_call_the_service_on_the_port_it_serves_on() -> None:
    guide = int(str(MkDocsConfig()["dev_addr"]).rsplit(":", 1)[1])  # where `mkdocs serve` serves the guide

    for page in ("onboarding.md", "tutorial.md", "devops/docker.md"):
        text = (ROOT / "docs" / page).read_text()
        ports = {int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)/(?!fastapi-postgres-guide/)", text)}
        assert ports == {DEFAULT_PORT}, page
    assert guide != DEFAULT_PORT

    # `make run` (shown on the Docker page) and the Compose stack's API take the same host port.
    makefile = (ROOT / "snippets" / "Makefile").read_text()
    # the recipe's command with its `\` continuation lines
    [run] = re.findall(r"^run:.*\n\t((?:.*\\\n)*.*)$", makefile, flags=re.MULTILINE)
    [help_port] = re.findall(r"^run:.*127\.0\.0\.1:(\d+)$", makefile, flags=re.MULTILINE)
    assert f"--port {DEFAULT_PORT}" in run
    assert int(help_port) == DEFAULT_PORT
    compose = yaml.safe_load((ROOT / "snippets" / "docker-compose.yml").read_text())
    container_port = int(re.findall(r'"--port", "(\d+)"', (ROOT / "snippets" / "Dockerfile").read_text())[0])
    assert compose["services"]["api"]["ports"] == [f"127.0.0.1:{DEFAULT_PORT}:{container_port}"]


def test_the_env_example_is_copied_to_one_env_in_the_repository_root() -> None:
    """The header of `.env.example`, run from the root as the pages run it, makes the root's `.env`."""
    example = (ROOT / "snippets" / ".env.example").read_text()
    [(command, source, target)] = re.findall(r"^# (cp (\S+) (\S+))$", example, flags=re.MULTILINE)

    assert (ROOT / source).is_file(), f"{command!r} fails from the repository root"
    assert target == ".env"
    for page in ("onboarding.md", "devops/configuration.md"):
        assert f"{command}\n" in (ROOT / "docs" / page).read_text(), page


def test_dev_service_serves_the_api_and_stops_its_servers_on_ctrl_c(tmp_path: Path) -> None:
    _run_and_stop(tmp_path, signal.SIGINT, _call_the_api)  # SIGINT is what Ctrl-C sends


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
def test_dev_service_stops_its_servers_on_sigterm_and_when_the_terminal_closes(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    _run_and_stop(tmp_path, stop_signal, None)  # SIGHUP is what closing the terminal sends


def _call_the_api(http: httpx.Client, printed: dict[str, str]) -> None:
    # The printed token has each domain's write scope; the tables exist, so dbmate ran.
    headers = {"Authorization": f"Bearer {printed['TOKEN']}"}
    body = {"target_url": "https://hooks.example.com/dev-service", "event": "message.created"}
    created = http.post("/api/v1/webhooks", json=body, headers=headers)
    assert created.status_code == 201, created.text
    message = {"channel": "email", "recipient": "dev@example.com", "body": "Hi", "client_ref": "dev-1"}
    assert http.post("/api/v1/messages", json=message, headers=headers).status_code == 201
    listed = http.get("/api/v1/webhooks", headers=headers)
    assert [item["target_url"] for item in listed.json()["items"]] == [body["target_url"]]
    assert http.get("/api/v1/webhooks").status_code == 401
    # The printed URLs reach the same servers from a second terminal.
    status = subprocess.run(
        [str(Path(sys.executable).parent / "dbmate"), "--url", printed["DATABASE_URL"], "status"],
        cwd=ROOT / "snippets",
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Pending: 0" in status.stdout, status.stdout
    with Redis.from_url(printed["REDIS_URL"]) as redis:
        assert redis.ping()


def _run_and_stop(
    tmp_path: Path, stop_signal: signal.Signals, exercise: Callable[[httpx.Client, dict[str, str]], None] | None
) -> None:
    """Start the command, wait for /readyz, run `exercise`, send `stop_signal`: nothing it started is left."""
    port = _free_port()
    # The embedded servers even where the outer run uses configured ones.
    env = {name: value for name, value in os.environ.items() if name not in {"DATABASE_URL", "REDIS_URL"}}
    command = [sys.executable, str(DEV_SERVICE), "--port", str(port), "--workdir", str(tmp_path)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    lines: queue.Queue[str] = queue.Queue()

    def read_output() -> None:
        for line in process.stdout or ():
            lines.put(line)

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    output: list[str] = []
    printed: dict[str, str] = {}  # its `export NAME='value'` lines

    def read_printed() -> None:
        while not lines.empty():
            output.append(line := lines.get())
            if match := re.fullmatch(r"export (\w+)='(.*)'\n", line):
                printed[match[1]] = match[2]

    started: set[Process] = set()
    programs: set[str] = set()

    def note_started() -> None:
        """Note what the command has started: its descendants, and the PostgreSQL on its folder."""
        found = run_processes(process.pid, str(tmp_path))
        started.update(found)
        programs.update(_program(pid) for pid, _ in found)

    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            deadline = time.monotonic() + START_SECONDS
            while True:
                note_started()
                read_printed()
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/readyz").status_code == 200:
                        break
                assert process.poll() is None, "the command ended:\n" + "".join(output)
                assert time.monotonic() < deadline, "no 200 from /readyz:\n" + "".join(output)
                time.sleep(0.2)
            read_printed()  # printed before Uvicorn started
            assert {"DATABASE_URL", "REDIS_URL", "TOKEN"} <= printed.keys(), "".join(output)

            if exercise:
                exercise(http, printed)
    finally:
        if process.poll() is None:
            process.send_signal(stop_signal)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            reader.join(timeout=10)
            # A reader still blocked means a leftover holds the pipe; closing would wait for it.
            if process.stdout and not reader.is_alive():
                process.stdout.close()
    read_printed()
    assert process.returncode == 0, "".join(output)

    assert {"postgres", "redis-server"} <= programs, programs
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(process) for process in started):
        time.sleep(0.1)
    assert [f"{pid} {_program(pid)}" for pid, start in started if alive((pid, start))] == []
    assert list(tmp_path.iterdir()) == [], "the command left files in its work folder"
