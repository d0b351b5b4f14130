"""Building blocks of the end-to-end tests and of benchmarks/e2e_bench.py (no pytest import).

- :class:`ProcessRunner` starts processes in their own session, logs each to a file and kills
  every process it started (and their descendants) when closed.
- :class:`OtlpSink` is an OTLP/HTTP receiver on 127.0.0.1 that decodes the protobuf requests
  and counts spans, metric data points and log records exactly.
- :func:`collector_options` / :func:`start_collector` run the real collector with a rendered
  configuration moved to free loopback ports.

Every wait is bounded by a deadline; nothing here talks to an address outside 127.0.0.0/8
(or a network namespace the caller created).
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from otel_fargate.config import (
    CollectorConfigOptions,
    ContainerMetrics,
    OtlpExporter,
    Preset,
    RenderedConfig,
    deep_merge,
    render,
)

#: The collector of the image's release that these tests build has no ``awsecscontainermetrics``
#: (the module proxy does not serve it at that release), so the sidecars and agents they run
#: leave container metrics out; tests/e2e/test_container_metrics.py runs them on the tests'
#: second collector instead.
T = TypeVar("T")

WITHOUT_CONTAINER_METRICS = ContainerMetrics(enabled=False)


def for_local_build(preset: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with container metrics off for a sidecar or agent, unless they say otherwise."""
    if preset in ("sidecar", "agent"):
        options.setdefault("container_metrics", WITHOUT_CONTAINER_METRICS)
    return options


REPO_ROOT = Path(__file__).resolve().parents[2]
GATEWAY_TOKEN = "e2e-gateway-token-7f3a"
#: The gateway's second accepted token (``OTEL_GATEWAY_TOKEN_PREVIOUS``); no agent sends it.
GATEWAY_TOKEN_PREVIOUS = "e2e-gateway-previous-token-c41e"

