"""The worker's observability: the API's logging, Sentry and tracing, started from Celery's signals.

A worker has no app factory; these receivers make the same calls at the moment Celery reaches
each stage. Each reads `Settings` when its signal fires, never at import time.
"""

import sys

from celery.signals import beat_init, celeryd_init, setup_logging, worker_process_init, worker_process_shutdown

from app.core.config import get_settings
from app.core.logging import configure_logging
from app.core.sentry import configure_sentry
from app.core.tracing import configure_tracing, instrument_celery


# --8<-- [start:worker_signals]
@setup_logging.connect
def log_as_json(**_: object) -> None:
    """JSON lines on stderr, like the API. Connecting any receiver here stops Celery from
    replacing the root logger's handlers with its own; `--loglevel` gives way to `LOG_LEVEL`."""
    configure_logging(get_settings(), sys.stderr)


@celeryd_init.connect
@beat_init.connect
def report_errors(**_: object) -> None:
    """Sentry in the main process, before the pool forks: its children inherit the client."""
    configure_sentry(get_settings())


@worker_process_init.connect
def trace_tasks(**_: object) -> None:
    """In each pool process (after the fork: a provider's export thread does not survive one)."""
    tracer_provider = configure_tracing(get_settings())
    if tracer_provider is None:
        return
    instrument_celery(tracer_provider)
    # A prefork child leaves through os._exit, which skips the provider's flush at exit.
    worker_process_shutdown.connect(lambda **_: tracer_provider.shutdown(), weak=False)


# --8<-- [end:worker_signals]
