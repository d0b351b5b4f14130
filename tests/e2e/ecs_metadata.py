"""A local stand-in for the ECS task metadata endpoint v4, serving AWS's documented shapes.

``GET ${ECS_CONTAINER_METADATA_URI_V4}/task`` answers the task metadata (cluster, task ARN,
family, revision, service, zone, launch type, limits, ephemeral storage, containers) and
``/task/stats`` the Docker stats of every container by Docker id, with the field names of the
Amazon ECS developer guide's Fargate examples (task metadata v4 response and task stats
response). The values are made up here and chosen so that what the receiver derives from them
can be computed in the test. ``delay_seconds`` holds every answer back (a slow endpoint).
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

REGION, ACCOUNT = "eu-west-1", "111122223333"
CLUSTER = "otel-fargate-e2e"
TASK_ID = "0f5f2e1c3b2a4d5e8f9a0b1c2d3e4f50"
TASK_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{TASK_ID}"
FAMILY, REVISION, SERVICE = "checkout", "7", "checkout-service"
ZONE = f"{REGION}b"
MIB = 1024 * 1024
EPHEMERAL_UTILIZED, EPHEMERAL_RESERVED = 11_264, 20_496


@dataclass(frozen=True)
class Container:
    """One container of the served task and the stats it reports."""

    name: str
    docker_id: str
    memory_usage: int
    memory_cache: int
    memory_limit_mib: int
    cpu_units: int

    @property
    def expected_memory_utilized_mib(self) -> int:
        """What the receiver reports as ``container.memory.utilized``: usage less cache."""
        return (self.memory_usage - self.memory_cache) // MIB


CONTAINERS = (
    Container(name="app", docker_id="a" * 12 + "-1111111111", memory_usage=300 * MIB,
              memory_cache=44 * MIB, memory_limit_mib=384, cpu_units=512),
    Container(name="otel-collector", docker_id="c" * 12 + "-2222222222",
              memory_usage=120 * MIB, memory_cache=8 * MIB, memory_limit_mib=512,
              cpu_units=256),
)


def _container_metadata(container: Container) -> dict[str, Any]:
    return {
        "DockerId": container.docker_id,
        "Name": container.name,
        "DockerName": f"ecs-{FAMILY}-{REVISION}-{container.name}",
        "Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{container.name}:1.4.2",
        "ImageID": "sha256:" + "e" * 64,
        "Labels": {
            "com.amazonaws.ecs.cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
            "com.amazonaws.ecs.container-name": container.name,
            "com.amazonaws.ecs.task-arn": TASK_ARN,
            "com.amazonaws.ecs.task-definition-family": FAMILY,
            "com.amazonaws.ecs.task-definition-version": REVISION,
        },
        "DesiredStatus": "RUNNING",
        "KnownStatus": "RUNNING",
        "Limits": {"CPU": container.cpu_units, "Memory": container.memory_limit_mib},
        "CreatedAt": "2026-12-05T10:00:01.000000000Z",
        "StartedAt": "2026-12-05T10:00:02.000000000Z",
        "Type": "NORMAL",
        "ContainerARN": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{CLUSTER}/{TASK_ID}/"
        + container.docker_id,
        "LogDriver": "awslogs",
        "LogOptions": {
            "awslogs-group": f"/ecs/{FAMILY}",
            "awslogs-region": REGION,
            "awslogs-stream": f"ecs/{container.name}/{TASK_ID}",
        },
        "Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["192.0.2.10"]}],
    }


def task_metadata() -> dict[str, Any]:
    """The task metadata v4 response of a Fargate task with :data:`CONTAINERS`."""
    return {
        "Cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
        "TaskARN": TASK_ARN,
        "Family": FAMILY,
        "Revision": REVISION,
        "ServiceName": SERVICE,
        "DesiredStatus": "RUNNING",
        "KnownStatus": "RUNNING",
        "Limits": {"CPU": 1, "Memory": 1024},
        "PullStartedAt": "2026-12-05T09:59:50.000000000Z",
        "PullStoppedAt": "2026-12-05T10:00:00.000000000Z",
        "AvailabilityZone": ZONE,
        "LaunchType": "FARGATE",
        "Containers": [_container_metadata(container) for container in CONTAINERS],
        "ClockDrift": {"ClockErrorBound": 0.5, "ReferenceTimestamp": "2026-12-05T10:00:00Z",
                       "ClockSynchronizationStatus": "SYNCHRONIZED"},
        "EphemeralStorageMetrics": {"Utilized": EPHEMERAL_UTILIZED, "Reserved": EPHEMERAL_RESERVED},
    }


def _cpu(total: int, system: int) -> dict[str, Any]:
    return {
        "cpu_usage": {"total_usage": total, "percpu_usage": [total // 2, total - total // 2],
                      "usage_in_kernelmode": total // 5, "usage_in_usermode": total // 2},
        "system_cpu_usage": system,
        "online_cpus": 2,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    }


def _stats(container: Container, tick: int) -> dict[str, Any]:
    now = time.time()
    return {
        "read": time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(now)),
        "preread": time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(now - 10)),
        "pids_stats": {"current": 4},
        "blkio_stats": {"io_service_bytes_recursive": [
            {"major": 259, "minor": 0, "op": "Read", "value": 4096 * (tick + 1)},
            {"major": 259, "minor": 0, "op": "Write", "value": 8192 * (tick + 1)},
        ]},
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": _cpu(2_000_000_000 + tick * 500_000_000, 90_000_000_000 + tick * 20_000_000_000),
        "precpu_stats": _cpu(2_000_000_000 + (tick - 1) * 500_000_000,
                             90_000_000_000 + (tick - 1) * 20_000_000_000),
        "memory_stats": {
            "usage": container.memory_usage,
            "max_usage": container.memory_usage + 16 * MIB,
            "stats": {"cache": container.memory_cache, "rss": container.memory_usage
                      - container.memory_cache},
            "limit": container.memory_limit_mib * MIB,
        },
        "name": f"ecs-{FAMILY}-{REVISION}-{container.name}",
        "id": container.docker_id,
        "networks": {"eth1": {"rx_bytes": 1_000_000 + tick, "rx_packets": 900, "rx_errors": 0,
                              "rx_dropped": 0, "tx_bytes": 2_000_000 + tick, "tx_packets": 800,
                              "tx_errors": 0, "tx_dropped": 0}},
        "network_rate_stats": {"rx_bytes_per_sec": 1200.5, "tx_bytes_per_sec": 2400.25},
    }


class TaskMetadataServer:
    """Serves ``/task`` and ``/task/stats`` on 127.0.0.1; counts the requests it answered."""

    def __init__(self) -> None:
        self.delay_seconds = 0.0
        self.requests: dict[str, int] = {}
        self._tick = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                if server.delay_seconds > 0:
                    time.sleep(server.delay_seconds)
                path = self.path.rstrip("/")
                if path.endswith("/task"):
                    body = task_metadata()
                elif path.endswith("/task/stats"):
                    server._tick += 1
                    body = {c.docker_id: _stats(c, server._tick) for c in CONTAINERS}
                else:
                    self.send_error(404)
                    return
                server.requests[path] = server.requests.get(path, 0) + 1
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        """What ECS puts in ``ECS_CONTAINER_METADATA_URI_V4`` (the container's own path)."""
        return f"http://127.0.0.1:{self.port}/v4/{CONTAINERS[1].docker_id}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
