"""Zero-code instrumentation in the template: init containers, volumes, mounts, dependencies
and variables merged with what the containers set, on x86_64 and ARM64."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager
from otel_fargate import CollectorSidecar, DebugExporter, OtelFargateError, XRayExporter
from otel_fargate.apps.instrumentation import DOTNET_AGENT_IMAGE, AutoInstrumentation
from otel_fargate.versions import (
    DOTNET_AGENT_VERSION,
    JAVA_AGENT_VERSION,
    NODEJS_AGENT_VERSION,
    PYTHON_AGENT_VERSION,
)

from tests.conftest import REPO_ROOT


@dataclass
class Built:
    template: dict[str, Any]
    assets: dict[str, Any]

    def containers(self, stack: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for resource in self.template[stack]["Resources"].values():
            if resource["Type"] == "AWS::ECS::TaskDefinition":
                for c in resource["Properties"]["ContainerDefinitions"]:
                    found[c["Name"]] = c
        return found

    def volumes(self, stack: str) -> list[dict[str, Any]]:
        (task,) = [
            r for r in self.template[stack]["Resources"].values()
            if r["Type"] == "AWS::ECS::TaskDefinition"
        ]
        return list(task["Properties"].get("Volumes", []))


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in container.get("Environment", [])}


def _task(stack: cdk.Stack, *, arm64: bool = False) -> ecs.FargateTaskDefinition:
    return ecs.FargateTaskDefinition(
        stack,
        "Task",
        cpu=2048,
        memory_limit_mib=4096,
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=ecs.CpuArchitecture.ARM64 if arm64 else ecs.CpuArchitecture.X86_64,
            operating_system_family=ecs.OperatingSystemFamily.LINUX,
        ),
    )


def _app(task: ecs.FargateTaskDefinition, name: str, **env: str) -> ecs.ContainerDefinition:
    return task.add_container(
        name,
        container_name=name,
        image=ecs.ContainerImage.from_registry(f"example/{name}"),
        memory_limit_mib=256,
        environment=env or None,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """GIVEN an x86_64 task with one container per runtime (Java with its own
    JAVA_TOOL_OPTIONS, a second Java container, Node with a token-valued NODE_OPTIONS) and an
    ARM64 task with a musl .NET container; one synth."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir))
    x86 = cdk.Stack(app, "X86")
    task = _task(x86)
    token = cdk.CfnParameter(x86, "NodeOptions", default="--max-old-space-size=256")
    java = _app(task, "orders", JAVA_TOOL_OPTIONS="-Xmx256m")
    java2 = _app(task, "billing")
    node = _app(task, "web", NODE_OPTIONS=token.value_as_string)
    python = _app(task, "worker", OTEL_TRACES_SAMPLER="always_off")
    dotnet = _app(task, "cart")
    sidecar = CollectorSidecar(
        x86,
        "Otel",
        task_definition=task,
        exporters=[DebugExporter()],
        instrument={
            java: AutoInstrumentation.java(service_version="1.2.3"),
            java2: AutoInstrumentation.java(),
            node: AutoInstrumentation.nodejs(sampler="parentbased_traceidratio", sampler_arg="0.25"),
            python: AutoInstrumentation.python(sampler="parentbased_traceidratio"),
            dotnet: AutoInstrumentation.dotnet(),
        },
    )
    # applying an instrumentation again changes nothing
    sidecar.instrument_container(java, AutoInstrumentation.java(service_version="1.2.3"))
    sidecar.instrument_container(node, AutoInstrumentation.nodejs())
    arm = cdk.Stack(app, "Arm")
    arm_task = _task(arm, arm64=True)
    CollectorSidecar(
        arm,
        "Otel",
        task_definition=arm_task,
        exporters=[XRayExporter()],
        instrument={
            _app(arm_task, "cart"): AutoInstrumentation.dotnet(libc="musl"),
            _app(arm_task, "api"): AutoInstrumentation.java(),
        },
    )
    assembly = app.synth()
    templates = {s.stack_name: s.template for s in assembly.stacks}
    assets = {
        s.stack_name: json.loads(Path(outdir, f"{s.stack_name}.assets.json").read_text())
        for s in assembly.stacks
    }
    return Built(templates, assets)


