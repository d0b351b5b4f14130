"""The Prometheus scraper's template: one task that never overlaps, discovery IAM scoped to the
cluster action by action, the targets file on a task volume, and marked containers' labels.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Match, Template
from otel_fargate import (
    CollectorGateway,
    EcsScrapeReceiver,
    OtelFargateError,
    OtlpExporter,
    PrometheusScraper,
    XRayExporter,
    scrape_target,
)
from otel_fargate.config import CollectorConfigOptions, ConfigError, render
from otel_fargate.names import SCRAPE_DIRECTORY, SCRAPE_TARGETS_FILE

from tests.library.test_constructs import app_task, new_cluster, new_stack

BACKEND = OtlpExporter(endpoint="metrics.example.com:4317")


@pytest.fixture(scope="module")
def scraped() -> tuple[cdk.Stack, PrometheusScraper, Template]:
    stack = new_stack("ScraperStack")
    cluster = new_cluster(stack, namespace=False)
    scraper = PrometheusScraper(stack, "Scraper", cluster=cluster, exporters=[BACKEND],
                                environment_name="dev", scrape_interval_seconds=15)
    _, app = app_task(stack)
    scrape_target(app, port=9464, path="/prom", job="checkout")
    return stack, scraper, Template.from_stack(stack)


def _statements(template: Template, policy_prefix: str) -> dict[str, dict[str, Any]]:
    found = {
        key: value for key, value in template.find_resources("AWS::IAM::Policy").items()
        if key.startswith(policy_prefix)
    }
    (policy,) = found.values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def _cluster_arn() -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                              ":ecs:eu-west-1:123456789012:cluster/", {"Ref": Match.any_value()}]]}


def test_one_task_that_is_stopped_before_its_replacement_starts(scraped: Any) -> None:
    # GIVEN the scraper's service
    _, _, template = scraped
    # THEN it runs one task, never two at once, and never rebalances by starting one first
    template.has_resource_properties("AWS::ECS::Service", {
        "DesiredCount": 1,
        "DeploymentConfiguration": Match.object_like({"MaximumPercent": 100,
                                                      "MinimumHealthyPercent": 0}),
        "AvailabilityZoneRebalancing": "DISABLED",
    })
    # AND it does not scale (a second task would scrape every target again)
    assert template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget") == {}


def test_discovery_iam_action_by_action_scoped_to_the_cluster(scraped: Any) -> None:
    # GIVEN the scraper's task-role policy
    _, _, template = scraped
    statements = _statements(template, "ScraperExportPolicy")
    # THEN listing is allowed only in the scraped cluster (the ecs:cluster condition)
    listing = statements["EcsDiscoveryList"]
    assert sorted(listing["Action"]) == ["ecs:ListServices", "ecs:ListTasks"]
    assert listing["Resource"] == "*"
    assert Match.object_like({"ArnEquals": {"ecs:cluster": [_cluster_arn()]}}).test(listing["Condition"]).is_success
    # AND describing tasks only in the scraped cluster (tasks of this account and region, under
    # the same condition)
    tasks = statements["EcsDiscoveryTasks"]
    assert tasks["Action"] == "ecs:DescribeTasks"
    assert tasks["Resource"]["Fn::Join"][1][2] == ":ecs:eu-west-1:123456789012:task/*"
    assert tasks["Condition"] == listing["Condition"]
    # AND task definitions on * (DescribeTaskDefinition has no resource-level permissions)
    assert statements["EcsDiscoveryDefinitions"]["Action"] == "ecs:DescribeTaskDefinition"
    assert statements["EcsDiscoveryDefinitions"]["Resource"] == "*"
    # AND nothing else of ECS or EC2: no services described (no service filter), no container
    # instance or EC2 reads (Fargate tasks only), no write
    actions = {a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {a for a in actions if a.startswith(("ecs:", "ec2:"))} == {
        "ecs:ListTasks", "ecs:ListServices", "ecs:DescribeTasks", "ecs:DescribeTaskDefinition"}


def test_the_targets_file_is_on_a_task_volume_and_the_cluster_reaches_the_config(scraped: Any) -> None:
    # GIVEN the scraper's collector container
    _, _, template = scraped
    (definition,) = [d for k, d in template.find_resources("AWS::ECS::TaskDefinition").items()
                     if k.startswith("ScraperTaskDefinition")]
    (container,) = definition["Properties"]["ContainerDefinitions"]
    # THEN the read-only root file system keeps a writable directory for the file-SD file
    assert container["ReadonlyRootFilesystem"] is True
    assert {"ContainerPath": SCRAPE_DIRECTORY, "SourceVolume": "otel-scrape-targets",
            "ReadOnly": False} in container["MountPoints"]
    # AND the observer gets the cluster's name and region from CloudFormation
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    parts = env["OTEL_FARGATE_CONFIG"]["Fn::Join"][1]
    assert {"Ref": Match.any_value()} != parts[1] and "Ref" in parts[1]
    assert parts[0].endswith("cluster_name: ") and parts[2].startswith("\n    cluster_region: eu-west-1\n")
    config = yaml.safe_load("".join(p if isinstance(p, str) else "shop" for p in parts))
    observer = config["extensions"]["ecs_observer/ecs"]
    assert observer["cluster_name"] == "shop"
    assert observer["result_file"] == SCRAPE_TARGETS_FILE
    job = config["receivers"]["prometheus/ecs"]["config"]["scrape_configs"][0]
    assert job["file_sd_configs"][0]["files"] == [SCRAPE_TARGETS_FILE]
    assert job["scrape_interval"] == "15s"
    assert "prometheus/ecs" in config["service"]["pipelines"]["metrics"]["receivers"]
    assert "ecs_observer/ecs" in config["service"]["extensions"]


def test_a_marked_container_carries_the_labels_the_observer_reads(scraped: Any) -> None:
    _, _, template = scraped
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "ContainerDefinitions": Match.array_with([Match.object_like({
            "Name": "checkout",
            # ecs_observer reads an awsvpc task's port from its port mappings
            "PortMappings": [{"ContainerPort": 9464, "Protocol": "tcp"}],
            "DockerLabels": {"ECS_PROMETHEUS_EXPORTER_PORT": "9464",
                             "ECS_PROMETHEUS_METRICS_PATH": "/prom",
                             "ECS_PROMETHEUS_JOB_NAME": "checkout"},
        })]),
    })


def test_with_a_gateway_it_forwards_as_an_agent_through_service_connect() -> None:
    # GIVEN a scraper sending to a gateway
    stack = new_stack("ScraperGateway")
    cluster = new_cluster(stack)
    gateway = CollectorGateway(stack, "Gateway", cluster=cluster, environment_name="dev",
                               exporters=[XRayExporter(), BACKEND])
    scraper = PrometheusScraper(stack, "Scraper", cluster=cluster, gateway=gateway)
    # THEN its collector is an agent of the gateway, with the gateway's token, and its service
    # resolves the gateway through Service Connect
    assert scraper.rendered_config.preset == "agent"
    assert "otlp_grpc/gateway" in scraper.rendered_config.config["service"]["pipelines"]["metrics"]["exporters"]
    template = Template.from_stack(stack)
    services = [s for k, s in template.find_resources("AWS::ECS::Service").items() if k.startswith("Scraper")]
    assert services[0]["Properties"]["ServiceConnectConfiguration"]["Enabled"] is True
    secrets = [c for d in template.find_resources("AWS::ECS::TaskDefinition").values()
               for c in d["Properties"]["ContainerDefinitions"] if "ecs_observer" in str(c)]
    assert "OTEL_GATEWAY_TOKEN" in {s["Name"] for s in secrets[0]["Secrets"]}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, r"exporters: a scraper without a gateway needs at least one exporter"),
        ({"exporters": [BACKEND], "cpu": 300}, r"cpu: Fargate task CPU must be one of .*got 300"),
        ({"exporters": [BACKEND], "scrape_interval_seconds": 2},
         r"receivers.prometheus/ecs.scrape_interval_seconds: must be a whole number from 5 to 3600, got 2"),
        ({"exporters": [BACKEND], "scrape_timeout_seconds": 40},
         r"scrape_timeout_seconds: must be a whole number from 1 to 30, got 40"),
        ({"exporters": [BACKEND], "refresh_interval_seconds": 1},
         r"refresh_interval_seconds: must be a whole number from 10 to 3600, got 1"),
        ({"exporters": [BACKEND], "cpu_architecture": "arm"}, r"cpu_architecture: must be .*got 'arm'"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs: dict[str, Any], match: str) -> None:
    stack = new_stack("Bad")
    cluster = new_cluster(stack, namespace=False)
    with pytest.raises((OtelFargateError, ConfigError), match=match):
        PrometheusScraper(stack, "Scraper", cluster=cluster, **kwargs)


def test_a_gateway_and_exporters_together_are_refused() -> None:
    stack = new_stack("Both")
    cluster = new_cluster(stack)
    gateway = CollectorGateway(stack, "Gateway", cluster=cluster, exporters=[XRayExporter()])
    with pytest.raises(OtelFargateError, match=r"exporters: a scraper with a gateway sends to the gateway.*otlp_grpc"):
        PrometheusScraper(stack, "Scraper", cluster=cluster, gateway=gateway, exporters=[BACKEND])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"port": 0}, r"port: must be a whole number from 1 to 65535, got 0"),
        ({"port": True}, r"port: must be a whole number from 1 to 65535, got True"),
        ({"port": 9464, "path": "metrics"}, r"path: must be an absolute URL path such as /metrics, got 'metrics'"),
        ({"port": 9464, "path": "/a b"}, r"path: must be an absolute URL path .*got '/a b'"),
        ({"port": 9464, "job": "-x"}, r"job: must match .*got '-x'"),
    ],
)
def test_bad_targets_are_refused_by_name(kwargs: dict[str, Any], match: str) -> None:
    stack = new_stack("BadTarget")
    _, app = app_task(stack)
    with pytest.raises(OtelFargateError, match=match):
        scrape_target(app, **kwargs)


def test_marking_a_container_twice_with_other_values_is_refused() -> None:
    stack = new_stack("Twice")
    _, app = app_task(stack)
    assert scrape_target(app, port=9464) == {"ECS_PROMETHEUS_EXPORTER_PORT": "9464",
                                             "ECS_PROMETHEUS_METRICS_PATH": "/metrics"}
    scrape_target(app, port=9464)  # the same again changes nothing
    with pytest.raises(OtelFargateError, match=r"docker label ECS_PROMETHEUS_EXPORTER_PORT: is already '9464'"):
        scrape_target(app, port=9100)


def test_an_observer_naming_a_cluster_by_name_or_arn_is_scoped_and_a_variable_is_not() -> None:
    # GIVEN the receiver with a literal cluster, and with one the collector reads at run time
    def needs(cluster: str) -> Any:
        return render(CollectorConfigOptions(
            preset="sidecar", exporters=(BACKEND,),
            receivers=(EcsScrapeReceiver(cluster_name=cluster, cluster_region="eu-west-2"),),
            environment={"ELSEWHERE": "x"} if "ELSEWHERE" in cluster else {},
        )).iam.ecs_discovery
    # THEN the literal one is kept with its region, and the unresolved one is "*" (unscoped)
    (literal,) = needs("shop")
    assert (literal.cluster, literal.region, literal.services) == ("shop", "eu-west-2", False)
    (unknown,) = needs("${env:FROM_SECRET}")
    assert unknown.cluster == "*"


def test_the_receiver_refuses_bad_values_by_name() -> None:
    with pytest.raises(ConfigError, match=r"receivers.prometheus/ecs.result_file: must be an absolute path, got 'x.yaml'"):
        EcsScrapeReceiver(cluster_name="c", result_file="x.yaml")
    with pytest.raises(ConfigError, match=r"receivers.prometheus/ecs.cluster_name: must be a non-empty string, got ''"):
        EcsScrapeReceiver(cluster_name="")


def test_the_scraper_is_refused_beside_a_gateway_preset() -> None:
    with pytest.raises(ConfigError, match=r"receivers: the gateway preset receives OTLP from other tasks only"):
        render(CollectorConfigOptions(preset="gateway", exporters=(BACKEND,),
                                      receivers=(EcsScrapeReceiver(cluster_name="c"),)))


def test_ecs_is_the_cluster_type_the_scraper_needs() -> None:
    stack = new_stack("NotCluster")
    with pytest.raises(OtelFargateError, match=r"cluster: must be an ecs.ICluster"):
        PrometheusScraper(stack, "Scraper", cluster="shop", exporters=[BACKEND])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "job"),
    [
        ("/", None),
        ("/metrics", "shop"),
        ("/actuator/prometheus", "shop-web"),
        ("/q/metrics", "shop.web:v2"),
        ("/metrics%2Fv1", "Shop_Web-2"),
        ("/stats;format=prometheus", "9shop"),
        ("/~user/metrics", "a"),
    ],
)
def test_targets_written_the_ways_apps_serve_them_are_marked(path: str, job: str | None) -> None:
    # counter-examples to the refusals above: paths and jobs as real exporters name them
    stack = new_stack("GoodTarget")
    _, app = app_task(stack)
    labels = scrape_target(app, port=9464, path=path, job=job)
    assert labels["ECS_PROMETHEUS_METRICS_PATH"] == path
    assert labels.get("ECS_PROMETHEUS_JOB_NAME") == job
