"""Example app for embedded mode: one container runs this app and the collector.

The OpenTelemetry SDK reads its settings from the standard environment variables
(``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_ENDPOINT``, ...) and exports to the
collector on ``127.0.0.1:4318``. On SIGTERM or SIGINT, which the supervisor forwards,
the app stops its work and flushes the spans still queued; the supervisor stops the
collector only after the app has exited, so those spans are not lost.

Settings:
    EXAMPLE_INTERVAL_SECONDS: pause between two spans; default: one span every 5 seconds.
    EXAMPLE_MAX_SPANS: exit by itself after this many spans; default: run until signalled.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def _positive_number(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise SystemExit(f"error: {name}: must be a positive number, got {raw!r}")
    return value


def main() -> int:
    interval = _positive_number(
        "EXAMPLE_INTERVAL_SECONDS", os.environ.get("EXAMPLE_INTERVAL_SECONDS", "5")
    )
    raw_max = os.environ.get("EXAMPLE_MAX_SPANS")
    max_spans = int(_positive_number("EXAMPLE_MAX_SPANS", raw_max)) if raw_max is not None else 0

    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        print(f"received {signal.Signals(signum).name}: stopping", flush=True)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("embedded-example")

    emitted = 0
    while not stop.is_set():
        with tracer.start_as_current_span("work") as span:
            emitted += 1
            span.set_attribute("example.iteration", emitted)
        print(f"emitted span {emitted}", flush=True)
        if max_spans and emitted >= max_spans:
            break
        stop.wait(interval)

    # Exports every queued span while the collector is still running.
    provider.shutdown()
    print(f"flushed; exiting after {emitted} spans", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