def test_one_init_container_per_runtime_copies_the_agent_and_exits(built: Built) -> None:
    containers = built.containers("X86")
    for runtime, command in {
        "java": ["cp", "/javaagent.jar", "/otel-auto-instrumentation-java/javaagent.jar"],
        "nodejs": ["cp", "-r", "/autoinstrumentation/.", "/otel-auto-instrumentation-nodejs"],
        "python": ["cp", "-r", "/autoinstrumentation/.", "/otel-auto-instrumentation-python"],
        "dotnet": ["cp", "-r", "/autoinstrumentation/.", "/otel-auto-instrumentation-dotnet"],
    }.items():
        init = containers[f"otel-agent-{runtime}"]
        assert init["Command"] == command
        assert init["Essential"] is False
        assert init["Memory"] == 64
        assert init["ReadonlyRootFilesystem"] is True
        assert init["MountPoints"] == [
            {
                "ContainerPath": f"/otel-auto-instrumentation-{runtime}",
                "ReadOnly": False,
                "SourceVolume": f"otel-auto-instrumentation-{runtime}",
            }
        ]
        # its output (why a copy failed) goes to the collector's log group
        logging = init["LogConfiguration"]
        assert logging["LogDriver"] == "awslogs"
        assert logging["Options"]["awslogs-stream-prefix"] == f"otel-agent-{runtime}"
        assert (
            logging["Options"]["awslogs-group"]
            == containers["otel-collector"]["LogConfiguration"]["Options"]["awslogs-group"]
        )
    # THEN two Java containers share one init container and one volume per runtime
    assert sorted(v["Name"] for v in built.volumes("X86")) == [
        f"otel-auto-instrumentation-{r}" for r in ("dotnet", "java", "nodejs", "python")
    ]
    assert containers["otel-agent-dotnet"]["Image"] == DOTNET_AGENT_IMAGE
    assert DOTNET_AGENT_IMAGE.endswith(f":{DOTNET_AGENT_VERSION}")


def test_each_app_mounts_its_agent_read_only_and_waits_for_the_copy(built: Built) -> None:
    containers = built.containers("X86")
    for name, runtime in {
        "orders": "java", "billing": "java", "web": "nodejs", "worker": "python", "cart": "dotnet"
    }.items():
        app = containers[name]
        assert app["MountPoints"] == [
            {
                "ContainerPath": f"/otel-auto-instrumentation-{runtime}",
                "ReadOnly": True,
                "SourceVolume": f"otel-auto-instrumentation-{runtime}",
            }
        ], name
        assert {"Condition": "SUCCESS", "ContainerName": f"otel-agent-{runtime}"} in app[
            "DependsOn"
        ], name
        assert {"Condition": "HEALTHY", "ContainerName": "otel-collector"} in app["DependsOn"]


def test_the_runtime_variables_are_merged_with_what_the_app_sets(built: Built) -> None:
    containers = built.containers("X86")
    orders, billing = _env(containers["orders"]), _env(containers["billing"])
    # THEN Java: appended to the app's own options, once, and alone where it had none
    agent = "-javaagent:/otel-auto-instrumentation-java/javaagent.jar"
    assert orders["JAVA_TOOL_OPTIONS"] == f"-Xmx256m {agent}"
    assert billing["JAVA_TOOL_OPTIONS"] == agent
    # AND Node: a token-valued NODE_OPTIONS is joined at deploy time, the agent after it
    assert _env(containers["web"])["NODE_OPTIONS"] == {
        "Fn::Join": [
            "",
            [{"Ref": "NodeOptions"}, " --require /otel-auto-instrumentation-nodejs/autoinstrumentation.js"],
        ]
    }
    # AND Python: the agent's paths first on PYTHONPATH
    assert _env(containers["worker"])["PYTHONPATH"] == (
        "/otel-auto-instrumentation-python/opentelemetry/instrumentation/auto_instrumentation"
        ":/otel-auto-instrumentation-python"
    )
    # AND .NET (x86_64, glibc): the profiler, the startup hook, the store
    cart = _env(containers["cart"])
    assert cart["CORECLR_ENABLE_PROFILING"] == "1"
    assert cart["CORECLR_PROFILER"] == "{918728DD-259F-4A6A-AC2B-B85E1B658318}"
    assert cart["CORECLR_PROFILER_PATH"] == (
        "/otel-auto-instrumentation-dotnet/linux-x64/OpenTelemetry.AutoInstrumentation.Native.so"
    )
    assert cart["DOTNET_STARTUP_HOOKS"] == (
        "/otel-auto-instrumentation-dotnet/net/OpenTelemetry.AutoInstrumentation.StartupHook.dll"
    )
    assert cart["DOTNET_ADDITIONAL_DEPS"] == "/otel-auto-instrumentation-dotnet/AdditionalDeps"
    assert cart["DOTNET_SHARED_STORE"] == "/otel-auto-instrumentation-dotnet/store"
    assert cart["OTEL_DOTNET_AUTO_HOME"] == "/otel-auto-instrumentation-dotnet"


