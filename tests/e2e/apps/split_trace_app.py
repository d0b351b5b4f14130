"""Traces that cross two services, each exporting to its own gateway task.

Usage: ``split_trace_app.py FRONTEND BACKEND TOKEN TRACES [--children N] [--gap SECONDS]
[--error-every K] [--threads T]``. Every trace is a root span of service ``frontend``,
exported through the OTel SDK over OTLP/gRPC to ``FRONTEND`` (host:port), and ``N`` child spans
of service ``backend`` exported to ``BACKEND``, one export request per span, ``SECONDS`` apart:
the spans of one trace reach two routers in separate requests, as a request crossing two
services does. Every ``K``-th trace has a child span with status ERROR. ``T`` threads make
traces at once. Prints one JSON line per trace (trace id, start, end, error) and a summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode


def provider(service: str, endpoint: str, token: str) -> TracerProvider:
    """A tracer provider for ``service`` exporting each span as one request to ``endpoint``."""
    exporter = OTLPSpanExporter(
        endpoint=endpoint, insecure=True, headers=(("authorization", f"Bearer {token}"),)
    )
    result = TracerProvider(resource=Resource.create({"service.name": service}))
    result.add_span_processor(SimpleSpanProcessor(exporter))
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("frontend")
    parser.add_argument("backend")
    parser.add_argument("token")
    parser.add_argument("traces", type=int)
    parser.add_argument("--children", type=int, default=4)
    parser.add_argument("--gap", type=float, default=0.0)
    parser.add_argument("--error-every", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    front = provider("frontend", args.frontend, args.token).get_tracer("e2e.frontend")
    back = provider("backend", args.backend, args.token).get_tracer("e2e.backend")
    lock = threading.Lock()
    counter = iter(range(args.traces))

    def work() -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            error = args.error_every > 0 and index % args.error_every == 0
            start = time.time()
            root = front.start_span("checkout")
            context = trace.set_span_in_context(root)
            trace_id = format(root.get_span_context().trace_id, "032x")
            for child in range(args.children):
                with back.start_as_current_span("charge", context=context) as span:
                    if error and child == 0:
                        span.set_status(Status(StatusCode.ERROR, "declined"))
                if args.gap:
                    time.sleep(args.gap)
            root.end()
            line = {"trace_id": trace_id, "start": start, "end": time.time(), "error": error}
            with lock:
                print(json.dumps(line), flush=True)

    threads = [threading.Thread(target=work) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"traces": args.traces, "spans": args.traces * (args.children + 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
