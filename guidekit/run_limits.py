"""A time limit for every test, so a hang fails the run within minutes and names itself.

Two watchdogs guard each test (setup, call and teardown together):

- at the limit, a Python timer thread writes which test overran, dumps every thread's stack
  and ends the process;
- a little later, faulthandler's C watchdog does the same without needing the GIL, for the
  case the first cannot run: the interpreter spinning while it holds the GIL (CPython 3.11's
  evaluation loop did, in greenlet's thread clean-up under coverage; see docs/devops/testing.md).

Ending the process (rather than failing the one test) is the only safe answer to a hang:
nothing else can be trusted to return. Under pytest-xdist the controller then reports the
crashed worker with the test it was running and the run fails; the servers that worker had
started are stopped by the janitor when the run ends.
"""

import faulthandler
import os
import sys
import threading
import time
from typing import TextIO

DEFAULT_LIMIT_SECONDS = 120.0
LIMIT_VARIABLE = "GUIDE_TEST_TIME_LIMIT"
# How long after the limit the C watchdog steps in, if the Python one could not run.
C_WATCHDOG_GRACE_SECONDS = 15.0


def limit_seconds() -> float:
    """The per-test limit: `GUIDE_TEST_TIME_LIMIT` seconds when set, else 120 s."""
    configured = os.environ.get(LIMIT_VARIABLE)
    if not configured:
        return DEFAULT_LIMIT_SECONDS
    try:
        limit = float(configured)
    except ValueError:
        raise SystemExit(f"{LIMIT_VARIABLE}={configured!r} is not a number of seconds") from None
    if limit <= 0:
        raise SystemExit(f"{LIMIT_VARIABLE}={configured!r} must be a positive number of seconds")
    return limit


class Watchdog:
    """Times one test at a time; `stream` is the terminal, outside pytest's capture.

    One thread waits for every deadline of the run: a thread per test would end after every
    test, and on CPython 3.11 threads ending under coverage could make the interpreter spin.
    """

    def __init__(self, stream: TextIO, limit: float | None = None) -> None:
        self.stream = stream
        self.limit = limit_seconds() if limit is None else limit
        self._armed_limit = self.limit
        self._changed = threading.Condition()
        self._test: str | None = None
        self._deadline = 0.0
        self._thread = threading.Thread(target=self._wait, name="test-time-limit", daemon=True)
        self._thread.start()

    def arm(self, test: str, limit: float | None = None) -> None:
        """Start the clock for `test` (a node id), with the run's limit unless `limit` is given."""
        armed = self.limit if limit is None else limit
        with self._changed:
            self._test, self._deadline, self._armed_limit = test, time.monotonic() + armed, armed
            self._changed.notify()
        faulthandler.dump_traceback_later(armed + C_WATCHDOG_GRACE_SECONDS, exit=True, file=self.stream)

    def disarm(self) -> None:
        """Stop the clock: the test finished in time."""
        faulthandler.cancel_dump_traceback_later()
        with self._changed:
            self._test = None
            self._changed.notify()

    def close(self) -> None:
        """Stop the clock and close the stream, at the end of the run."""
        self.disarm()
        self.stream.close()

    def _wait(self) -> None:
        with self._changed:
            while True:
                if self._test is None:
                    self._changed.wait()
                elif (left := self._deadline - time.monotonic()) > 0:
                    self._changed.wait(left)
                else:
                    self._expire(self._test)

    def _expire(self, test: str) -> None:
        self.stream.write(
            f"\n{test} ran longer than its limit of {self._armed_limit:g} s ({LIMIT_VARIABLE}); "
            "the stack of every thread follows, then this test process ends.\n"
        )
        self.stream.flush()
        faulthandler.dump_traceback(file=self.stream, all_threads=True)
        self.stream.flush()
        os._exit(1)


def terminal_stream() -> TextIO:
    """A stream on the process's real standard error, which pytest's output capture does not swallow."""
    return os.fdopen(os.dup(sys.__stderr__.fileno() if sys.__stderr__ else 2), "w", buffering=1)