def test_the_standard_variables_come_from_the_sidecar_and_the_apps_values_win(
    built: Built,
) -> None:
    containers = built.containers("X86")
    orders, web, worker = (_env(containers[n]) for n in ("orders", "web", "worker"))
    assert orders["OTEL_SERVICE_NAME"] == "orders"
    assert orders["OTEL_RESOURCE_ATTRIBUTES"] == (
        "service.name=orders,deployment.environment.name=X86,service.version=1.2.3"
    )
    assert web["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert web["OTEL_TRACES_SAMPLER_ARG"] == "0.25"
    # the worker sets its own sampler, which wins
    assert worker["OTEL_TRACES_SAMPLER"] == "always_off"
    assert "OTEL_TRACES_SAMPLER_ARG" not in worker


def test_arm64_gets_arm_agents_and_the_musl_profiler(built: Built) -> None:
    cart = _env(built.containers("Arm")["cart"])
    assert cart["CORECLR_PROFILER_PATH"] == (
        "/otel-auto-instrumentation-dotnet/linux-musl-arm64/"
        "OpenTelemetry.AutoInstrumentation.Native.so"
    )
    images = built.assets["Arm"]["dockerImages"].values()
    agents = [i["source"] for i in images if i["source"].get("dockerFile") == "docker/instrumentation.Dockerfile"]
    assert [(a["dockerBuildTarget"], a["platform"]) for a in agents] == [("java", "linux/arm64")]
    x86 = [
        (i["source"]["dockerBuildTarget"], i["source"]["platform"])
        for i in built.assets["X86"]["dockerImages"].values()
        if i["source"].get("dockerFile") == "docker/instrumentation.Dockerfile"
    ]
    assert sorted(x86) == [("java", "linux/amd64"), ("nodejs", "linux/amd64"), ("python", "linux/amd64")]


def test_the_pinned_agent_versions_agree_with_the_agent_build_files() -> None:
    dockerfile = (REPO_ROOT / "docker" / "instrumentation.Dockerfile").read_text()
    assert f"ARG JAVA_AGENT_VERSION={JAVA_AGENT_VERSION}\n" in dockerfile
    package = json.loads((REPO_ROOT / "docker/instrumentation/nodejs/package.json").read_text())
    assert package["dependencies"]["@opentelemetry/auto-instrumentations-node"] == NODEJS_AGENT_VERSION
    lock = json.loads((REPO_ROOT / "docker/instrumentation/nodejs/package-lock.json").read_text())
    assert lock["packages"]["node_modules/@opentelemetry/auto-instrumentations-node"]["version"] == NODEJS_AGENT_VERSION
    requirements = (REPO_ROOT / "docker/instrumentation/python/requirements.txt").read_text()
    assert f"opentelemetry-distro=={PYTHON_AGENT_VERSION}\n" in requirements
    pins = [line for line in requirements.splitlines() if line.startswith("opentelemetry-instrumentation-")]
    assert pins and all(line.endswith(f"=={PYTHON_AGENT_VERSION}") for line in pins)


# --------------------------------------------------------------------------- refusals


def _sidecar(stack: cdk.Stack, task: ecs.FargateTaskDefinition, instrument: Any, **kw: Any) -> None:
    CollectorSidecar(stack, "Otel", task_definition=task, exporters=[DebugExporter()], instrument=instrument, **kw)


def test_a_secret_valued_variable_cannot_be_extended() -> None:
    stack = cdk.Stack(cdk.App(), "Secret")
    task = _task(stack)
    app = task.add_container(
        "app",
        container_name="app",
        image=ecs.ContainerImage.from_registry("example/app"),
        memory_limit_mib=256,
        secrets={
            "JAVA_TOOL_OPTIONS": ecs.Secret.from_secrets_manager(
                secretsmanager.Secret(stack, "Opts")
            )
        },
    )
    with pytest.raises(OtelFargateError, match=r"instrument\.app\.JAVA_TOOL_OPTIONS: comes from a secret"):
        _sidecar(stack, task, {app: AutoInstrumentation.java()})


def test_another_coreclr_profiler_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Profiler")
    task = _task(stack)
    app = _app(task, "cart", CORECLR_PROFILER="{00000000-0000-0000-0000-000000000000}")
    with pytest.raises(
        OtelFargateError,
        match=r"instrument\.cart\.CORECLR_PROFILER: the \.NET agent sets it to .*one CoreCLR profiler per process.*got '\{00000000",
    ):
        _sidecar(stack, task, {app: AutoInstrumentation.dotnet()})


def test_python_needs_the_http_protocol() -> None:
    stack = cdk.Stack(cdk.App(), "Grpc")
    task = _task(stack)
    app = _app(task, "worker")
    with pytest.raises(OtelFargateError, match=r"instrument\.worker: the Python agent exports OTLP over HTTP only.*got 'grpc'"):
        _sidecar(stack, task, {app: AutoInstrumentation.python()}, app_protocol="grpc")


def test_one_runtime_per_container() -> None:
    stack = cdk.Stack(cdk.App(), "Twice")
    task = _task(stack)
    app = _app(task, "svc")
    with pytest.raises(OtelFargateError, match=r"instrument\.svc: is instrumented for java already.*got 'nodejs'"):
        CollectorSidecar(
            stack, "Otel", task_definition=task, exporters=[DebugExporter()],
            instrument={app: AutoInstrumentation.java()},
        ).instrument_container(app, AutoInstrumentation.nodejs())


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: AutoInstrumentation(runtime="go"), r"instrument\.runtime: must be one of java, nodejs, python, dotnet, got 'go'"),  # type: ignore[arg-type]
        (lambda: AutoInstrumentation.java(libc="musl"), r"instrument\.libc: applies to \.NET only .*got 'musl'"),
        (lambda: AutoInstrumentation.dotnet(libc="uclibc"), r"instrument\.libc: must be 'glibc' or 'musl', got 'uclibc'"),
        (lambda: AutoInstrumentation.java(sampler_arg="0.5"), r"instrument\.sampler_arg: needs a sampler, got '0\.5'"),
        (lambda: AutoInstrumentation.java(memory_mib=2), r"instrument\.memory_mib"),
    ],
)
def test_bad_options_are_named(build: Any, message: str) -> None:
    with pytest.raises(OtelFargateError, match=message):
        build()


