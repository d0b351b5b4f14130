"""The FireLens log router's retries and disk buffer, against Fluent Bit's documented keys.

Fluent Bit is not served by the package registries here, so these tests read what the
template and the router's configuration file say and hold every key to the names Fluent Bit
documents (URLs below); the collector side of a restart is proven in tests/e2e.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Token
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template
from otel_fargate import (
    CollectorSidecar,
    DebugExporter,
    OtelFargateError,
    OtlpExporter,
    StdoutLogs,
    names,
)
from otel_fargate.logs.firelens import LOG_ROUTER_DOCKERFILE

from tests.library.test_constructs import containers, new_stack

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = REPO_ROOT / "docker" / "log-router" / "buffer.conf"
DOCKERFILE = REPO_ROOT / LOG_ROUTER_DOCKERFILE
GIB, MIB = 1024**3, 1024**2

#: Keys Fluent Bit documents, by section (lower case: Fluent Bit reads keys case-blind).
#: https://docs.fluentbit.io/manual/administration/buffering-and-storage
#: https://docs.fluentbit.io/manual/administration/scheduling-and-retries
#: https://docs.fluentbit.io/manual/pipeline/inputs/forward
#: https://docs.fluentbit.io/manual/pipeline/outputs/forward
#: https://docs.fluentbit.io/manual/administration/configuring-fluent-bit/classic-mode/configuration-file
DOCUMENTED = {
    "service": {
        "storage.path", "storage.sync", "storage.checksum", "storage.max_chunks_up",
        "storage.backlog.mem_limit", "scheduler.base", "scheduler.cap", "flush", "log_level",
    },
    "input": {"name", "listen", "port", "tag_prefix", "storage.type", "unix_path"},
    "output": {
        "name", "match", "host", "port", "require_ack_response", "retry_limit",
        "storage.total_limit_size",
    },
}  # fmt: skip


def parse_classic(text: str) -> list[tuple[str, dict[str, str]]]:
    """Fluent Bit's classic format: ``[SECTION]`` headers, then indented ``key value`` lines."""
    sections: list[tuple[str, dict[str, str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = re.fullmatch(r"\[([A-Z]+)\]", line)
        if header:
            sections.append((header.group(1).lower(), {}))
            continue
        assert raw.startswith("    ") and sections, f"not a key of a section: {raw!r}"
        key, value = line.split(None, 1)
        sections[-1][1][key.lower()] = value
    return sections


def _stack(name: str, **kwargs: Any) -> tuple[Template, CollectorSidecar]:
    stack = new_stack(name)
    task_kwargs = kwargs.pop("task", {})
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=1024, memory_limit_mib=2048, **task_kwargs)
    app = task.add_container(
        "checkout", image=ecs.ContainerImage.from_registry("my/app"), memory_limit_mib=256
    )
    kwargs.setdefault("exporters", [DebugExporter(signals=("logs",))])
    sidecar = CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], **kwargs)
    return Template.from_stack(stack), sidecar


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {pair["Name"]: pair["Value"] for pair in container.get("Environment", [])}


# --- the configuration file ---------------------------------------------------------------


def test_the_buffer_file_uses_only_documented_keys_and_the_library_names() -> None:
    # GIVEN the configuration file FireLens includes
    sections = parse_classic(CONFIG_FILE.read_text())
    # THEN it has a service, one input and one output, each with documented keys only
    assert [kind for kind, _ in sections] == ["service", "input", "output"]
    for kind, keys in sections:
        assert set(keys) <= DOCUMENTED[kind], set(keys) - DOCUMENTED[kind]
    service, source, sink = (keys for _, keys in sections)
    # AND the input buffers on disk, in the directory the task volume is mounted at
    assert service["storage.path"] == names.LOG_BUFFER_DIRECTORY
    assert source == {
        "name": "forward", "listen": "127.0.0.1", "port": str(names.LOG_BUFFER_PORT),
        "tag_prefix": names.LOG_BUFFER_TAG_PREFIX, "storage.type": "filesystem",
    }  # fmt: skip
    # AND the output takes only what that input tagged, so nothing loops back into it
    assert sink["match"] == names.LOG_BUFFER_TAG_PREFIX + "*"
    # AND it forwards to the collector with acknowledgements, a retry limit and a disk bound,
    # each read from the variable the construct sets
    assert sink["name"] == "forward"
    assert sink["require_ack_response"] == "true"
    assert sink["port"] == "${" + names.LOG_FORWARD_PORT_ENV + "}"
    assert sink["retry_limit"] == "${" + names.LOG_RETRY_LIMIT_ENV + "}"
    assert sink["storage.total_limit_size"] == "${" + names.LOG_BUFFER_BYTES_ENV + "}"


