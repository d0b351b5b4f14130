"""``python -m tools.cli cost``: the CloudWatch series, alarm metrics and dashboards of each
collector of an environment, and their monthly price."""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from otel_fargate import CloudWatchEmfExporter, CollectorSidecar, RenderedConfig
from otel_fargate.config.receivers.container_metrics import ContainerMetrics

from stacks.settings import EnvironmentSettings, parse_environments
from tests.conftest import REPO_ROOT, Synthesized
from tools.cli import EXIT_OK, EXIT_USAGE, main
from tools.cost import (
    CollectorCost,
    collector_costs,
    format_table,
    prices,
    published_series,
    totals,
)
from tools.render import build_app

CDK_JSON = REPO_ROOT / "cdk.json"


@dataclass(frozen=True)
class _Built:
    costs: dict[str, CollectorCost]
    configs: dict[str, Mapping[str, Any]]
    templates: list[Mapping[str, Any]]


def _context() -> dict[str, Any]:
    document = json.loads(CDK_JSON.read_text(encoding="utf-8"))
    return dict(document["context"]["environments"])


def _of_stacks(app: cdk.App, stack_names: set[str]) -> _Built:
    """The figures, configurations and templates of the collectors in ``stack_names``."""

    def ours(path: str) -> bool:
        return path.split("/", 1)[0] in stack_names

    costs = {c.collector: c for c in collector_costs(app) if ours(c.collector)}
    configs = {
        n.node.path: n.rendered_config.config  # type: ignore[attr-defined]
        for n in app.node.find_all()
        if isinstance(getattr(n, "rendered_config", None), RenderedConfig) and ours(n.node.path)
    }
    templates = [s.template for s in app.synth().stacks if s.stack_name in stack_names]
    return _Built(costs, configs, templates)


def _build(settings: EnvironmentSettings) -> _Built:
    """An environment built on its own, as the ``cost`` verb builds it."""
    app = build_app(settings)
    return _of_stacks(app, {c.node.id for c in app.node.children if isinstance(c, cdk.Stack)})


def _environment(synthesized: Synthesized, name: str) -> _Built:
    """One environment of cdk.json, from the session's synthesized app."""
    settings = parse_environments(_context())[name]
    parts = ("network", "gateway", "demo")
    stacks = {settings.stack_name(part) for part in parts} & set(synthesized.stacks)
    return _of_stacks(synthesized.app, stacks)


@pytest.fixture(scope="module")
def dev(synthesized: Synthesized) -> _Built:
    return _environment(synthesized, "dev")


@pytest.fixture(scope="module")
def prod(synthesized: Synthesized) -> _Built:
    return _environment(synthesized, "prod")


def _wired(config: Mapping[str, Any], kind: str, signal: str | None = None) -> set[str]:
    pipelines = config["service"]["pipelines"]
    return {
        component
        for name, pipeline in pipelines.items()
        if signal is None or name.split("/")[0] == signal
        for component in pipeline.get(kind, [])
    }


def _expected_self_series(config: Mapping[str, Any], containers: int) -> int:
    """The collector's own series, counted from the YAML the way the README states them."""
    declared = {
        selector.strip("^$").replace("\\.", ".")
        for declaration in config["exporters"]["awsemf/self"]["metric_declarations"]
        for selector in declaration["metric_name_selectors"]
    }
    series = 0
    for signal in ("traces", "metrics", "logs"):
        series += 3 * len(_wired(config, "exporters", signal))  # sent, send failed, enqueue failed
        series += 3 * len(_wired(config, "receivers", signal))  # accepted, refused, failed
    series += 2 * len(_wired(config, "exporters"))  # queue size and capacity
    series += 5  # the process
    if any(e.startswith("loadbalancing") for e in config["exporters"]):
        series += 1 + 2  # backends, and the outcome by success true/false
    if any(p.startswith("tail_sampling") for p in config["processors"]):
        series += 4 + 2  # four gauges and counters, and the decisions by sampled true/false
    series += sum(1 for name in declared if name.startswith("ecs.task."))
    series += containers * sum(1 for name in declared if name.startswith("container."))
    return series


def _alarm_metrics(templates: list[Mapping[str, Any]]) -> int:
    count = 0
    for template in templates:
        for resource in template.get("Resources", {}).values():
            if resource["Type"] == "AWS::CloudWatch::Alarm":
                props = resource["Properties"]
                metrics = props.get("Metrics", [])
                count += 1 if "MetricName" in props else sum("MetricStat" in m for m in metrics)
    return count


def _count(templates: list[Mapping[str, Any]], resource_type: str) -> int:
    return sum(
        1
        for template in templates
        for resource in template.get("Resources", {}).values()
        if resource["Type"] == resource_type
    )