def test_not_an_instrumentation_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "NotOne")
    task = _task(stack)
    app = _app(task, "svc")
    with pytest.raises(OtelFargateError, match=r"instrument\.svc: must be an AutoInstrumentation .*got 'java'"):
        _sidecar(stack, task, {app: "java"})


def test_the_init_container_counts_in_the_task_budget() -> None:
    # GIVEN a task whose app and collector fill it, and an agent's init container beside them
    stack = cdk.Stack(cdk.App(), "Full")
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    app = task.add_container(
        "app", container_name="app", image=ecs.ContainerImage.from_registry("example/app"),
        memory_limit_mib=512,
    )
    _sidecar(stack, task, {app: AutoInstrumentation.java()}, memory_mib=480)
    # WHEN synthesized THEN the task is too small, counting the init container's 64 MiB
    with pytest.raises(RuntimeError, match=r"memory_mib: the containers of task Full/Task reserve 1056 MiB"):
        cdk.App.of(stack).synth()  # type: ignore[union-attr]


def test_a_container_that_already_names_the_agents_profiler_is_accepted() -> None:
    # GIVEN a .NET container that sets the agent's own profiler id already (a valid app
    # written another way) WHEN instrumented THEN it synthesizes with the agent's value
    stack = cdk.Stack(cdk.App(), "SameProfiler")
    task = _task(stack)
    app = _app(task, "cart", CORECLR_PROFILER="{918728DD-259F-4A6A-AC2B-B85E1B658318}")
    _sidecar(stack, task, {app: AutoInstrumentation.dotnet()})
    cdk.App.of(stack).synth()  # type: ignore[union-attr]
    env = {e.name: e.value for e in app.render_container_definition().environment}
    assert env["CORECLR_PROFILER"] == "{918728DD-259F-4A6A-AC2B-B85E1B658318}"
    assert env["CORECLR_ENABLE_PROFILING"] == "1"
