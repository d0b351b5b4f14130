#!/usr/bin/env python3
"""Start-up cost of the language agents: a hello-world service with and without its agent.

For Java (JDK HTTP server), Node.js (``http``) and Python (Flask), starts the same
uninstrumented service as the e2e tests, with exactly the variables a synthesized task gives
its container and the agent where the init container copies it, and times the wall clock from
process start to the first answered request. The same service without the agent's variables
is the baseline. Each case runs ``RUNS`` times; the median and the range are printed. The
agents export to a closed local port: exporting happens after start-up, off the request path.

    .venv/bin/python benchmarks/agent_startup_bench.py
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "constructs")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from otel_fargate.apps.instrumentation import AutoInstrumentation  # noqa: E402

from tests.e2e.agents import app_command, placed, serving, synthesized_variables  # noqa: E402

RUNS = 5
RUNTIMES = ("java", "nodejs", "python")
START_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _time_to_first_answer(command: list[str], variables: dict[str, str], home: str) -> float:
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, **variables,
           "PORT": str(port)}
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while not serving(port):
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited with {process.returncode}")
            if time.perf_counter() - start > START_TIMEOUT_S:
                raise RuntimeError(f"{command} did not answer within {START_TIMEOUT_S} s")
            time.sleep(0.01)
        return time.perf_counter() - start
    finally:
        # only the start is measured; an agent's shutdown flush to the closed port is not
        process.kill()
        process.wait(timeout=30)


def main() -> int:
    injected = synthesized_variables(environment="bench", version="1.0.0")
    closed = _free_port()
    print(f"agent start-up: first answered request, median of {RUNS} (range), "
          f"{os.cpu_count()} cores")
    print(f"{'runtime':>8}  {'without agent s':>17}  {'with agent s':>17}  {'added s':>7}")
    with tempfile.TemporaryDirectory() as home:
        for runtime in RUNTIMES:
            command = app_command(runtime)
            with_agent = {**injected[runtime],
                          "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{closed}"}
            agent_variables = AutoInstrumentation(runtime=runtime).appended()  # type: ignore[arg-type]
            without = {k: v for k, v in with_agent.items() if k not in agent_variables}
            with placed(runtime):
                bare = [_time_to_first_answer(command, without, home) for _ in range(RUNS)]
                ours = [_time_to_first_answer(command, with_agent, home) for _ in range(RUNS)]
            b, o = statistics.median(bare), statistics.median(ours)
            print(f"{runtime:>8}  {b:>6.2f} ({min(bare):.2f}-{max(bare):.2f})  "
                  f"{o:>6.2f} ({min(ours):.2f}-{max(ours):.2f})  {o - b:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