_handed_out: set[int] = set()
_port_lock = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now, never the same one twice in this process."""
    with _port_lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind((host, 0))
                port = int(probe.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError("free_port: no unused port after 100 tries")


def wait_until(
    condition: Callable[[], bool], *, timeout: float, interval: float = 0.05, what: str = ""
) -> None:
    """Poll ``condition`` until it is true; raise TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not within {timeout:g}s: {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# processes


def _children_of(pid: int) -> list[int]:
    """Every live process whose parent is ``pid`` (read from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid ..."; comm may contain spaces and parentheses
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """``pid``'s children, grandchildren and so on."""
    found: list[int] = []
    pending = [pid]
    while pending:
        for child in _children_of(pending.pop()):
            if child not in found:
                found.append(child)
                pending.append(child)
    return found


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size (VmHWM) so far, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM")


@dataclass
class Process:
    """A process started by :class:`ProcessRunner`; its output is in ``log_path``."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    started: float

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class ProcessRunner:
    """Starts processes, each in a new session, and kills what is left of them on close."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.processes: list[Process] = []

    def start(
        self,
        name: str,
        argv: Sequence[str | Path],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Process:
        """Start ``argv``; stdout and stderr both go to ``<directory>/<name>-<n>.log``."""
        log_path = self.directory / f"{name}-{len(self.processes)}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [str(part) for part in argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        process = Process(name=name, popen=popen, log_path=log_path, started=time.monotonic())
        self.processes.append(process)
        return process

    def stop(self, process: Process, *, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``sig`` and wait up to ``timeout`` s for the exit; SIGKILL and raise if late."""
        if process.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, sig)
        try:
            return process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill(process)
            raise TimeoutError(
                f"{process.name} did not exit within {timeout:g}s of signal {sig}"
            ) from None

    def _kill(self, process: Process) -> None:
        for pid in [*descendants(process.pid), process.pid]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=10)

    def close(self) -> None:
        """SIGKILL every process started here that is still running, with its descendants."""
        for process in reversed(self.processes):
            if process.alive() or descendants(process.pid):
                self._kill(process)


# --------------------------------------------------------------------------------------------
# the OTLP/HTTP sink


@dataclass
class SinkState:
    """What the sink received so far."""

    spans: int = 0
    span_ids: set[bytes] = field(default_factory=set)
    span_names: Counter[str] = field(default_factory=Counter)
    metric_points: int = 0
    #: the last value seen per (metric name, sorted attributes) of int sums
    sum_series: dict[tuple[str, tuple[tuple[str, str], ...]], int] = field(default_factory=dict)
    log_records: int = 0
    log_bodies: Counter[str] = field(default_factory=Counter)
    #: every log record's attributes, in arrival order
    log_attributes: list[dict[str, str]] = field(default_factory=list)
    resources: list[dict[str, str]] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    authorization: set[str] = field(default_factory=set)
    #: spans received per trace id and resource ``service.name``
    traces: dict[bytes, Counter[str]] = field(default_factory=dict)
    #: every metric point, only when the sink was made with ``keep_points=True``
    points: list[MetricPoint] = field(default_factory=list)


@dataclass(frozen=True)
class MetricPoint:
    """One metric data point as it arrived, with its metric's unit and its resource."""

    name: str
    unit: str
    resource: dict[str, str]
    attributes: dict[str, str]
    time_unix_nano: int
    value: float


def _attributes(attributes: Any) -> dict[str, str]:
    result: dict[str, str] = {}
    for attribute in attributes:
        value = attribute.value
        kind = value.WhichOneof("value")
        result[attribute.key] = str(getattr(value, kind)) if kind is not None else ""
    return result


def _metric_points(metric: Any) -> Any:
    kind = metric.WhichOneof("data")
    return getattr(metric, kind).data_points if kind is not None else []


def _point(metric: Any, point: Any, resource: dict[str, str]) -> MetricPoint:
    try:
        kind = point.WhichOneof("value")
    except ValueError:  # histograms and summaries carry no single value
        kind = None
    value = float(getattr(point, kind)) if kind in ("as_int", "as_double") else float("nan")
    return MetricPoint(
        name=metric.name,
        unit=metric.unit,
        resource=resource,
        attributes=_attributes(point.attributes),
        time_unix_nano=int(point.time_unix_nano),
        value=value,
    )


class OtlpSink:
    """OTLP/HTTP (protobuf) receiver on ``host``; counts what arrives.

    ``delay_seconds`` holds every answer back that long (a slow backend); ``status`` is the
    HTTP status answered (a 503 makes exporters retry; nothing is counted then). With
    ``decode=False`` requests are answered without being decoded or counted (benchmarks).
    """

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, decode: bool = True,
        keep_points: bool = False,
    ) -> None:
        self.state = SinkState()
        self.decode = decode
        self.keep_points = keep_points
        self.delay_seconds = 0.0
        self.status = 200
        self._changed = threading.Condition()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if not sink.decode:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.headers.get("Content-Encoding", "") == "gzip":
                    body = gzip.decompress(body)
                if sink.delay_seconds > 0:
                    time.sleep(sink.delay_seconds)
                status = sink.status
                if status == 200:
                    answer = sink._record(self.path, body, self.headers.get("Authorization"))
                else:
                    answer = b""
                self.send_response(status if answer is not None else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer or b"")))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(answer or b"")

        self._server = http.server.ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _record(self, path: str, body: bytes, authorization: str | None) -> bytes | None:
        with self._changed:
            state = self.state
            if authorization is not None:
                state.authorization.add(authorization)
            if path == "/v1/traces":
                traces = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
                for resource_spans in traces.resource_spans:
                    resource = _attributes(resource_spans.resource.attributes)
                    state.resources.append(resource)
                    service = resource.get("service.name", "")
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            state.traces.setdefault(bytes(span.trace_id), Counter())[service] += 1
                            state.spans += 1
                            state.span_ids.add(bytes(span.trace_id) + bytes(span.span_id))
                            state.span_names[span.name] += 1
                answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            elif path == "/v1/metrics":
                metrics = metrics_service_pb2.ExportMetricsServiceRequest.FromString(body)
                for resource_metrics in metrics.resource_metrics:
                    resource = _attributes(resource_metrics.resource.attributes)
                    state.resources.append(resource)
                    for scope_metrics in resource_metrics.scope_metrics:
                        for metric in scope_metrics.metrics:
                            for point in _metric_points(metric):
                                state.metric_points += 1
                                if self.keep_points:
                                    state.points.append(_point(metric, point, resource))
                                if metric.WhichOneof("data") == "sum" and point.HasField("as_int"):
                                    key = (
                                        metric.name,
                                        tuple(sorted(_attributes(point.attributes).items())),
                                    )
                                    state.sum_series[key] = point.as_int
                answer = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
            elif path == "/v1/logs":
                logs = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
                for resource_logs in logs.resource_logs:
                    state.resources.append(_attributes(resource_logs.resource.attributes))
                    for scope_logs in resource_logs.scope_logs:
                        for record in scope_logs.log_records:
                            state.log_records += 1
                            state.log_bodies[record.body.string_value] += 1
                            state.log_attributes.append(_attributes(record.attributes))
                answer = logs_service_pb2.ExportLogsServiceResponse().SerializeToString()
            else:
                return None
            state.requests[path] += 1
            self._changed.notify_all()
            return bytes(answer)

    def wait_for(
        self, condition: Callable[[SinkState], bool], *, timeout: float, what: str = ""
    ) -> SinkState:
        """Block until ``condition(state)`` holds; raise TimeoutError with the state if not."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self.state):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"sink: not within {timeout:g}s: {what}; got spans={self.state.spans} "
                        f"unique={len(self.state.span_ids)} points={self.state.metric_points} "
                        f"logs={self.state.log_records} requests={dict(self.state.requests)}"
                    )
                self._changed.wait(min(remaining, 0.5))
            return self.state

    def settle(self, *, quiet_seconds: float, timeout: float) -> SinkState:
        """Wait until nothing arrived for ``quiet_seconds`` (at most ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        last = -1
        while time.monotonic() < deadline:
            total = sum(self.state.requests.values())
            if total == last:
                return self.state
            last = total
            time.sleep(quiet_seconds)
        return self.state

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --------------------------------------------------------------------------------------------
# network namespaces

_CLONE_NEWNET = 0x40000000


@contextlib.contextmanager
def in_netns(name: str) -> Iterator[None]:
    """Run the calling thread inside network namespace ``name`` (``ip netns add``)."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/thread-self/ns/net") as original, open(f"/run/netns/{name}") as target:
        if libc.setns(target.fileno(), _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {name} failed")
        try:
            yield
        finally:
            if libc.setns(original.fileno(), _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the original namespace failed")


def run_in_netns(name: str, call: Callable[[], T]) -> T:
    """``call()`` run on a thread inside namespace ``name``; what it raises is raised here."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with in_netns(name):
                result.append(call())
        except BaseException as error:  # handed to the caller
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if errors:
        raise errors[0]
    return result[0]


def sink_in_netns(name: str, *, port: int = 0) -> OtlpSink:
    """An :class:`OtlpSink` listening on 127.0.0.1 (on ``port``, 0: any) inside ``name``."""
    return run_in_netns(name, lambda: OtlpSink(port=port))


# --------------------------------------------------------------------------------------------
# collectors


@dataclass(frozen=True)
class Ports:
    """The loopback ports one collector listens on."""

    grpc: int
    http: int
    health: int
    metrics: int

    @classmethod
    def allocate(cls) -> Ports:
        return cls(grpc=free_port(), http=free_port(), health=free_port(), metrics=free_port())


def loopback_overrides(ports: Ports, *, host: str = "127.0.0.1") -> dict[str, Any]:
    """Overrides moving the OTLP receivers and the Prometheus reader to ``ports`` on ``host``."""
    return {
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"{host}:{ports.grpc}"},
                    "http": {"endpoint": f"{host}:{ports.http}"},
                }
            }
        },
        "service": {
            "telemetry": {
                "metrics": {
                    "readers": [
                        {
                            "pull": {
                                "exporter": {
                                    "prometheus": {"host": "127.0.0.1", "port": ports.metrics}
                                }
                            }
                        }
                    ]
                }
            }
        },
    }