def test_dev_figures_match_the_rendered_configs_and_templates(dev: _Built) -> None:
    # GIVEN dev built from cdk.json WHEN costed THEN each collector's series are what its YAML
    # declares (the demo task runs demo-app, demo-web and the collector; the agent's copy step
    # exits; the agent also owns the crash-line metric filter)
    containers = {
        "otel-fargate-dev-gateway/Gateway": 1,
        "otel-fargate-dev-demo/Otel": 3,
        "otel-fargate-dev-demo/Scraper": 1,
    }
    filters = {
        "otel-fargate-dev-gateway/Gateway": 0,
        "otel-fargate-dev-demo/Otel": 1,
        "otel-fargate-dev-demo/Scraper": 0,
    }
    assert set(dev.costs) == set(containers)
    for path, cost in dev.costs.items():
        expected = _expected_self_series(dev.configs[path], containers[path]) + filters[path]
        assert cost.total_series == expected, path
        assert cost.series_per_task == 0  # no dimension tells tasks apart
    # AND alarm metrics and dashboards are those of the synthesized templates
    assert totals(list(dev.costs.values()))["alarm_metrics"] == _alarm_metrics(dev.templates)
    assert totals(list(dev.costs.values()))["dashboards"] == _count(
        dev.templates, "AWS::CloudWatch::Dashboard"
    )


def test_prod_figures_match_the_rendered_configs_and_templates(prod: _Built) -> None:
    # GIVEN prod: a routing gateway and its samplers, no demo
    assert set(prod.costs) == {
        "otel-fargate-prod-gateway/Gateway",
        "otel-fargate-prod-gateway/Gateway/Samplers",
    }
    for path, cost in prod.costs.items():
        assert cost.total_series == _expected_self_series(prod.configs[path], 1), path
    assert totals(list(prod.costs.values()))["alarm_metrics"] == _alarm_metrics(prod.templates)
    assert totals(list(prod.costs.values()))["dashboards"] == 2


def _pinned(built: _Built) -> dict[str, tuple[str, int, int, int, float]]:
    return {
        path: (c.role, c.total_series, c.alarm_metrics, c.dashboards, c.monthly_usd)
        for path, c in built.costs.items()
    }


def test_dev_and_prod_figures_are_pinned(dev: _Built, prod: _Built) -> None:
    # GIVEN the environments of cdk.json WHEN costed THEN the figures the README quotes
    assert _pinned(dev) == {
        "otel-fargate-dev-gateway/Gateway": ("gateway", 43, 29, 1, 18.80),
        "otel-fargate-dev-demo/Otel": ("agent", 47, 13, 1, 18.40),
        "otel-fargate-dev-demo/Scraper": ("agent", 45, 22, 1, 18.70),
    }
    assert totals(list(dev.costs.values())) == {
        "total_series": 135,
        "alarm_metrics": 64,
        "dashboards": 3,
        "monthly_usd": 55.90,
    }
    assert _pinned(prod) == {
        "otel-fargate-prod-gateway/Gateway": ("gateway", 37, 25, 1, 16.60),
        "otel-fargate-prod-gateway/Gateway/Samplers": ("sampler", 27, 12, 1, 12.30),
    }
    assert totals(list(prod.costs.values()))["monthly_usd"] == 28.90
    # AND the price is the list price of the counts: 135 x 0.30 + 64 x 0.10 + 3 x 3.00
    assert prices.monthly_usd(metrics=135, alarm_metrics=64, dashboards=3) == 55.90


def test_more_tasks_cost_the_same_and_show_in_the_table(dev: _Built) -> None:
    # GIVEN dev with the gateway allowed up to 10 tasks and 4 desired
    context = copy.deepcopy(_context())
    context["dev"]["gateway"].update(desired_count=4, max_capacity=10)
    scaled = _build(parse_environments(context)["dev"])
    gateway = scaled.costs["otel-fargate-dev-gateway/Gateway"]
    before = dev.costs["otel-fargate-dev-gateway/Gateway"]
    # THEN the tasks change, the series and the price do not (no per-task dimension)
    assert (gateway.desired_tasks, gateway.max_tasks) == (4, 10)
    assert (before.desired_tasks, before.max_tasks) == (2, 3)
    assert gateway.total_series == before.total_series
    assert gateway.monthly_usd == before.monthly_usd


def test_another_exporter_adds_its_series_and_alarm(dev: _Built) -> None:
    # GIVEN dev's gateway also sending logs to CloudWatch Logs
    context = copy.deepcopy(_context())
    context["dev"]["gateway"]["exporters"]["cwlogs"] = {
        "log_group_name": "/otel-fargate/dev/logs",
        "log_stream_name": "gateway",
        "retention_days": 14,
    }
    more = _build(parse_environments(context)["dev"])
    gateway = more.costs["otel-fargate-dev-gateway/Gateway"]
    before = dev.costs["otel-fargate-dev-gateway/Gateway"]
    # THEN 3 log-record series and 2 queue series of the new exporter are added
    assert gateway.total_series == before.total_series + 5
    assert gateway.alarm_metrics > before.alarm_metrics
    assert gateway.monthly_usd > before.monthly_usd