def test_the_router_image_adds_the_file_where_firelens_reads_it() -> None:
    # GIVEN the router's Dockerfile
    text = DOCKERFILE.read_text()
    # THEN its base is the pinned AWS for Fluent Bit release, and it copies the file to the
    # path the FireLens configuration names
    assert f"ARG LOG_ROUTER_IMAGE={names.LOG_ROUTER_IMAGE}\n" in text
    assert "FROM ${LOG_ROUTER_IMAGE}\n" in text
    assert f"COPY docker/log-router/buffer.conf {names.LOG_ROUTER_CONFIG_FILE}\n" in text
    # AND not over the file FireLens generates
    assert names.LOG_ROUTER_CONFIG_FILE != "/fluent-bit/etc/fluent-bit.conf"


# --- the template -------------------------------------------------------------------------


def test_the_router_gets_the_buffer_settings_and_a_task_volume() -> None:
    # GIVEN a sidecar with stdout logs in a task with Fargate's default storage
    template, sidecar = _stack("FirelensBuffer", stdout_logs=True)
    found = containers(template)
    router = found["log-router"]
    # THEN FireLens includes the buffer file from the image
    assert router["FirelensConfiguration"]["Options"]["config-file-type"] == "file"
    assert router["FirelensConfiguration"]["Options"]["config-file-value"] == (
        names.LOG_ROUTER_CONFIG_FILE
    )
    # AND the file's variables are set: the collector's port, the retry limit, a quarter of
    # the default 20 GiB
    assert _env(router) == {
        names.LOG_FORWARD_PORT_ENV: "8006",
        names.LOG_RETRY_LIMIT_ENV: "30",
        names.LOG_BUFFER_BYTES_ENV: str(5 * GIB),
    }
    # AND the buffer lives on a task volume, so a restarted router resumes it
    assert router["MountPoints"] == [
        {"ContainerPath": names.LOG_BUFFER_DIRECTORY, "ReadOnly": False,
         "SourceVolume": "otel-log-buffer"}
    ]  # fmt: skip
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition", {"Volumes": [{"Name": "otel-log-buffer"}]}
    )
    # AND each app output FireLens generates (its options are Fluent Bit output keys) goes to
    # the buffered input, with the same retry limit
    options = found["checkout"]["LogConfiguration"]["Options"]
    assert options == {"Name": "forward", "Host": "127.0.0.1",
                       "Port": str(names.LOG_BUFFER_PORT), "Retry_Limit": "30"}  # fmt: skip
    assert {key.lower() for key in options} <= DOCUMENTED["output"]
    assert sidecar.stdout_logs == StdoutLogs()


def test_buffer_size_and_retry_limit_are_settable() -> None:
    template, _ = _stack(
        "FirelensBufferSet", stdout_logs=StdoutLogs(buffer_mib=2048, retry_limit=None)
    )
    found = containers(template)
    assert _env(found["log-router"])[names.LOG_BUFFER_BYTES_ENV] == str(2048 * MIB)
    assert _env(found["log-router"])[names.LOG_RETRY_LIMIT_ENV] == "no_limits"
    assert found["checkout"]["LogConfiguration"]["Options"]["Retry_Limit"] == "no_limits"


