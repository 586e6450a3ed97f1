"""Fixtures of the observability tests: a real OTLP receiver, and the settings
that export to it.
"""

from collections.abc import Iterator

import pytest
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

from app.core.config import Settings, get_settings
from tests.core.otlp_collector import OtlpCollector, running_collector


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    """An OTLP/HTTP receiver on 127.0.0.1 (traces and metrics), for this test
    only.
    """
    with running_collector() as server:
        yield server


@pytest.fixture
def otlp_settings(
    settings: Settings,
    collector: OtlpCollector,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Settings]:
    """The test settings plus an OTLP endpoint, as the deployment would set
    it.
    """
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
    # the lifespan instrumented its engine and publishing
    SQLAlchemyInstrumentor().uninstrument()
    CeleryInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