def _sidecar_app(selection: ContainerMetrics) -> list[CollectorCost]:
    app = cdk.App()
    stack = cdk.Stack(app, "Shop", env=cdk.Environment(region="eu-west-1"))
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    for name in ("web", "worker"):
        task.add_container(name, image=ecs.ContainerImage.from_registry("example/app"))
    CollectorSidecar(
        stack,
        "Otel",
        task_definition=task,
        exporters=[CloudWatchEmfExporter(namespace="Shop", log_group_name="/shop/metrics")],
        container_metrics=selection,
    )
    return collector_costs(app)


def test_the_container_metric_selection_changes_the_figure() -> None:
    # GIVEN a sidecar in a task of two app containers, with the default selection and with
    # only each container's memory
    default = _sidecar_app(ContainerMetrics())[0]
    memory = _sidecar_app(ContainerMetrics(metrics=["container.memory.utilized"]))[0]
    # THEN the default publishes 4 task series and 2 per container (web, worker, collector);
    # memory alone 1 per container
    assert default.total_series - memory.total_series == (4 + 2 * 3) - 3
    # AND the sidecar's own awsemf exporter is named as not estimated (no declarations)
    assert any(n.startswith("awsemf (namespace Shop)") for n in default.not_estimated)


def _config(declarations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "receivers": {"otlp/self": {}},
        "exporters": {"awsemf/self": {"namespace": "N", "metric_declarations": declarations}},
        "service": {
            "pipelines": {
                "metrics/self": {"receivers": ["otlp/self"], "exporters": ["awsemf/self"]}
            }
        },
    }


def test_a_per_task_dimension_multiplies_by_tasks_and_an_unknown_one_is_not_estimated() -> None:
    # GIVEN uptime declared by task id, and RSS by a dimension nothing fills in
    series = published_series(
        _config(
            [
                {
                    "dimensions": [["service", "aws.ecs.task.id"]],
                    "metric_name_selectors": ["^otelcol_process_uptime$"],
                },
                {
                    "dimensions": [["zone"]],
                    "metric_name_selectors": ["^otelcol_process_memory_rss$"],
                },
            ]
        ),
        containers_per_task=1,
    )
    # THEN uptime is one series per task, RSS is reported as not estimated
    assert (series.per_task, series.shared, series.total(tasks=7)) == (1, 0, 7)
    assert series.not_estimated == ("awsemf/self: otelcol_process_memory_rss by zone",)


def test_cost_prints_the_table_and_refuses_an_unknown_environment() -> None:
    # WHEN cost runs for prod
    out, err = io.StringIO(), io.StringIO()
    assert main(["cost", "--env", "prod"], stdout=out, stderr=err) == EXIT_OK, err.getvalue()
    lines = out.getvalue().splitlines()
    # THEN one row per collector and the total line with the pinned figures
    assert re.fullmatch(r"total\s+64\s+37\s+2\s+28\.90", lines[4])
    assert "otel-fargate-prod-gateway/Gateway/Samplers  sampler" in out.getvalue()
    assert "not estimated" in out.getvalue() and prices.SOURCE in out.getvalue()
    # AND an unknown environment is a usage error naming the setting and the value
    err = io.StringIO()
    assert main(["cost", "--env", "qa"], stdout=io.StringIO(), stderr=err) == EXIT_USAGE
    assert err.getvalue() == "error: --env: unknown environment 'qa' (known: dev, prod)\n"


def test_json_has_the_same_figures(prod: _Built) -> None:
    out = io.StringIO()
    assert main(["cost", "--env", "prod", "--json"], stdout=out, stderr=io.StringIO()) == EXIT_OK
    document = json.loads(out.getvalue())
    assert document["total"] == totals(list(prod.costs.values()))
    assert [c["collector"] for c in document["collectors"]] == sorted(prod.costs)
    assert document["prices_usd"]["metric_month"] == prices.METRIC_MONTH_USD


def test_the_readme_quotes_what_cost_prints(dev: _Built, prod: _Built) -> None:
    # GIVEN the README's cost note WHEN compared with the report THEN its tables are the
    # report's, line for line
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name, built in (("dev", dev), ("prod", prod)):
        table = format_table(
            sorted(built.costs.values(), key=lambda c: c.collector), environment=name
        )
        head = "\n".join(table.splitlines()[:5])
        assert head in readme, name
