#!/usr/bin/env python3
"""Synth cost of zero-code instrumentation through InstrumentApp, per service.

Synthesizes, each in a fresh process as ``cdk synth`` does, an app of 1, 10 and 50 Fargate
services whose app container asks for the Java agent, once with ``InstrumentApp`` (a sidecar
and the agent per task) and once without the library (the same services, bare), and prints
the wall time and the seconds per service of each. The cost per service should stay flat as
the app grows (linear growth, a small constant).

    .venv/bin/python benchmarks/instrument_bench.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = (1, 10, 50)

APP = """
import sys
import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2, aws_ecs as ecs
services, instrumented = int(sys.argv[1]), sys.argv[2] == "1"
app = cdk.App()
stack = cdk.Stack(app, "Shop")
cluster = ecs.Cluster(stack, "Cluster", vpc=ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1))
for i in range(services):
    task = ecs.FargateTaskDefinition(stack, f"Task{i}", cpu=1024, memory_limit_mib=2048)
    task.add_container(
        "app", container_name=f"svc{i}", image=ecs.ContainerImage.from_registry("example/app"),
        memory_limit_mib=512, docker_labels={"otel-fargate.instrument": "java"},
    )
    ecs.FargateService(stack, f"Service{i}", cluster=cluster, task_definition=task)
if instrumented:
    from otel_fargate import DebugExporter, InstrumentApp
    cdk.Aspects.of(app).add(InstrumentApp(exporters=[DebugExporter()], monitoring=False,
                                          self_telemetry_namespace=None))
app.synth()
"""


def timed(script: Path, services: int, instrumented: bool, outdir: str) -> float:
    env = {
        **os.environ,
        "CDK_OUTDIR": outdir,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "PYTHONPATH": f"{REPO / 'constructs'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    argv = [sys.executable, str(script), str(services), "1" if instrumented else "0"]
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "app.py")
        script.write_text(APP)
        print("synth cost of instrumented services through InstrumentApp")
        print(f"{'services':>8}  {'bare s':>7}  {'instrumented s':>14}  {'s/service (instr.)':>18}"
              f"  {'added s/service':>15}")
        for services in SIZES:
            bare = timed(script, services, False, f"{tmp}/bare{services}")
            ours = timed(script, services, True, f"{tmp}/ours{services}")
            print(f"{services:>8}  {bare:>7.2f}  {ours:>14.2f}  {ours / services:>18.3f}"
                  f"  {(ours - bare) / services:>15.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
