"""The Celery application: `celery --app=app.celery_app worker` (and `beat`,
exactly one).

Its configuration and the logging, Sentry and tracing its processes start are
read from `Settings` when Celery needs them, never at import time.
"""

import sys
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import (
    beat_init,
    celeryd_init,
    setup_logging,
    worker_process_init,
    worker_process_shutdown,
)

from app.core.config import TASK_CLEANUP_SECONDS, Settings, get_settings
from app.core.logging import configure_logging
from app.core.sentry import configure_sentry
from app.core.tracing import configure_tracing, instrument_celery

celery_app = Celery("reference_service", include=["app.celery.tasks"])

# Task names, so the API enqueues by name without importing task code (and what
# it imports).
DELIVER_WEBHOOK_TASK = "webhook.deliver"
PURGE_SOFT_DELETED_TASK = "maintenance.purge_soft_deleted_messages"
REQUEUE_LOST_DELIVERIES_TASK = "webhook.requeue_lost"
PURGE_IDEMPOTENCY_KEYS_TASK = "maintenance.purge_expired_idempotency_keys"


# --8<-- [start:celery_config]
def celery_config(settings: Settings) -> dict[str, Any]:
    """Reliable defaults: a task is acknowledged after it finishes, never lost
    with its worker.
    """
    return {
        "broker_url": settings.redis_url.get_secret_value(),
        # No `result_backend`: nothing reads a task's return value (a
        # delivery's outcome is its row). With one, every thread that sends a
        # task, a worker retrying included, subscribes a Redis connection to
        # the result's channel until the result object is garbage-collected.
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": settings.celery_visibility_timeout_seconds,
            # Sweep for orphaned tasks (a killed worker's) on every pass, at
            # least once per timeout, so one waits at most about twice the
            # visibility timeout, not minutes.
            "unacked_restore_throttle": 1,
            "unacked_restore_interval": min(
                10, settings.celery_visibility_timeout_seconds
            ),
            # A broker that accepts a connection and never answers would block
            # `send_task`, and the request that sends it, forever: a stalled
            # Redis raises like an unreachable one.
            "socket_connect_timeout": settings.redis_timeout_seconds,
            "socket_timeout": settings.redis_timeout_seconds,
        },
        # Without one, a sender waits forever for a pooled connection when
        # every one is taken.
        "broker_pool_acquire_timeout": settings.redis_timeout_seconds,
        # ack after the task ran: a crash mid-task means redelivery
        "task_acks_late": True,
        # a killed worker's task goes back to the queue
        "task_reject_on_worker_lost": True,
        # with late acks, do not hoard tasks another worker could run
        "worker_prefetch_multiplier": 1,
        "task_time_limit": settings.celery_task_time_limit_seconds,
        "task_soft_time_limit": (
            settings.celery_task_time_limit_seconds - TASK_CLEANUP_SECONDS
        ),
        # never pickle: a message from the broker must not run code
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "beat_schedule": {
            "purge-soft-deleted-messages": {
                "task": PURGE_SOFT_DELETED_TASK,
                # A time of day, not `timedelta(days=1)`: an interval counts
                # from beat's start, and a beat redeployed more often than
                # daily (its state lost) would never run it.
                "schedule": crontab(hour=3, minute=0),
            },
            "requeue-lost-webhook-deliveries": {
                "task": REQUEUE_LOST_DELIVERIES_TASK,
                "schedule": timedelta(minutes=10),
            },
            "purge-expired-idempotency-keys": {
                "task": PURGE_IDEMPOTENCY_KEYS_TASK,
                # hourly: an expired key's row stays an hour at most
                "schedule": crontab(minute=30),
            },
        },
    }


@celery_app.on_configure.connect
def configure_from_settings(sender: Celery, **_: object) -> None:
    """Read `Settings` when Celery first needs its configuration, not at import
    time.
    """
    sender.conf.update(celery_config(get_settings()))


# --8<-- [end:celery_config]


# --8<-- [start:worker_signals]
@setup_logging.connect
def log_as_json(**_: object) -> None:
    """JSON lines on stderr, like the API. Connecting any receiver here stops
    Celery from replacing the root logger's handlers with its own; `--loglevel`
    gives way to `LOG_LEVEL`."""
    configure_logging(get_settings(), sys.stderr)


@celeryd_init.connect
@beat_init.connect
def report_errors(**_: object) -> None:
    """Sentry in the main process, before the pool forks: its children inherit
    the client.
    """
    configure_sentry(get_settings())


@worker_process_init.connect
def trace_tasks(**_: object) -> None:
    """In each pool process, after the fork: each builds its own provider and
    exporter, as the OpenTelemetry Celery instrumentation asks, and instruments
    publishing and running tasks."""
    tracer_provider = configure_tracing(get_settings())
    if tracer_provider is None:
        return
    instrument_celery(tracer_provider)
    # A prefork child leaves through os._exit, which skips the provider's flush
    # at exit.
    worker_process_shutdown.connect(
        lambda **_: tracer_provider.shutdown(), weak=False
    )


# --8<-- [end:worker_signals]
