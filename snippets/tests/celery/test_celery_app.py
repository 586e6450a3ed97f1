"""The Celery application's configuration: no result backend, and nothing
started at import time.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from redis.asyncio import Redis

from app.celery_app import DELIVER_WEBHOOK_TASK, celery_app
from app.core.config import Settings

SERVICE_ROOT = Path(__file__).resolve().parents[2]


async def test_sending_a_task_subscribes_no_connection_to_its_result(
    settings: Settings, redis: Redis
) -> None:
    result = celery_app.send_task(
        DELIVER_WEBHOOK_TASK, args=[str(uuid.uuid4())]
    )
    # the message is not the point, and no worker runs here
    await redis.delete("celery")

    # With a result backend, `send_task` subscribes the sending thread's
    # connection to this channel.
    assert await redis.pubsub_numsub(f"celery-task-meta-{result.id}") == [
        (f"celery-task-meta-{result.id}", 0)
    ]
    assert celery_app.conf.result_backend is None


IMPORT_THEN_START_A_POOL_PROCESS = """
import os

from celery.signals import worker_process_init, worker_process_shutdown
from opentelemetry import trace
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from pydantic import ValidationError

# The task code, and the Celery app with its signal receivers.
import app.celery.tasks
from app.core.config import get_settings

try:
    get_settings()
except ValidationError:
    print("imported without settings")
print("after import:", type(trace.get_tracer_provider()).__name__)
os.environ |= {
    "DATABASE_URL": "postgresql://app@127.0.0.1:1/app",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "JWT_SECRET": "local-only-secret-of-at-least-32-characters",
    "JWT_ISSUER": "https://auth.test/",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
}
# What each pool process receives after the fork.
worker_process_init.send(sender=None)
print("in a pool process:", type(trace.get_tracer_provider()).__name__)
celery = CeleryInstrumentor().is_instrumented_by_opentelemetry
redis = RedisInstrumentor().is_instrumented_by_opentelemetry
print("celery instrumented:", celery)
print("redis instrumented:", redis)
worker_process_shutdown.send(sender=None, pid=os.getpid(), exitcode=0)
"""


def test_importing_task_code_needs_no_settings_and_only_a_pool_process_traces(
    tmp_path: Path,
) -> None:
    # no settings, no `.env` in cwd
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(SERVICE_ROOT),
    }
    run = subprocess.run(
        [sys.executable, "-c", IMPORT_THEN_START_A_POOL_PROCESS],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "imported without settings",
        # importing started no provider
        "after import: ProxyTracerProvider",
        "in a pool process: TracerProvider",
        "celery instrumented: True",
        # the broker's polling would be spans of their own
        "redis instrumented: False",
    ]
