"""A stand-in application for the embedded-mode tests (Python standard library only).

Usage: ``fake_app.py HEALTH_URL OTLP_HTTP_ENDPOINT MODE CODE``. It reports whether the collector
was healthy when it started, sends one span named ``app-start``, then:

- ``MODE=exit``: exits with CODE at once;
- ``MODE=wait``: waits (at most 60 s) for SIGTERM, sends a span named ``app-shutdown`` (the
  collector must still be running) and exits with CODE.
"""

from __future__ import annotations

import signal
import sys
import time
import urllib.request

# A minimal OTLP ExportTraceServiceRequest with one span, hand-encoded so the app needs no
# dependency: resource_spans { scope_spans { spans { trace_id span_id name kind } } }.


def _field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


def span_request(name: str, seed: int) -> bytes:
    span = (
        _field(1, bytes([seed] * 16))
        + _field(2, bytes([seed] * 8))
        + _field(5, name.encode())
        + bytes([6 << 3, 1])
    )
    return _field(1, _field(2, _field(2, span)))


def say(message: str) -> None:
    print(f"app: {message}", flush=True)


def send(endpoint: str, name: str, seed: int) -> int:
    request = urllib.request.Request(
        f"{endpoint}/v1/traces",
        data=span_request(name, seed),
        headers={"Content-Type": "application/x-protobuf"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return int(answer.status)


def main() -> int:
    health_url, endpoint, mode, code = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    try:
        with urllib.request.urlopen(health_url, timeout=2) as answer:
            healthy = answer.status == 200
    except OSError:
        healthy = False
    say(f"started, collector healthy={healthy}")
    say(f"sent app-start, status {send(endpoint, 'app-start', 1)}")
    if mode == "exit":
        say(f"exiting with {code}")
        return code
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda number, frame: stopping.append(number))
    say("ready")
    deadline = time.monotonic() + 60
    while not stopping and time.monotonic() < deadline:
        time.sleep(0.05)
    if not stopping:
        say("no SIGTERM within 60s")
        return 99
    say("SIGTERM received")
    say(f"sent app-shutdown, status {send(endpoint, 'app-shutdown', 2)}")
    say(f"exiting with {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
