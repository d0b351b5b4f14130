"""Stdout logs across a collector restart: lines delivered / lines sent.

In a task the FireLens log router holds what the collector does not take (a disk buffer
bounded by ``storage.total_limit_size``) and retries it (``Retry_Limit``); see
test_firelens_buffer for those settings. Fluent Bit is not served by the package registries
here, so the sender is the maintained forward client ``fluent-logger``, standing in for the
router with its own pending buffer: a line it cannot write stays pending (up to ``bufmax``
bytes) and is written again, before anything newer, on the next emit, which reconnects. Past
``bufmax`` the client drops the whole pending buffer and reports it to its overflow handler,
which these tests read line by line: the loss past the bound is measured, not guessed.

The collector is the real one running what ``CollectorSidecar(stdout_logs=True)`` renders; it
is stopped (SIGTERM) while a thread keeps sending, and started again on the same ports.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgpack
import pytest
from fluent import sender
from otel_fargate.config import CollectorConfigOptions, RenderedConfig, render
from otel_fargate.config.core.layers import deep_merge

from tests.e2e.harness import (
    Collector,
    OtlpSink,
    Ports,
    ProcessRunner,
    SinkState,
    free_port,
    loopback_overrides,
    start_collector,
    wait_until,
)
from tests.e2e.test_stdout_logs import METADATA, _fields, _sidecar_config

pytestmark = pytest.mark.e2e

TAG = "checkout-firelens-0123456789abcdef"
#: Pace of the sender: one line every 2 ms, about 500 lines a second.
INTERVAL = 0.002
#: Lines sent before the stop, during the outage and after the restart (at least).
BEFORE, DURING, AFTER = 500, 1500, 500


@dataclass
class Sender:
    """A thread emitting numbered lines through ``fluent-logger`` until told to stop."""

    port: int
    bufmax: int
    sent: int = 0
    #: The lines the client dropped from its pending buffer past ``bufmax``.
    dropped_lines: set[int] = field(default_factory=set)
    #: The lines whose emit failed (kept pending by the client and written again later).
    failures: list[int] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.client = sender.FluentSender(
            TAG,
            host="127.0.0.1",
            port=self.port,
            nanosecond_precision=True,
            bufmax=self.bufmax,
            timeout=1.0,
            buffer_overflow_handler=self._overflow,
        )
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _overflow(self, pending: bytes) -> None:
        self.dropped_lines.update(_lines(pending))

    def _run(self) -> None:
        while not self.stop.is_set():
            if not self.client.emit(None, {"log": f"line {self.sent}", **METADATA}):
                self.failures.append(self.sent)
            self.sent += 1
            self.stop.wait(INTERVAL)

    @property
    def dropped(self) -> int:
        return len(self.dropped_lines)

    @property
    def failed_emits(self) -> int:
        return len(self.failures)

    def first_failure_from(self, line: int) -> int | None:
        """The first line from ``line`` on whose emit failed: the sender saw the outage there."""
        return next((index for index in self.failures if index >= line), None)

    def finish(self) -> None:
        """Stop sending; the last emits ran with the collector up, so nothing is pending."""
        self.stop.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        assert self.client.pendings is None, "lines still pending after the restart"
        self.client.close()


def _lines(pending: bytes) -> list[int]:
    """The line numbers in a buffer of forward-protocol messages (tag, time, record)."""
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(pending)
    return [int(message[2]["log"].removeprefix("line ")) for message in unpacker]


def _first_undelivered(sink: OtlpSink, upto: int) -> int:
    """The first of lines ``0..upto`` not at the sink yet (``upto`` when all are)."""
    found: list[int] = []

    def probe(state: SinkState) -> bool:
        found.append(next((i for i in range(upto) if f"line {i}" not in state.log_bodies), upto))
        return True

    sink.wait_for(probe, timeout=5, what="a look at the sink")
    return found[0]


def _config(sink: OtlpSink, ports: Ports, forward_port: int) -> RenderedConfig:
    options = _sidecar_config(sink.endpoint)
    moved = deep_merge(
        loopback_overrides(ports),
        {"receivers": {"fluent_forward": {"endpoint": f"127.0.0.1:{forward_port}"}}},
    )
    return render(
        CollectorConfigOptions(
            **{
                **_fields(options),
                "overrides": moved,
                "health_check_endpoint": f"127.0.0.1:{ports.health}",
            }
        )
    )


def _restart_while_sending(
    processes: ProcessRunner, binary: Path, sink: OtlpSink, *, bufmax: int
) -> tuple[Sender, float, range]:
    """Send, stop the collector, keep sending DURING lines, start it again; return the
    sender, the outage (SIGTERM to healthy again) in seconds, and the lines unacknowledged at
    the stop: from the first line not yet at the sink when the SIGTERM was sent up to the first
    emit that failed after it.

    Those lines were written into the connection before the collector closed it, but were not
    yet through it: still in the socket's buffer or its pipeline (on a busy machine, lines
    written well before the SIGTERM can be). The forward protocol only knows they arrived with
    acknowledgements, which the log router's output asks for (``Require_ack_response``) and
    this client cannot, so it counts them as sent.
    """
    ports, forward_port = Ports.allocate(), free_port()
    rendered = _config(sink, ports, forward_port)
    collector: Collector = start_collector(processes, binary, rendered, ports, name="fwd-1")
    client = Sender(port=forward_port, bufmax=bufmax)
    client.thread.start()
    sink.wait_for(lambda state: state.log_records >= BEFORE, timeout=60, what="lines before")
    down, before_stop = time.monotonic(), client.sent
    undelivered = _first_undelivered(sink, before_stop)
    processes.stop(collector.process, timeout=60)
    at_stop = client.sent
    wait_until(lambda: client.sent >= at_stop + DURING, timeout=120, what="lines in the outage")
    start_collector(processes, binary, rendered, ports, name="fwd-2")
    outage = time.monotonic() - down
    at_start = client.sent
    wait_until(lambda: client.sent >= at_start + AFTER, timeout=120, what="lines after")
    client.finish()
    first_failure = client.first_failure_from(before_stop)
    assert first_failure is not None, "the outage was not seen by the sender"
    return client, outage, range(undelivered, first_failure)


def _delivered(sink: OtlpSink, expected: int) -> set[str]:
    """The bodies at the sink once ``expected`` arrived, or once nothing more arrives."""
    with contextlib.suppress(TimeoutError):
        sink.wait_for(lambda state: state.log_records >= expected, timeout=30, what="delivery")
    return set(sink.settle(quiet_seconds=3, timeout=60).log_bodies)


def _missing(delivered: set[str], sent: int) -> list[int]:
    return [index for index in range(sent) if f"line {index}" not in delivered]


def test_lines_sent_across_a_collector_restart_are_all_delivered(
    collector_binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> None:
    # GIVEN a sender whose buffer holds the whole outage (8 MiB, ~2,000 lines of ~300 bytes)
    # WHEN the collector is stopped and started again while it keeps sending
    client, outage, unacked = _restart_while_sending(
        processes, collector_binary, sink, bufmax=8 << 20
    )
    # THEN every line sent is delivered, once, except at most the few written into the
    # connection the collector was closing, which this client has no acknowledgement for
    delivered = _delivered(sink, client.sent)
    missing = _missing(delivered, client.sent)
    print(
        f"\nfirelens restart: {len(delivered)} / {client.sent} lines delivered, outage "
        f"{outage:.1f} s, {client.failed_emits} emits retried, {client.dropped} dropped, "
        f"missing {missing} of {len(unacked)} written unacknowledged at the stop"
    )
    assert client.dropped == 0
    assert set(missing) <= set(unacked), missing
    assert sink.state.log_records == len(delivered)


def test_past_the_buffer_the_loss_is_counted(
    collector_binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> None:
    # GIVEN a sender whose buffer holds far less than the outage (64 KiB, ~200 lines)
    # WHEN the collector is stopped and started again while it keeps sending
    client, outage, unacked = _restart_while_sending(
        processes, collector_binary, sink, bufmax=64 << 10
    )
    # THEN lines are lost, and each lost line is one the sender dropped at the bound or one
    # written unacknowledged at the stop. (A dropped line can also have arrived: a write that
    # failed after the collector had read it leaves the line pending, and it is then dropped.)
    delivered = _delivered(sink, client.sent - client.dropped)
    missing = _missing(delivered, client.sent)
    print(
        f"\nfirelens past the buffer: {len(delivered)} / {client.sent} lines delivered, "
        f"{client.dropped} dropped at the bound, outage {outage:.1f} s, "
        f"{len(missing)} missing"
    )
    assert client.dropped > 0
    assert missing, "nothing was lost past the buffer"
    assert set(missing) <= client.dropped_lines | set(unacked), sorted(
        set(missing) - client.dropped_lines - set(unacked)
    )
    assert sink.state.log_records == len(delivered)
