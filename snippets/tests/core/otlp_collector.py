"""A small OTLP/HTTP collector for the tests: a real HTTP server on 127.0.0.1
that keeps what it receives.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span


class OtlpCollector(ThreadingHTTPServer):
    """Receives `POST /v1/traces` and `POST /v1/metrics` and decodes each body
    with `opentelemetry-proto`.
    """

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), OtlpHandler)
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.content_types: set[str] = set()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def spans(self) -> list[Span]:
        """Every span received, in order."""
        return [
            span
            for export in self.traces
            for batch in export.resource_spans
            for scope in batch.scope_spans
            for span in scope.spans
        ]

    def last_metrics(self) -> dict[str, Metric]:
        """The metrics of the last export, by name; cumulative, so the last
        export holds every count.
        """
        return {
            metric.name: metric
            for batch in self.metrics[-1].resource_metrics
            for scope in batch.scope_metrics
            for metric in scope.metrics
        }


class OtlpHandler(BaseHTTPRequestHandler):
    server: OtlpCollector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.content_types.add(self.headers["Content-Type"])
        if self.path == "/v1/metrics":
            self.server.metrics.append(
                ExportMetricsServiceRequest.FromString(body)
            )
        else:
            assert self.path == "/v1/traces"
            self.server.traces.append(
                ExportTraceServiceRequest.FromString(body)
            )
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    # the stdlib's signature
    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what arrived, not a log of it."""


@contextmanager
def running_collector() -> Iterator[OtlpCollector]:
    """The collector, serving from a thread until the block ends."""
    server = OtlpCollector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def attributes(
    items: Iterator[KeyValue] | list[KeyValue],
) -> dict[str, object]:
    """OTLP attributes as a plain dict: strings and integers, the two kinds the
    service records.
    """
    return {
        item.key: (
            item.value.int_value
            if item.value.HasField("int_value")
            else item.value.string_value
        )
        for item in items
    }