def _loopback_config(
    ports: Ports,
    *,
    preset: Preset,
    service_name: str,
    host: str = "127.0.0.1",
    extra: Mapping[str, Any] | None = None,
    **options: Any,
) -> RenderedConfig:
    """``preset`` rendered onto ``ports`` of ``host``, with local telemetry only."""
    return render(
        CollectorConfigOptions(
            preset=preset,
            health_check_endpoint=f"127.0.0.1:{ports.health}",
            self_telemetry_namespace=None,
            environment_name="e2e",
            service_name=service_name,
            overrides=deep_merge(loopback_overrides(ports, host=host), extra or {}),
            **for_local_build(preset, options),
        )
    )


def _sink_exporter(sink: str) -> tuple[OtlpExporter]:
    return (OtlpExporter(name="sink", protocol="http", endpoint=sink),)


def agent_config(
    ports: Ports,
    *,
    gateway: str,
    memory_mib: int = 512,
    extra: Mapping[str, Any] | None = None,
) -> RenderedConfig:
    """The agent preset on ``ports``, forwarding to ``gateway`` (host:port)."""
    return _loopback_config(
        ports, preset="agent", service_name="e2e-app", extra=extra,
        gateway_endpoint=gateway, memory_mib=memory_mib,
    )


def gateway_config(
    ports: Ports,
    *,
    sink: str,
    memory_mib: int = 1024,
    cpu_units: int = 512,
    host: str = "127.0.0.1",
    extra: Mapping[str, Any] | None = None,
) -> RenderedConfig:
    """The gateway preset on ``ports`` of ``host``, exporting over OTLP/HTTP to ``sink``."""
    return _loopback_config(
        ports, preset="gateway", service_name="otel-gateway", host=host, extra=extra,
        exporters=_sink_exporter(sink), memory_mib=memory_mib, cpu_units=cpu_units,
    )


