"""Stops every process a test run started, when the run ends without stopping them itself.

A run can end without its teardown: SIGTERM from CI or `timeout`, a second Ctrl-C, the time
limit's exit, SIGKILL. Whatever it started then lives on: an embedded PostgreSQL, a Redis, a
Celery worker, Chromium. So every run starts this janitor, in a session of its own. Every
0.2 s the janitor notes the run's processes: its descendants, and any process whose command
line names the run's temporary folder (pytest's basetemp), which is how it finds the
PostgreSQL server that `pg_ctl` detaches from the run. When the run is gone (its pipe closes)
it stops every noted process that is still alive: SIGTERM, then SIGKILL two seconds later. A
process is matched by pid *and* start time, so a reused pid is never signalled. Linux only
(`/proc`); elsewhere it does nothing.

    python -m guidekit.janitor PID BASETEMP   # watches PID; reads nothing but the end of its stdin
"""

import contextlib
import os
import select
import signal
import sys
import time
from pathlib import Path

PROC = Path("/proc")
SNAPSHOT_SECONDS = 0.2
GRACE_SECONDS = 2.0

Process = tuple[int, int]  # pid and start time (clock ticks after boot)


def supported() -> bool:
    """Whether this system has what the janitor needs (Linux's /proc and prctl)."""
    return sys.platform == "linux" and PROC.is_dir()


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of a live process, or None."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":
        return None  # a zombie has already stopped
    return int(fields[1]), int(fields[19])


def run_processes(root: int, folder: str | None) -> set[Process]:
    """Every live process below `root`, and every one whose command line names `folder`."""
    children: dict[int, list[Process]] = {}
    named: set[Process] = set()
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            process = (int(entry.name), stat[1])
            children.setdefault(stat[0], []).append(process)
            if folder and f"{folder.rstrip('/')}/" in _command_line(process[0]):  # not `pytest-2` in `pytest-25`
                named.add(process)
    found: set[Process] = set()
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child[0])
    return found | named


def _command_line(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(process: Process) -> bool:
    """The same process (pid and start time) is still running."""
    stat = _stat(process[0])
    return stat is not None and stat[1] == process[1]


def stop(processes: set[Process]) -> set[Process]:
    """SIGTERM each live process, SIGKILL what is left after the grace period; returns what was stopped."""
    targets = {process for process in processes if alive(process)}
    for signal_number in (signal.SIGTERM, signal.SIGKILL):
        for process in targets:
            if alive(process):
                with contextlib.suppress(ProcessLookupError):  # it ended just now
                    os.kill(process[0], signal_number)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and any(alive(process) for process in targets):
            time.sleep(0.05)
    return targets


def watch(run: int, folder: str) -> None:
    """Note the run's processes until standard input closes (the run ended), then stop the rest."""
    me = os.getpid()
    snapshot: set[Process] = set()
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], SNAPSHOT_SECONDS)
        if ready and not os.read(sys.stdin.fileno(), 4096):
            break
        if _stat(run) is None:
            break
        # Added to, never replaced: a snapshot taken while the run dies misses the orphans it
        # just left (the kernel re-parents them at once), and the earlier one still has them.
        snapshot |= {process for process in run_processes(run, folder) if process[0] != me}
    stopped = stop(snapshot)
    if stopped:
        names = sorted({_name(pid) for pid, _ in stopped})
        print(f"janitor: stopped {len(stopped)} process(es) the run left behind: {', '.join(names)}", file=sys.stderr)


def _name(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return str(pid)


def start(folder: Path) -> int | None:
    """Start a janitor for this process and its temporary `folder`; return the pipe it watches.

    None where the janitor is not supported.

    The pipe's write end stays open in this process, unused, until the process ends; it is not
    inherited by the processes the run starts, so only the run's own end closes it.
    """
    if not supported():
        return None
    read_end, write_end = os.pipe()
    os.posix_spawn(
        sys.executable,
        [sys.executable, "-m", "guidekit.janitor", str(os.getpid()), str(folder)],
        os.environ,
        file_actions=[(os.POSIX_SPAWN_DUP2, read_end, 0)],
        setsid=True,  # not reached by the Ctrl-C or kill aimed at the run's process group
    )
    os.close(read_end)
    return write_end


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch(int(sys.argv[1]), sys.argv[2])
