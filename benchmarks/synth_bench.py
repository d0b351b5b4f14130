#!/usr/bin/env python3
"""Time the app's full synth against a bare aws-cdk-lib app of two stacks, in the same run.

Each app is synthesized in a fresh process (as ``cdk synth`` does), alternating, N times;
the script prints the median wall time of each and the ratio. Target: ratio <= 1.3.

    .venv/bin/python benchmarks/synth_bench.py [N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = 1.3

BARE_APP = """
import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2, aws_ecs as ecs, aws_logs as logs
app = cdk.App()
network = cdk.Stack(app, "bare-network")
vpc = ec2.Vpc(network, "Vpc", max_azs=2, nat_gateways=1)
cluster = ecs.Cluster(network, "Cluster", vpc=vpc)
service_stack = cdk.Stack(app, "bare-service")
task = ecs.FargateTaskDefinition(service_stack, "Task", cpu=512, memory_limit_mib=1024)
task.add_container(
    "collector",
    image=ecs.ContainerImage.from_registry("otel/opentelemetry-collector-contrib:latest"),
    logging=ecs.LogDrivers.aws_logs(
        stream_prefix="c",
        log_group=logs.LogGroup(service_stack, "Logs", retention=logs.RetentionDays.ONE_MONTH),
    ),
)
ecs.FargateService(service_stack, "Service", cluster=cluster, task_definition=task, desired_count=2)
app.synth()
"""


def timed(command: list[str], outdir: str) -> float:
    env = {
        **os.environ,
        "CDK_OUTDIR": outdir,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if runs < 1:
        print("error: N must be a positive whole number", file=sys.stderr)
        return 2
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp, "bare_app.py")
        bare.write_text(BARE_APP)
        ours_times: list[float] = []
        bare_times: list[float] = []
        for index in range(runs):
            ours_times.append(timed([python, "app.py"], f"{tmp}/ours{index}"))
            bare_times.append(timed([python, str(bare)], f"{tmp}/bare{index}"))
        stacks = len(list(Path(tmp, "ours0").glob("*.template.json")))
    ours, base = statistics.median(ours_times), statistics.median(bare_times)
    ratio = ours / base
    print(f"otel-fargate app ({stacks} stacks, every environment): {ours:.2f} s median of {runs}")
    print(f"bare aws-cdk-lib app (2 stacks):                   {base:.2f} s median of {runs}")
    print(f"ratio: {ratio:.2f} (target <= {TARGET}: {'PASS' if ratio <= TARGET else 'MISS'})")
    print(
        f"full synth of every environment ({stacks} stacks) vs a bare app: "
        f"{ours:.2f} s vs {base:.2f} s"
    )
    # Both apps run CDK's built-in template validation and start the same runtimes; the
    # per-stack figure shows what each stack costs once that start-up is shared out.
    print(f"per stack: {ours / stacks:.2f} s vs {base / 2:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
