"""Every public attribute of every construct is documented in its ``Attributes:`` section.

One app builds each construct once (a gateway with a sampling tier, its samplers and
monitoring, an agent, an embedded collector); an attribute a construct sets that its docstring
does not name, or a name the docstring lists that the construct never sets, fails here.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from otel_fargate import (
    CollectorGateway,
    CollectorSidecar,
    EmbeddedCollector,
    OtlpExporter,
    PrometheusScraper,
    SamplingTier,
    XRayExporter,
)

from tests.readme import cell, identifiers, table


def documented_attributes(owner: type) -> set[str]:
    """The names an ``Attributes:`` section lists (``a, b: text`` names two)."""
    doc = inspect.getdoc(owner) or ""
    section = re.search(r"^Attributes:\n((?:    .*\n?|\n)*)", doc, re.MULTILINE)
    assert section is not None, f"{owner.__name__} has no Attributes section"
    entries = re.split(r"\n(?=    \S)", section[1].rstrip())
    names: set[str] = set()
    for entry in entries:
        head = " ".join(entry.split()).split(": ", 1)[0]
        names.update(name.strip() for name in head.split(","))
    return names


def public_attributes(construct: Any) -> set[str]:
    return {name for name in vars(construct) if not name.startswith("_")}


@pytest.fixture(scope="module")
def constructs() -> dict[str, Any]:
    stack = cdk.Stack(
        cdk.App(), "Attributes", env=cdk.Environment(account="123456789012", region="eu-west-1")
    )
    cluster = ecs.Cluster(
        stack,
        "Cluster",
        vpc=ec2.Vpc(stack, "Vpc", max_azs=2),
        default_cloud_map_namespace=ecs.CloudMapNamespaceOptions(
            name="attributes.internal",
            type=servicediscovery.NamespaceType.HTTP,
            use_for_service_connect=True,
        ),
    )
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, exporters=[XRayExporter()], sampling=SamplingTier()
    )
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    app = task.add_container(
        "app", image=ecs.ContainerImage.from_registry("my/app"), memory_limit_mib=384
    )
    agent = CollectorSidecar(
        stack, "Agent", task_definition=task, app_containers=[app], gateway=gateway
    )
    single = ecs.FargateTaskDefinition(stack, "Single", cpu=512, memory_limit_mib=1024)
    embedded = EmbeddedCollector(
        stack,
        "Embedded",
        task_definition=single,
        app_image=ecs.ContainerImage.from_registry("my/app"),
        command=["app"],
        exporters=OtlpExporter(endpoint="otlp.example.com:443"),
    )
    scraper = PrometheusScraper(
        stack, "Scraper", cluster=cluster, exporters=OtlpExporter(endpoint="otlp.example.com:443")
    )
    return {
        "PrometheusScraper": scraper,
        "CollectorGateway": gateway,
        "CollectorSamplers": gateway.samplers,
        "CollectorMonitoring": gateway.monitoring,
        "CollectorSidecar": agent,
        "EmbeddedCollector": embedded,
    }


@pytest.mark.parametrize(
    "name",
    [
        "CollectorGateway",
        "CollectorSamplers",
        "CollectorMonitoring",
        "CollectorSidecar",
        "EmbeddedCollector",
        "PrometheusScraper",
    ],
)
def test_every_public_attribute_is_documented_and_every_documented_one_exists(
    constructs: dict[str, Any], name: str
) -> None:
    construct = constructs[name]
    assert construct is not None
    documented = documented_attributes(type(construct))
    actual = public_attributes(construct)
    assert actual - documented == set(), f"{name} does not document {sorted(actual - documented)}"
    assert documented - actual == set(), f"{name} documents {sorted(documented - actual)}"


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("CollectorSidecar", "CollectorSidecar("),
        ("CollectorGateway", "CollectorGateway("),
        ("EmbeddedCollector", "EmbeddedCollector("),
        ("PrometheusScraper", "PrometheusScraper("),
    ],
)
def test_the_readmes_attribute_table_lists_every_public_attribute(
    constructs: dict[str, Any], name: str, heading: str
) -> None:
    listed = {
        identifier
        for row in table(columns=("attribute", "what it is"), heading=heading).rows
        for identifier in identifiers(cell(row, "attribute"))
    }
    missing = public_attributes(constructs[name]) - listed
    assert missing == set(), f"README's {heading} attribute table misses {sorted(missing)}"
