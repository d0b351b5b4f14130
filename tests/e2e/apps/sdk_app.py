"""An application instrumented with the OpenTelemetry Python SDK, configured by environment only.

Usage: ``sdk_app.py TRACES SPANS_PER_TRACE LOGS``. Exporters, endpoint, protocol, resource and
propagators all come from the ``OTEL_*`` variables; the code only creates telemetry. Prints
one JSON line with what was sent.
"""

from __future__ import annotations

import json
import logging
import sys

from opentelemetry import metrics, propagate, trace
from opentelemetry._logs import get_logger_provider
from opentelemetry.sdk._configuration import _initialize_components

ROUTES = 5


def main() -> int:
    traces, spans_per_trace, logs = (int(value) for value in sys.argv[1:4])
    _initialize_components(setup_logging_handler=True)
    tracer = trace.get_tracer("e2e.app")
    counter = metrics.get_meter("e2e.app").create_counter("e2e.requests")
    log = logging.getLogger("e2e.app")
    log.setLevel(logging.INFO)
    headers: dict[str, str] = {}
    for index in range(traces):
        with tracer.start_as_current_span("request"):
            for _ in range(spans_per_trace - 1):
                with tracer.start_as_current_span("child"):
                    pass
            propagate.inject(headers)
        counter.add(1, {"route": f"/r{index % ROUTES}"})
    for index in range(logs):
        log.info("e2e log %d", index)
    tracer_provider = trace.get_tracer_provider()
    meter_provider = metrics.get_meter_provider()
    logger_provider = get_logger_provider()
    for provider in (tracer_provider, meter_provider, logger_provider):
        # the SDK's providers (the API's have no shutdown): flush everything before exiting
        provider.shutdown()  # type: ignore[union-attr]
    print(
        json.dumps(
            {
                "spans": traces * spans_per_trace,
                "requests": traces,
                "routes": ROUTES,
                "logs": logs,
                "propagation_headers": sorted(headers),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