def sidecar_config(
    ports: Ports,
    *,
    sink: str,
    memory_mib: int = 512,
    extra: Mapping[str, Any] | None = None,
) -> RenderedConfig:
    """The sidecar preset on ``ports``, exporting over OTLP/HTTP to ``sink``."""
    return _loopback_config(
        ports, preset="sidecar", service_name="e2e-app", extra=extra,
        exporters=_sink_exporter(sink), memory_mib=memory_mib,
    )


def collector_env(rendered: RenderedConfig, **extra: str) -> dict[str, str]:
    """The environment ECS gives the collector container (plus ``extra``), nothing inherited."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        **rendered.environment,
        "OTEL_FARGATE_CONFIG": rendered.yaml,
    }
    if "OTEL_GATEWAY_TOKEN" in rendered.required_env:
        env["OTEL_GATEWAY_TOKEN"] = GATEWAY_TOKEN
    # never left unset: an empty token in the gateway's list would accept "Bearer " over gRPC
    if "OTEL_GATEWAY_TOKEN_PREVIOUS" in rendered.required_env:
        env["OTEL_GATEWAY_TOKEN_PREVIOUS"] = GATEWAY_TOKEN_PREVIOUS
    env.update(extra)
    return env


def healthy(url: str, *, timeout: float = 1.0) -> bool:
    """True when ``url`` answers 2xx within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return 200 <= int(answer.status) < 300
    except (OSError, urllib.error.URLError):
        return False


@dataclass
class Collector:
    """A running collector: its process, ports and configuration."""

    process: Process
    ports: Ports
    rendered: RenderedConfig
    #: the network namespace the collector runs in; None: this process's
    netns: str | None = None

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.ports.grpc}"

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports.http}"

    def metric(self, name: str) -> float:
        """Sum of every series of the collector's own Prometheus metric ``name``."""
        url = f"http://127.0.0.1:{self.ports.metrics}/metrics"
        namespace = in_netns(self.netns) if self.netns is not None else contextlib.nullcontext()
        with namespace, urllib.request.urlopen(url, timeout=5) as answer:
            text = answer.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total


