"""Every key rendered for the AWS exporters, the awsxray receiver, sigv4auth and awsproxy exists
upstream.

No test collector here contains these components, so the keys their ``Config`` structs accept at
the pinned release are recorded in ``otel_fargate/config/model/upstream_keys.json`` and checked here
against the golden configs and the typed exporters' and receivers' output. ``awsxray`` is an
exporter and a receiver with different keys, so components are known by (section, type).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from otel_fargate.config import (
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    RetryOnFailure,
    SendingQueue,
    XRayDaemonReceiver,
    XRayExporter,
)
from otel_fargate.config.model import known_keys
from otel_fargate.config.model.known_keys import (
    KNOWN_COMPONENTS,
    SECTIONS,
    UPSTREAM_RELEASE,
    unknown_keys,
    upstream_source,
)
from otel_fargate.versions import COLLECTOR_VERSION

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_FILE = Path(known_keys.__file__).with_name("upstream_keys.json")
#: The keys must describe the collector release the image runs: moving the pin fails the test
#: below until the keys are read again at the new release.
PINNED_RELEASE = f"v{COLLECTOR_VERSION}"

# repository/path@vX.Y.Z or repository/path@<40 hex digits>
_SOURCE_PATTERN = re.compile(
    r"^open-telemetry/opentelemetry-collector(-contrib)?/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$"
)


def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


# --- the data file -----------------------------------------------------------------------


def test_release_is_the_pinned_one() -> None:
    # GIVEN the data file WHEN its release is read
    # THEN it is the collector release otel_fargate.versions pins
    assert _data()["release"] == PINNED_RELEASE
    assert UPSTREAM_RELEASE == PINNED_RELEASE


def test_known_components_are_those_of_the_data_file() -> None:
    # GIVEN the data file WHEN the module loads it THEN every component is known by its
    # section and type, and awsxray is known as an exporter and as a receiver
    data = _data()
    assert set(data) == {"release", *SECTIONS}
    assert {(s, t) for s in SECTIONS for t in data.get(s, {})} == KNOWN_COMPONENTS
    assert {
        ("exporters", "awsxray"),
        ("exporters", "awsemf"),
        ("exporters", "awscloudwatchlogs"),
        ("extensions", "sigv4auth"),
        ("extensions", "awsproxy"),
        ("receivers", "awsxray"),
    } <= KNOWN_COMPONENTS


def test_one_type_in_two_sections_keeps_two_sets_of_keys() -> None:
    # GIVEN awsxray as exporter and as receiver WHEN one's key is checked against the other
    # THEN each section answers for its own component
    assert unknown_keys("receivers", "awsxray", {"proxy_server": {"endpoint": "x"}}) == []
    assert unknown_keys("exporters", "awsxray", {"proxy_server": {}}) == ["proxy_server"]
    assert unknown_keys("receivers", "awsxray", {"indexed_attributes": []}) == [
        "indexed_attributes"
    ]


@pytest.mark.parametrize(("section", "component_type"), sorted(KNOWN_COMPONENTS))
def test_every_component_names_its_upstream_source(section: str, component_type: str) -> None:
    # GIVEN a component of the data file
    component = _data()[section][component_type]
    kind = section.removesuffix("s")

    # WHEN its sources are read
    sources = upstream_source(section, component_type)

    # THEN they are listed, each as repository/path@release-or-commit, and include the
    # component's own directory
    assert sources, f"{component_type}: no upstream source recorded"
    assert sources == tuple(component["source"])
    for source in sources:
        assert _SOURCE_PATTERN.fullmatch(source), f"{component_type}: malformed source {source!r}"
    own_directory = f"opentelemetry-collector-contrib/{kind}/{component_type}{kind}/"
    if (section, component_type) == ("extensions", "awsproxy"):
        own_directory = "opentelemetry-collector-contrib/extension/awsproxy/"
    assert any(own_directory in source for source in sources), (
        f"{component_type}: no source under {own_directory}"
    )


def test_unknown_type_has_no_source() -> None:
    # GIVEN a type absent from the data WHEN its source is asked THEN it is empty
    assert upstream_source("exporters", "otlphttp") == ()
    assert upstream_source("receivers", "awsemf") == ()


# --- unknown_keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component_type", "settings", "expected"),
    [
        pytest.param("awsxray", {"regoin": "eu-west-1"}, ["regoin"], id="top-level"),
        pytest.param(
            "receivers:awsxray",
            {"endpoint": "127.0.0.1:2000", "proxy_server": {"endpiont": "127.0.0.1:2000"}},
            ["proxy_server.endpiont"],
            id="xray-receiver-proxy",
        ),
        pytest.param(
            "receivers:awsxray",
            {"endpoint": "127.0.0.1:2000", "tcp_endpoint": "127.0.0.1:2000"},
            ["tcp_endpoint"],
            id="xray-receiver-key-of-an-old-release",
        ),
        pytest.param(
            "extensions:awsproxy",
            {"endpoint": "127.0.0.1:2000", "tls": {"insecure": False, "ca_fil": "/ca"}},
            ["tls.ca_fil"],
            id="awsproxy-tls",
        ),
        pytest.param(
            "awscloudwatchlogs",
            {"sending_queue": {"enabled": True, "sizr": "bytes"}},
            ["sending_queue.sizr"],
            id="nested",
        ),
        pytest.param(
            "awscloudwatchlogs",
            {"sending_queue": {"batch": {"partition": {"metadata_key": ["a"]}}}},
            ["sending_queue.batch.partition.metadata_key"],
            id="deeply-nested",
        ),
        pytest.param(
            "awsemf",
            {"metric_declarations": [{"dimensions": [["a"]]}, {"dimensions_x": [["a"]]}]},
            ["metric_declarations[1].dimensions_x"],
            id="list-item",
        ),
        pytest.param(
            "awsemf",
            {"metric_declarations": [{"label_matchers": [{"label_names": ["a"], "regx": "."}]}]},
            ["metric_declarations[0].label_matchers[0].regx"],
            id="list-item-inside-list-item",
        ),
        pytest.param(
            "awsxray", {"telemetry": {"enabeld": True}}, ["telemetry.enabeld"], id="xray-telemetry"
        ),
        pytest.param(
            "sigv4auth",
            {"region": "eu-west-1", "assume_role": {"rn": "arn:aws:iam::1:role/r"}},
            ["assume_role.rn"],
            id="extension",
        ),
        pytest.param(
            "awsemf",
            {"resource_to_telemetry_conversion": {"enabled": True, "included": ["*"]}},
            ["resource_to_telemetry_conversion.included"],
            id="resource-to-telemetry-patterns-later-than-the-pin",
        ),
        pytest.param(
            "awsemf",
            {"timeout": "5s", "sending_queue": {}, "retry_on_failure": {}},
            ["timeout", "sending_queue", "retry_on_failure"],
            id="exporterhelper-keys-awsemf-lacks",
        ),
    ],
)
def test_unknown_keys_finds_misspelled_keys(
    component_type: str, settings: dict[str, Any], expected: list[str]
) -> None:
    # GIVEN a section with unknown keys WHEN it is checked THEN each one is named by its path
    section, kind = _where(component_type)
    assert unknown_keys(section, kind, settings) == expected


def _where(key: str) -> tuple[str, str]:
    """``section:type``, or a bare type: an exporter, sigv4auth an extension."""
    if ":" in key:
        section, kind = key.split(":", 1)
        return section, kind
    return ("extensions" if key == "sigv4auth" else "exporters"), key


_VALID_SAMPLES: dict[str, dict[str, Any]] = {
    "awsxray": {
        "region": "eu-west-1",
        "endpoint": "https://xray.eu-west-1.amazonaws.com",
        "num_workers": 8,
        "request_timeout_seconds": 30,
        "max_retries": 2,
        "no_verify_ssl": False,
        "proxy_address": "",
        "local_mode": False,
        "resource_arn": "arn:aws:ecs:eu-west-1:1:task/t",
        "role_arn": "arn:aws:iam::1:role/r",
        "external_id": "x",
        "indexed_attributes": ["a", "b"],
        "index_all_attributes": True,
        "aws_log_groups": ["/g"],
        "telemetry": {"enabled": True, "include_metadata": True, "contributors": ["awsxray"]},
    },
    "awsemf": {
        "namespace": "N",
        "log_group_name": "/g",
        "log_stream_name": "{TaskId}",
        "log_retention": 30,
        "tags": {"any user key": "value"},
        "dimension_rollup_option": "NoDimensionRollup",
        "resource_to_telemetry_conversion": {"enabled": True, "exclude_service_attributes": True},
        "metric_declarations": [
            {
                "dimensions": [["service"], []],
                "metric_name_selectors": ["^a$"],
                "label_matchers": [{"label_names": ["a"], "separator": ";", "regex": "."}],
            }
        ],
        "metric_descriptors": [{"metric_name": "m", "unit": "Bytes", "overwrite": True}],
        "output_destination": "cloudwatch",
        "version": "1",
        "region": "eu-west-1",
        "max_retries": 2,
    },
    "awscloudwatchlogs": {
        "log_group_name": "/g",
        "log_stream_name": "s",
        "log_retention": 14,
        "raw_log": True,
        "tags": {"k": "v"},
        "region": "eu-west-1",
        "endpoint": "https://logs.eu-west-1.amazonaws.com",
        "sending_queue": {
            "enabled": True,
            "num_consumers": 4,
            "sizer": "bytes",
            "queue_size": 1048576,
            "batch": {"enabled": True, "flush_timeout": "1s", "partition": {"metadata_keys": []}},
        },
        "retry_on_failure": {"enabled": True, "initial_interval": "1s", "max_elapsed_time": "60s"},
    },
    "sigv4auth": {
        "region": "eu-west-1",
        "service": "xray",
        "assume_role": {
            "arn": "arn:aws:iam::1:role/r",
            "session_name": "s",
            "sts_region": "eu-west-1",
        },
    },
    "receivers:awsxray": {
        "endpoint": "127.0.0.1:2000",
        "transport": "udp",
        "dialer": {"timeout": "1s"},
        "proxy_server": {
            "endpoint": "127.0.0.1:2000",
            "proxy_address": "",
            "tls": {"insecure": False, "server_name_override": "", "ca_file": "/ca.pem"},
            "region": "eu-west-1",
            "role_arn": "",
            "aws_endpoint": "",
            "local_mode": False,
            "service_name": "xray",
        },
    },
    "extensions:awsproxy": {"endpoint": "127.0.0.1:2000", "region": "eu-west-1"},
}


@pytest.mark.parametrize("component_type", sorted(_VALID_SAMPLES))
def test_unknown_keys_accepts_valid_sections(component_type: str) -> None:
    # GIVEN a section using only accepted keys (user-chosen tag names included)
    # WHEN it is checked THEN nothing is reported
    section, kind = _where(component_type)
    assert unknown_keys(section, kind, _VALID_SAMPLES[component_type]) == []


@pytest.mark.parametrize(
    ("component_type", "settings"),
    [
        pytest.param("awsxray", None, id="none"),
        pytest.param("awsxray", {}, id="empty"),
        pytest.param("otlphttp", {"anything": 1}, id="unknown-type"),
    ],
)
def test_unknown_keys_has_nothing_to_report(component_type: str, settings: object) -> None:
    # GIVEN no section, or a type without data WHEN it is checked THEN nothing is reported
    assert unknown_keys("exporters", component_type, settings) == []


# --- what the library renders ----------------------------------------------------------


def _golden_sections() -> list[tuple[str, str, str, object]]:
    """Every known component section of every rendered golden config: (file, kind, id, body)."""
    cases: list[tuple[str, str, str, object]] = []
    for path in sorted(REPO_ROOT.glob("tests/**/golden/*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for section in SECTIONS:
            components: Mapping[str, object] = document.get(section) or {}
            for component_id, body in components.items():
                if (section, component_id.split("/", 1)[0]) in KNOWN_COMPONENTS:
                    name = str(path.relative_to(REPO_ROOT))
                    cases.append((name, section, component_id, body))
    return cases


_GOLDEN_SECTIONS = _golden_sections()


def test_golden_configs_are_found() -> None:
    # GIVEN the repository WHEN the golden configs are collected
    # THEN some hold sections of the known components (else the check below checks nothing)
    assert _GOLDEN_SECTIONS, "no tests/**/golden/*.yaml holds an awsxray/awsemf/... section"


@pytest.mark.parametrize(
    ("file", "section", "component_id", "body"),
    _GOLDEN_SECTIONS,
    ids=[f"{file}:{component_id}" for file, _, component_id, _ in _GOLDEN_SECTIONS],
)
def test_golden_config_keys_exist_upstream(
    file: str, section: str, component_id: str, body: object
) -> None:
    # GIVEN a component section of a rendered golden config
    component_type = component_id.split("/", 1)[0]

    # WHEN its keys are checked against the pinned release
    unknown = unknown_keys(section, component_type, body)

    # THEN the collector accepts every one
    assert unknown == [], (
        f"{file}: {section}.{component_id} has keys {PINNED_RELEASE} does not accept: {unknown}"
    )


def _xray() -> dict[str, object]:
    exporter = XRayExporter(
        name="all",
        region="eu-west-1",
        index_all_attributes=True,
        indexed_attributes=("a",),
        request_timeout_seconds=5,
        max_retries=3,
    )
    return {exporter.component_id: exporter.render()}


def _emf() -> dict[str, object]:
    exporter = CloudWatchEmfExporter(
        name="all",
        namespace="N",
        log_group_name="/g",
        log_stream_name="s",
        retention_days=30,
        dimension_rollup_option="SingleDimensionRollupOnly",
        resource_to_telemetry_conversion=True,
        region="eu-west-1",
        request_timeout_seconds=5,
        max_retries=3,
    )
    return {exporter.component_id: exporter.render()}


def _cloudwatch_logs() -> dict[str, object]:
    exporter = CloudWatchLogsExporter(
        name="all",
        log_group_name="/g",
        log_stream_name="s",
        retention_days=30,
        raw_log=True,
        region="eu-west-1",
        queue=SendingQueue(enabled=True, num_consumers=2, queue_size=8 * 1024 * 1024),
        retry=RetryOnFailure(
            enabled=True,
            initial_interval_seconds=2,
            max_interval_seconds=20,
            max_elapsed_seconds=40,
        ),
        request_timeout_seconds=5,
        max_retries=3,
    )
    return {exporter.component_id: exporter.render()}


def _sigv4auth() -> dict[str, object]:
    sections: dict[str, object] = {}
    for signal in ("traces", "metrics", "logs"):
        exporter = AwsOtlpExporter(
            signal=signal,
            region="eu-west-1",
            name=f"all_{signal}",
            log_group_name="/g" if signal == "logs" else None,
            log_stream_name="s" if signal == "logs" else None,
        )
        sections.update(exporter.extensions())
    return sections


def _xray_daemon() -> dict[str, object]:
    receiver = XRayDaemonReceiver(
        name="all", endpoint="127.0.0.1:2000", proxy_endpoint="127.0.0.1:2001", region="eu-west-1"
    )
    return {receiver.component_id: receiver.render()}


_TYPED: dict[str, Callable[[], dict[str, object]]] = {
    "XRayExporter": _xray,
    "XRayDaemonReceiver": _xray_daemon,
    "CloudWatchEmfExporter": _emf,
    "CloudWatchLogsExporter": _cloudwatch_logs,
    "AwsOtlpExporter.extensions": _sigv4auth,
}


_TYPED_SECTIONS = {"XRayDaemonReceiver": "receivers", "AwsOtlpExporter.extensions": "extensions"}


@pytest.mark.parametrize("typed", sorted(_TYPED))
def test_typed_exporter_keys_exist_upstream(typed: str) -> None:
    # GIVEN a typed exporter with every optional field set WHEN it renders its sections
    sections = _TYPED[typed]()

    # THEN each section is of a known type and uses only keys the pinned release accepts
    assert sections
    section = _TYPED_SECTIONS.get(typed, "exporters")
    for component_id, body in sections.items():
        component_type = component_id.split("/", 1)[0]
        assert (section, component_type) in KNOWN_COMPONENTS, f"{typed}: {component_id}"
        unknown = unknown_keys(section, component_type, body)
        assert unknown == [], (
            f"{typed}: {component_id} renders keys {PINNED_RELEASE} does not accept: {unknown}"
        )
