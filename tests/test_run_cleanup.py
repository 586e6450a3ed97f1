"""A run that is stopped leaves nothing running: Ctrl-C, SIGTERM (CI, `timeout`), its own time limit.

Each case starts a real run of real tests that brings up the embedded PostgreSQL, Redis and
Chromium, holds it in a test that hangs (`run_limits/hang_plugin.py`), stops it, and then looks
for every process that run had below it: none may still be alive. The three runs go at once.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from guidekit.janitor import Process, alive, run_processes
from guidekit.paths import ROOT
from guidekit.run_limits import LIMIT_VARIABLE

# A test that starts PostgreSQL and Redis, then one that starts Chromium (the `browser` fixture) and hangs.
SERVICES = "snippets/tests/api/test_rate_limit.py::test_concurrent_requests_let_exactly_the_limit_through"
HANGS = "tests/browser/test_search.py::test_queries_name_pages_of_the_nav"
SERVERS = {"postgres", "redis-server", "chromium"}
TIME_LIMIT_SECONDS = 12  # the test before the hang takes about 2 s, 5 s on a loaded machine


@dataclass(eq=False)  # hashable by identity
class HeldRun:
    """A run of pytest that hangs in its last test once its servers are up."""

    process: subprocess.Popen[str]
    ready: Path
    started: set[Process]
    programs: set[str] = field(default_factory=set)
    """The programs it had started when it hung, by name (`/proc/PID/comm`)."""

    def end(self) -> tuple[int, str]:
        """Wait for the run to end; its exit code and output."""
        output = self.process.communicate(timeout=60)[0]
        return self.process.returncode, output

    def left_alive(self) -> list[str]:
        """Its processes still alive 10 s after it ended (a janitor takes about 2 s)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(process) for process in self.started):
            time.sleep(0.1)
        return [f"{pid} {_program(pid)}" for pid, start in self.started if alive((pid, start))]


def _program(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def start_held_run(folder: Path, time_limit: int | None = None) -> HeldRun:
    """Start a run of two real tests in a session of its own; the second one hangs."""
    # Embedded servers always, even where the outer run uses configured ones (or its fixtures set them).
    env = {name: value for name, value in os.environ.items() if name not in {"TEST_DATABASE_URL", "TEST_REDIS_URL"}}
    env |= {"HANG_TEST": HANGS, "HANG_FIXTURES": "browser", "HANG_READY": str(folder / "ready"), "CI": "true"}
    if time_limit:
        env[LIMIT_VARIABLE] = str(time_limit)
    command = [sys.executable, "-m", "pytest", "-p", "tests.run_limits.hang_plugin", "-n", "0", "--no-cov"]
    command += ["-p", "no:cacheprovider", "-q", f"--basetemp={folder / 'run'}", SERVICES, HANGS]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    return HeldRun(process, folder / "ready", set())


def stop_each_once_hung(runs: dict[HeldRun, Callable[[HeldRun], None]]) -> None:
    """As each run hangs, note what it had started and stop it its way at once (a loaded machine
    may take a while to bring the others up, and the time limit must not stop a run first)."""
    deadline = time.monotonic() + 90
    waiting = list(runs)
    while waiting:
        for run in list(waiting):
            if run.ready.exists():
                run.started = run_processes(run.process.pid, str(run.ready.parent / "run"))
                run.programs = {name for pid, _ in run.started if (name := _program(pid))}
                runs[run](run)
                waiting.remove(run)
            elif run.process.poll() is not None or time.monotonic() > deadline:
                os.killpg(run.process.pid, signal.SIGKILL)
                pytest.fail(f"the held run never reached {HANGS}:\n{run.process.communicate()[0]}")
        time.sleep(0.05)


@pytest.fixture(scope="class")
def held_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, HeldRun]]:
    """Three runs at once, held in their hanging test: one for each way a run gets stopped."""
    runs = {
        # A teardown that hangs after Ctrl-C is stopped by the time limit too; 30 s keeps that in the test's wait.
        "ctrl-c": start_held_run(tmp_path_factory.mktemp("ctrl-c"), 30),
        "sigterm": start_held_run(tmp_path_factory.mktemp("sigterm")),
        "time-limit": start_held_run(tmp_path_factory.mktemp("time-limit"), TIME_LIMIT_SECONDS),
    }
    stops: dict[HeldRun, Callable[[HeldRun], None]] = {
        runs["ctrl-c"]: lambda run: os.killpg(run.process.pid, signal.SIGINT),  # a terminal's Ctrl-C: the group
        runs["sigterm"]: lambda run: run.process.send_signal(signal.SIGTERM),  # CI's or `timeout`'s: pytest alone
        runs["time-limit"]: lambda run: None,  # its own limit stops it
    }
    try:
        stop_each_once_hung(stops)
        yield runs
    finally:
        for run in runs.values():
            if run.process.poll() is None:
                os.killpg(run.process.pid, signal.SIGKILL)
            if run.process.stdout and not run.process.stdout.closed:  # a failed wait has read it already
                run.process.communicate()


class TestAStoppedRun:
    """The three held runs, stopped three ways (one class, so one worker holds them)."""

    def test_the_held_runs_started_every_kind_of_server(self, held_runs: dict[str, HeldRun]) -> None:
        """Otherwise the tests below would prove nothing."""
        for case, run in held_runs.items():
            assert run.programs >= SERVERS, f"{case}: the run started only {sorted(run.programs)}"

    def test_ctrl_c_leaves_nothing_running(self, held_runs: dict[str, HeldRun]) -> None:
        """Ctrl-C in a terminal: SIGINT to the whole foreground process group."""
        run = held_runs["ctrl-c"]
        code, output = run.end()
        assert code != 0, output
        # pytest usually ends on the KeyboardInterrupt; but when the signal lands while Playwright's
        # event loop runs, that loop swallows it, and the time limit ends the hung test instead.
        assert "KeyboardInterrupt" in output or "ran longer than its limit" in output, output
        assert not run.left_alive(), f"left running after Ctrl-C: {run.left_alive()}\n{output}"

    def test_sigterm_leaves_nothing_running(self, held_runs: dict[str, HeldRun]) -> None:
        """CI's or `timeout`'s stop: SIGTERM to pytest alone, which ends it without any teardown."""
        run = held_runs["sigterm"]
        code, output = run.end()
        assert code == -signal.SIGTERM, output
        assert not run.left_alive(), f"left running after SIGTERM: {run.left_alive()}\n{output}"

    def test_the_time_limit_stops_a_hung_test_names_it_and_leaves_nothing_running(
        self, held_runs: dict[str, HeldRun]
    ) -> None:
        """The hung test is named, every thread's stack is printed, and the run fails."""
        run = held_runs["time-limit"]
        code, output = run.end()
        assert code == 1, output
        assert f"{HANGS} ran longer than its limit of {TIME_LIMIT_SECONDS} s" in output, output
        assert "hang_plugin.py" in output, f"no stack of the hung test:\n{output}"
        assert not run.left_alive(), f"left running after the time limit: {run.left_alive()}\n{output}"