def start_collector(
    runner: ProcessRunner,
    binary: Path,
    rendered: RenderedConfig,
    ports: Ports,
    *,
    name: str,
    env: Mapping[str, str] | None = None,
    wait: bool = True,
    netns: str | None = None,
) -> Collector:
    """Run ``binary --config=env:OTEL_FARGATE_CONFIG``; wait until healthy unless told not to.

    ``netns``: run it in that network namespace (``ip netns exec``).
    """
    prefix = ["ip", "netns", "exec", netns] if netns is not None else []
    process = runner.start(
        name,
        [*prefix, binary, "--config=env:OTEL_FARGATE_CONFIG"],
        env=env if env is not None else collector_env(rendered),
    )
    collector = Collector(process=process, ports=ports, rendered=rendered, netns=netns)
    if wait:
        wait_healthy(collector, timeout=30)
    return collector


def wait_healthy(collector: Collector, *, timeout: float) -> None:
    """Wait until the collector's health_check answers 2xx; fail early if it exited."""
    url = f"http://127.0.0.1:{collector.ports.health}/"

    def ready() -> bool:
        if not collector.process.alive():
            raise RuntimeError(
                f"{collector.process.name} exited with {collector.process.popen.returncode} "
                f"before it was healthy:\n{collector.process.log()[-4000:]}"
            )
        with in_netns(collector.netns) if collector.netns is not None else contextlib.nullcontext():
            return healthy(url, timeout=0.5)

    wait_until(ready, timeout=timeout, what=f"{collector.process.name} healthy at {url}")


def run_telemetrygen(
    binary: Path,
    signal_kind: str,
    *,
    endpoint: str,
    count: int,
    workers: int = 1,
    rate: float = 0,
    headers: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
    timeout: float = 120,
    prefix: Sequence[str] = (),
    ca_file: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run telemetrygen to completion: ``count`` traces/metrics/logs per worker over gRPC.

    ``prefix`` goes before the binary (``ip netns exec <ns>``); ``ca_file``: speak TLS and
    verify the server with that CA (plaintext without it).
    """
    flag = {"traces": "--traces", "metrics": "--metrics", "logs": "--logs"}[signal_kind]
    argv = [
        *prefix,
        str(binary),
        signal_kind,
        "--otlp-endpoint",
        endpoint,
        *(["--ca-cert", str(ca_file)] if ca_file is not None else ["--otlp-insecure"]),
        flag,
        str(count),
        "--workers",
        str(workers),
        "--rate",
        str(rate),
        *extra,
    ]
    for key, value in (headers or {}).items():
        argv += ["--otlp-header", f'{key}="{value}"']
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, env=_tool_env()
    )


def _tool_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among ``text``'s lines (the collector logs JSON; other lines skipped)."""
    found = []
    for line in text.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(line[start:])
            if isinstance(value, dict):
                found.append(value)
    return found


# --------------------------------------------------------------------------------------------
# persistent sending queues


def queued_sidecar_config(
    ports: Ports,
    *,
    sink: str,
    persistent_queues: bool,
    queue_directory: Path,
    memory_mib: int = 512,
    extra: Mapping[str, Any] | None = None,
) -> RenderedConfig:
    """:func:`sidecar_config` with its exporter queue on disk in ``queue_directory`` or in memory.

    ``persistent_queues`` is the library's option: ``file_storage/queue`` in ``queue_directory``.
    """
    return _loopback_config(
        ports, preset="sidecar", service_name="e2e-app", extra=extra,
        exporters=_sink_exporter(sink), memory_mib=memory_mib,
        persistent_queues=persistent_queues, queue_directory=str(queue_directory),
    )


def kill_process_group(process: Process, *, timeout: float = 10) -> int:
    """SIGKILL ``process``'s process group at once (as an OOM kill would) and reap it.

    Returns the exit status (``-SIGKILL``); raises TimeoutError if it is not reaped in time.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    try:
        return process.popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"{process.name} not reaped {timeout:g}s after SIGKILL") from None