def test_persistent_queues_count_against_the_buffer() -> None:
    # GIVEN a buffer of all three quarters of the default 20 GiB: it fits alone
    template, _ = _stack("FirelensAlone", stdout_logs=StdoutLogs(buffer_mib=15360))
    router = containers(template)["log-router"]
    assert _env(router)[names.LOG_BUFFER_BYTES_ENV] == str(15 * GIB)
    # WHEN persistent queues also take disk THEN the same buffer is refused, naming both
    with pytest.raises(
        OtelFargateError,
        match=r"^stdout_logs\.buffer_mib: the log router's disk buffer \(15360 MiB\) and the "
        r"persistent queues \([1-9]\d* MiB\) must fit three quarters",
    ):
        _stack(
            "FirelensQueued",
            stdout_logs=StdoutLogs(buffer_mib=15360),
            persistent_queues=True,
            exporters=[
                OtlpExporter(name="sink", protocol="http", endpoint="https://otlp.example.com")
            ],
        )


def test_a_buffer_that_does_not_fit_the_storage_is_refused() -> None:
    # GIVEN a 16 GiB buffer in a task with 20 GiB (three quarters is 15 GiB)
    with pytest.raises(
        OtelFargateError,
        match=r"^stdout_logs\.buffer_mib: the log router's disk buffer \(16384 MiB\) and the "
        r"persistent queues \(0 MiB\) must fit three quarters of the task's ephemeral storage "
        r"\(20 GiB, 15360 MiB left for the buffer\).*got '16384 MiB'",
    ):
        _stack("FirelensTooBig", stdout_logs=StdoutLogs(buffer_mib=16384))


def test_the_same_buffer_fits_a_larger_task() -> None:
    # counter-example: the same buffer with 40 GiB of ephemeral storage
    template, _ = _stack(
        "FirelensLarger",
        stdout_logs=StdoutLogs(buffer_mib=16384),
        task={"ephemeral_storage_gib": 40},
    )
    router = containers(template)["log-router"]
    assert _env(router)[names.LOG_BUFFER_BYTES_ENV] == str(16 * GIB)


def test_a_storage_size_known_only_at_deploy_time_is_not_refused() -> None:
    # GIVEN ephemeral storage from a token (a parameter, say) and a buffer larger than the
    # default storage could hold
    stack = new_stack("FirelensToken")
    from aws_cdk import CfnParameter

    size = CfnParameter(stack, "Disk", type="Number", default=100).value_as_number
    assert Token.is_unresolved(size)
    task = ecs.FargateTaskDefinition(
        stack, "Task", cpu=1024, memory_limit_mib=2048, ephemeral_storage_gib=size
    )
    app = task.add_container(
        "checkout", image=ecs.ContainerImage.from_registry("my/app"), memory_limit_mib=256
    )
    # WHEN the sidecar is added THEN nothing is refused: the size is unknown at synth
    sidecar = CollectorSidecar(
        stack,
        "Otel",
        task_definition=task,
        app_containers=[app],
        exporters=[DebugExporter(signals=("logs",))],
        stdout_logs=StdoutLogs(buffer_mib=40960),
        persistent_queues=True,
    )
    assert sidecar.log_router is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"buffer_mib": 0}, r"stdout_logs\.buffer_mib: must be a whole number >= 1, got 0"),
        ({"buffer_mib": 1.5}, r"stdout_logs\.buffer_mib: .*got 1\.5"),
        ({"retry_limit": 0}, r"stdout_logs\.retry_limit: must be a whole number from 1 to 10000"),
        ({"retry_limit": True}, r"stdout_logs\.retry_limit: .*got True"),
    ],
)
def test_stdout_logs_options_are_validated(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(OtelFargateError, match=message):
        StdoutLogs(**kwargs)


def test_without_stdout_logs_the_task_has_no_buffer_volume() -> None:
    template, sidecar = _stack("FirelensNone")
    assert sidecar.stdout_logs is None
    volumes = [
        volume["Name"]
        for resource in template.find_resources("AWS::ECS::TaskDefinition").values()
        for volume in resource["Properties"].get("Volumes", [])
    ]
    assert "otel-log-buffer" not in volumes
