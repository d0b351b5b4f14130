"""Each collector image knows its components, and synth refuses a configuration naming another."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_ecs as ecs
from otel_fargate import (
    COLLECTOR_VERSION,
    CollectorImage,
    CollectorSidecar,
    ConfigError,
    DebugExporter,
    OtelFargateError,
)
from otel_fargate.config import CollectorConfigOptions, render
from otel_fargate.config.model.components import (
    CONTRIB_DATA_FILE,
    KINDS,
    MODULE_TYPES,
    SLIM_MANIFEST,
    ComponentSet,
    build_context_dir,
    contrib_components,
    contrib_release,
    manifest_components,
    slim_components,
)

from tests.library.golden_cases import CASES

SLIM = CollectorImage.slim()
BUNDLED = CollectorImage.bundled()
SLIM_NAME = rf"the bundled slim image \(collector {COLLECTOR_VERSION}\)"
TRANSFORM = {"trace_statements": ['set(span.attributes["shop"], "checkout")']}


def options(image: CollectorImage, **kwargs: Any) -> CollectorConfigOptions:
    """Sidecar options checked against ``image``, as the constructs build them."""
    settings: dict[str, Any] = {"preset": "sidecar", "exporters": (DebugExporter(),), **kwargs}
    return CollectorConfigOptions(
        components=image.components, image_description=f"the {image.description}", **settings
    )


def sidecar(stack: cdk.Stack, **kwargs: Any) -> CollectorSidecar:
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    app = task.add_container(
        "app",
        container_name="checkout",
        image=ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/busybox:1.36"),
        memory_limit_mib=512,
    )
    settings: dict[str, Any] = {"exporters": [DebugExporter()], **kwargs}
    return CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], **settings)


def new_stack(name: str) -> cdk.Stack:
    return cdk.Stack(cdk.App(), name, env=cdk.Environment(account="123456789012", region="eu-west-1"))


# -- what each image has -------------------------------------------------------------------------


def test_module_types_cover_every_module_of_the_slim_manifest() -> None:
    # GIVEN the slim manifest shipped in the build context
    manifest = yaml.safe_load((build_context_dir() / SLIM_MANIFEST).read_text())
    listed = {
        (kind, entry["gomod"].split()[0]) for kind in KINDS for entry in manifest.get(kind) or []
    }
    # THEN MODULE_TYPES maps every module to its kind, and maps nothing else
    assert {(kind, module) for module, (kind, _type) in MODULE_TYPES.items()} == listed
    # AND the slim image has exactly those types
    assert {(kind, t) for kind in KINDS for t in slim_components().of_kind(kind)} == set(
        MODULE_TYPES.values()
    )


def test_a_manifest_module_without_a_type_is_an_error(tmp_path: Path) -> None:
    # GIVEN a manifest with a module MODULE_TYPES does not know
    manifest = tmp_path / "builder-config.yaml"
    manifest.write_text(
        "receivers:\n"
        "  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver v0.158.0\n"
        "processors:\n"
        "  - gomod: github.com/example/collector/processor/madeupprocessor v1.0.0\n"
    )
    # WHEN its components are read THEN the module is named
    with pytest.raises(
        OtelFargateError,
        match=r"processors: github.com/example/collector/processor/madeupprocessor: MODULE_TYPES .* has no entry",
    ):
        manifest_components(manifest)


def test_a_manifest_module_under_another_kind_is_an_error(tmp_path: Path) -> None:
    # GIVEN a manifest listing a receiver module under exporters
    manifest = tmp_path / "builder-config.yaml"
    manifest.write_text(
        "exporters:\n  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver v0.158.0\n"
    )
    # WHEN / THEN it is refused
    with pytest.raises(OtelFargateError, match=r"exporters: .*otlpreceiver: MODULE_TYPES .* maps it to receivers"):
        manifest_components(manifest)


def test_the_contrib_component_list_is_of_the_pinned_release() -> None:
    # GIVEN the recorded contrib distribution WHEN its release is read THEN it is the pin
    document = yaml.safe_load(CONTRIB_DATA_FILE.read_text())
    assert contrib_release() == f"v{COLLECTOR_VERSION}"
    assert document["manifest"] == {
        "repo": "open-telemetry/opentelemetry-collector-releases",
        "path": "distributions/otelcol-contrib/manifest.yaml",
        "version": f"v{COLLECTOR_VERSION}",
    }


def test_the_contrib_image_has_every_component_of_the_slim_image() -> None:
    # GIVEN the two bundled images THEN the contrib one has everything the slim one has
    for kind in KINDS:
        assert slim_components().of_kind(kind) <= contrib_components().of_kind(kind), kind


def test_old_ids_of_renamed_types_count_as_the_renamed_type() -> None:
    # GIVEN the slim image WHEN asked for the deprecated ids THEN they are accepted
    slim = slim_components()
    assert slim.has("exporters", "otlp") and slim.has("exporters", "otlphttp")
    assert slim.has("exporters", "loadbalancing") and slim.has("processors", "resourcedetection")
    # AND an old id of a type the image lacks is not
    assert not slim.has("receivers", "hostmetrics")
    # AND the contrib release accepts the deprecated ids it still knows
    assert contrib_components().has("receivers", "hostmetrics")
    assert contrib_components().has("receivers", "host_metrics")
    assert contrib_components().has("processors", "k8sattributes")


def test_images_report_their_components() -> None:
    # GIVEN each kind of image WHEN asked for its components THEN each knows its own
    assert SLIM.components == slim_components()
    assert BUNDLED.components == contrib_components()
    assert CollectorImage.from_registry("otel/collector:1").components is None
    declared = CollectorImage.from_registry("otel/collector:1", components={"receivers": ["otlp"]})
    assert declared.components == ComponentSet({"receivers": ["otlp"]})


# -- synth refuses what the image lacks ------------------------------------------------------------


def test_the_slim_image_refuses_a_processor_its_manifest_does_not_build() -> None:
    # GIVEN a sidecar on the slim image with a transform processor
    # WHEN it is synthesized THEN the processor is refused, with slim's processors listed
    with pytest.raises(
        ConfigError,
        match=(
            rf"^rendered config: processors.transform: {SLIM_NAME} has no processor of type "
            r"'transform'; it has: attributes, batch, filter, memory_limiter, metrics_transform, "
            r"resource, resource_detection, tail_sampling$"
        ),
    ):
        sidecar(new_stack("SlimTransform"), image=SLIM, processors={"transform": TRANSFORM})


@pytest.mark.parametrize("processor", ["k8s_attributes", "probabilistic_sampler", "groupbytrace"])
def test_the_slim_image_refuses_contrib_processors_it_lacks(processor: str) -> None:
    with pytest.raises(ConfigError, match=rf"processors.{processor}: {SLIM_NAME} has no processor of type '{processor}'"):
        render(options(SLIM, processors={processor: {}}))


def test_the_slim_image_builds_tail_sampling() -> None:
    # GIVEN the slim image, whose manifest has the tail_sampling processor
    policy = {"decision_wait": "10s", "policies": [{"name": "all", "type": "always_sample"}]}
    # WHEN a sidecar renders with it THEN it is accepted
    rendered = render(options(SLIM, processors={"tail_sampling": policy}))
    assert "tail_sampling" in rendered.config["service"]["pipelines"]["traces"]["processors"]


def test_the_bundled_contrib_image_accepts_transform() -> None:
    # GIVEN the default (contrib) image WHEN a sidecar uses the transform processor
    rendered = render(options(BUNDLED, processors={"transform": TRANSFORM}))
    # THEN it is accepted
    assert "transform" in rendered.config["processors"]


def test_a_misspelled_type_is_refused_with_a_suggestion() -> None:
    # GIVEN a processor whose type is misspelled WHEN rendered for either bundled image
    for image in (SLIM, BUNDLED):
        # THEN the type is refused and the nearest type suggested
        with pytest.raises(ConfigError, match=r"processors.fliter/x: .* has no processor of type 'fliter' \(did you mean 'filter'\?\); it has: "):
            render(options(image, processors={"fliter/x": {}}))


def test_an_override_adding_an_unknown_exporter_type_is_refused_at_the_overrides_layer() -> None:
    # GIVEN overrides adding an exporter of a type the slim image lacks to the traces pipeline
    overrides = {
        "exporters": {"zipkin/tempo": {"endpoint": "http://tempo:9411/api/v2/spans"}},
        "service": {"pipelines": {"traces": {"exporters": ["debug", "zipkin/tempo"]}}},
    }
    # WHEN rendered THEN the overrides layer is refused, listing slim's exporters
    with pytest.raises(
        ConfigError,
        match=(
            rf"^overrides: exporters.zipkin/tempo: {SLIM_NAME} has no exporter of type 'zipkin'; "
            r"it has: awscloudwatchlogs, awsemf, awsxray, debug, load_balancing, otlp_grpc, "
            r"otlp_http, prometheus_remote_write$"
        ),
    ):
        render(options(SLIM, overrides=overrides))
    # AND the contrib image, which has zipkin, accepts the same overrides
    assert "zipkin/tempo" in render(options(BUNDLED, overrides=overrides)).config["exporters"]


def test_a_replacement_may_use_the_old_otlp_exporter_id_on_the_slim_image() -> None:
    # GIVEN the agent configuration with its exporter renamed to the deprecated otlp type
    agent = render(CollectorConfigOptions(preset="agent")).yaml
    replacement = agent.replace("otlp_grpc/gateway", "otlp/gateway")
    assert "otlp/gateway" in replacement
    # WHEN it replaces the configuration of a collector on the slim image
    rendered = render(options(SLIM, preset="agent", exporters=(), replacement=replacement))
    # THEN it is accepted
    assert "otlp/gateway" in rendered.config["exporters"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_golden_configuration_runs_on_both_bundled_images(case: str) -> None:
    # GIVEN a representative option set WHEN rendered for each bundled image THEN it is accepted
    for image in (SLIM, BUNDLED):
        render(dataclasses.replace(CASES[case], components=image.components))


# -- registry images -----------------------------------------------------------------------------

MINIMAL = {
    "receivers": ["otlp"],
    "processors": ["batch", "memory_limiter"],
    "exporters": ["debug"],
    "extensions": ["health_check"],
}


def test_a_registry_image_is_checked_against_the_components_it_declares() -> None:
    # GIVEN a registry image declaring a collector without resource_detection
    image = CollectorImage.from_registry("example/otelcol:1", probe_path="/healthcheck", components=MINIMAL)
    # WHEN a sidecar, whose preset renders resource_detection, uses it
    # THEN the processor is refused, naming the image and what it has
    with pytest.raises(
        ConfigError,
        match=(
            r"^rendered config: processors.resource_detection: the registry image example/otelcol:1 "
            r"has no processor of type 'resource_detection'; it has: batch, memory_limiter$"
        ),
    ):
        sidecar(new_stack("RegistryDeclared"), image=image, self_telemetry_namespace=None)


def test_a_registry_image_declaring_what_the_config_uses_is_accepted() -> None:
    # GIVEN a registry image declaring every component the sidecar renders
    declared = {**MINIMAL, "processors": ["batch", "memory_limiter", "resource_detection"]}
    image = CollectorImage.from_registry("example/otelcol:1", probe_path="/healthcheck", components=declared)
    # WHEN the sidecar is synthesized THEN it is accepted
    built = sidecar(new_stack("RegistryEnough"), image=image, self_telemetry_namespace=None)
    assert built.rendered_config.config["processors"].keys() == {"memory_limiter", "resource_detection", "batch"}


def test_a_registry_image_without_declared_components_is_not_checked() -> None:
    # GIVEN a registry image that declares nothing
    image = CollectorImage.from_registry("example/otelcol:1", probe_path="/healthcheck")
    # WHEN a sidecar uses a processor no known image has THEN nothing refuses it
    built = sidecar(new_stack("RegistryUnknown"), image=image, processors={"madeup": {}})
    assert "madeup" in built.rendered_config.config["processors"]


@pytest.mark.parametrize(
    ("components", "message"),
    [
        ({"recievers": ["otlp"]}, r"^image.components: 'recievers' is not a component kind \(expected one of receivers, processors, exporters, extensions, connectors\)"),
        ({"receivers": "otlp"}, r"^image.components.receivers: must be a list of component types, got 'otlp'"),
        ({"receivers": ["OTLP"]}, r"^image.components.receivers: 'OTLP' is not a component type"),
        (["otlp"], r"^image.components: must be a mapping of component kind to types, got \['otlp'\]"),
    ],
)
def test_malformed_declared_components_are_refused(components: Any, message: str) -> None:
    with pytest.raises(OtelFargateError, match=message):
        CollectorImage.from_registry("example/otelcol:1", components=components)


def test_config_options_take_a_component_set_only() -> None:
    with pytest.raises(ConfigError, match=r"^components: must be a ComponentSet or None, got \{'receivers': \['otlp'\]\}"):
        CollectorConfigOptions(preset="agent", components={"receivers": ["otlp"]})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^image_description: must be a non-empty string, got ''"):
        CollectorConfigOptions(preset="agent", image_description="")


# -- the built collector agrees ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_collector() -> Path:
    """The collector tools/collector.py builds for the tests (cached by manifest hash)."""
    from tools.collector import build_collector

    return build_collector()


def _listed_components(binary: Path) -> dict[str, tuple[str, str]]:
    result = subprocess.run(
        [str(binary), "components"], capture_output=True, text=True, timeout=60, check=True
    )
    listed = yaml.safe_load(result.stdout)
    return {
        entry["module"].split()[0]: (kind, entry["name"])
        for kind in KINDS
        for entry in listed.get(kind) or []
    }


@pytest.mark.e2e
def test_module_types_agree_with_the_built_collector(built_collector: Path) -> None:
    from tools.collector import LOCAL_EXCLUDE

    # GIVEN the components the built test collector lists
    listed = _listed_components(built_collector)
    # THEN it has every module of MODULE_TYPES but those the test build leaves out
    assert set(listed) == set(MODULE_TYPES) - set(LOCAL_EXCLUDE)
    # AND each has the kind and type MODULE_TYPES gives it
    assert {module: MODULE_TYPES[module] for module in listed} == listed

