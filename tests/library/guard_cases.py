"""Hostile and legitimate configurations for the security rules, across roles and layers.

Each hostile case is refused with a message naming the setting path, the value and the way out
(the opt-out, ``SecretRef`` or "no opt-out"); each legitimate one must render. The legitimate ones
come from the README, examples/, ADOT's public ECS samples (tests/library/adot/) and the
examples in upstream's component READMEs; tests/e2e/test_validate.py has the real collector
validate every one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from otel_fargate.config import (
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    CollectorConfigOptions,
    DebugExporter,
    OtlpExporter,
    SecretRef,
    XRayDaemonReceiver,
    XRayExporter,
)
from otel_fargate.config.options.tls import GatewayTlsOptions
from otel_fargate.config.sampling.tier import TailSampling, TraceRouting

ADOT = Path(__file__).parent / "adot"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOKEN = "${env:OTEL_GATEWAY_TOKEN}"
API = SecretRef(env_name="API_TOKEN", secret_id="backend/api-token")
BACKEND = OtlpExporter(name="backend", endpoint="https://api.example.com:443", protocol="http")
OPEN = "allow_open_listeners=True"
UNAUTH = "allow_unauthenticated_gateway=True"
SECRET = "SecretRef"


@dataclass(frozen=True)
class Case:
    """One configuration: a role (``preset``) and the options that make its layers."""

    id: str
    preset: str
    options: dict[str, Any] = field(default_factory=dict)
    match: str = ""


def options(case: Case) -> CollectorConfigOptions:
    """The options of ``case``, with a role's usual exporters when it names none."""
    values: dict[str, Any] = {"preset": case.preset}
    if case.preset in ("sidecar", "gateway"):
        values["exporters"] = (DebugExporter(),)
    if case.preset == "sampler":
        values.update(exporters=(XRayExporter(),), sampling=TailSampling(), memory_mib=1024)
    values.update(case.options)
    return CollectorConfigOptions(**values)


def _grpc(endpoint: str) -> dict[str, Any]:
    return {"receivers": {"otlp": {"protocols": {"grpc": {"endpoint": endpoint}}}}}


def _ext(eid: str, settings: dict[str, Any], *, gateway: bool = False) -> dict[str, Any]:
    enabled = ["health_check", *(["bearertokenauth/gateway"] if gateway else []), eid]
    return {"extensions": {eid: settings}, "service": {"extensions": enabled}}


def _exporter(eid: str, settings: dict[str, Any], signal: str = "traces") -> dict[str, Any]:
    pipeline = {"receivers": ["otlp"], "exporters": [eid]}
    if eid.startswith("otlp"):  # retries that fit in the stop timeout
        settings = {**settings, "retry_on_failure": {"max_elapsed_time": "60s"}}
    return {"exporters": {eid: settings}, "service": {"pipelines": {f"{signal}/x": pipeline}}}


def _receiver(rid: str, settings: dict[str, Any], signal: str = "metrics") -> dict[str, Any]:
    pipeline = {"receivers": [rid], "exporters": ["debug"]}
    return {"receivers": {rid: settings}, "service": {"pipelines": {f"{signal}/x": pipeline}}}


def _reader(host: str) -> dict[str, Any]:
    prometheus = {"host": host, "port": 8888}
    readers = [{"pull": {"exporter": {"prometheus": prometheus}}}]
    return {"service": {"telemetry": {"metrics": {"readers": readers}}}}


def _http_headers(headers: dict[str, str]) -> dict[str, Any]:
    return _exporter("otlp_http/vendor", {"endpoint": "https://otlp.example.com", "headers": headers})


_REPLACEMENT = """
extensions:
  health_check: {endpoint: "127.0.0.1:13133"}
receivers:
  otlp: {protocols: {grpc: {endpoint: "%s"}}}
exporters:
  debug: {}
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
"""

# --- hostile ---------------------------------------------------------------------------

_LISTENERS = [
    Case("sidecar-grpc-empty-host", "sidecar", {"overrides": _grpc(":4317")},
         rf"receivers\.otlp\.protocols\.grpc\.endpoint: must listen on loopback.*{OPEN}.*got ':4317'"),
    Case("sidecar-http-empty-host", "sidecar",
         {"overrides": {"receivers": {"otlp": {"protocols": {"http": {"endpoint": ":4318"}}}}}},
         rf"protocols\.http\.endpoint: must listen on loopback.*{OPEN}.*got ':4318'"),
    Case("sidecar-env-default-wildcard", "sidecar", {"overrides": _grpc("${env:BIND:-0.0.0.0}:4317")},
         rf"grpc\.endpoint: .*'0\.0\.0\.0' opens it.*{OPEN}.*got '\$\{{env:BIND:-0\.0\.0\.0\}}:4317'"),
    Case("sidecar-env-plain-wildcard", "sidecar",
         {"overrides": _grpc("${env:BIND}:4317"), "environment": {"BIND": "0.0.0.0"}},
         rf"grpc\.endpoint: .*'0\.0\.0\.0' opens it.*{OPEN}.*got '\$\{{env:BIND\}}:4317'"),
    Case("sidecar-unresolvable-host", "sidecar", {"overrides": _grpc("${env:NOPE}:4317")},
         rf"grpc\.endpoint: the host it listens on cannot be known.*{OPEN} to accept that, got '\$\{{env:NOPE\}}:4317'"),
    Case("sidecar-ipv6-any", "sidecar", {"overrides": _grpc("[::]:4317")},
         rf"grpc\.endpoint: .*'::' opens it.*{OPEN} to accept that, got '\[::\]:4317'"),
    Case("sidecar-zero-host", "sidecar", {"overrides": _grpc("0:4317")},
         rf"grpc\.endpoint: .*'0' opens it.*{OPEN} to accept that, got '0:4317'"),
    Case("sidecar-hostname", "sidecar", {"overrides": _grpc("my-task:4317")},
         rf"grpc\.endpoint: .*'my-task' opens it.*{OPEN} to accept that, got 'my-task:4317'"),
    Case("sidecar-task-ip", "sidecar", {"overrides": _grpc("10.0.1.5:4317")},
         rf"grpc\.endpoint: .*{OPEN} to accept that, got '10\.0\.1\.5:4317'"),
    Case("agent-zpages", "agent", {"overrides": _ext("zpages", {"endpoint": "0.0.0.0:55679"})},
         rf"extensions\.zpages\.endpoint: must listen on loopback.*{OPEN} to accept that, got '0\.0\.0\.0:55679'"),
    Case("sidecar-pprof-empty-host", "sidecar", {"overrides": _ext("pprof", {"endpoint": ":1777"})},
         rf"extensions\.pprof\.endpoint: .*{OPEN} to accept that, got ':1777'"),
    Case("sidecar-prometheus-exporter", "sidecar",
         {"overrides": _exporter("prometheus", {"endpoint": "0.0.0.0:8889"}, "metrics")},
         rf"exporters\.prometheus\.endpoint: must listen on loopback.*{OPEN} to accept that, got '0\.0\.0\.0:8889'"),
    Case("sidecar-remotetap-processors", "sidecar",
         {"processors": {"remotetap": {"endpoint": "0.0.0.0:12001"}}},
         rf"processors\.remotetap\.endpoint: .*{OPEN} to accept that, got '0\.0\.0\.0:12001'"),
    Case("agent-remotetap-default-endpoint", "agent", {"processors": {"remotetap/tap": {}}},
         rf"processors\.remotetap/tap\.endpoint: .*{OPEN} to accept that, got ':12001'"),
    Case("sidecar-http-forwarder", "sidecar",
         {"overrides": _ext("http_forwarder", {"ingress": {"endpoint": "0.0.0.0:6060"}})},
         rf"extensions\.http_forwarder\.ingress\.endpoint: .*{OPEN} to accept that, got '0\.0\.0\.0:6060'"),
    Case("sidecar-statsd", "sidecar", {"overrides": _receiver("statsd", {"endpoint": ":8125"})},
         rf"receivers\.statsd\.endpoint: must listen on loopback.*{OPEN} to accept that, got ':8125'"),
    Case("sidecar-fluentforward", "sidecar",
         {"overrides": _receiver("fluentforward", {"endpoint": "0.0.0.0:8006"}, "logs")},
         rf"receivers\.fluentforward\.endpoint: .*{OPEN} to accept that, got '0\.0\.0\.0:8006'"),
    Case("sidecar-xray-proxy", "sidecar",
         {"receivers": (XRayDaemonReceiver(),),
          "exporters": (XRayExporter(),),
          "overrides": {"receivers": {"awsxray": {"proxy_server": {"endpoint": "0.0.0.0:2000"}}}}},
         rf"receivers\.awsxray\.proxy_server\.endpoint: .*{OPEN} to accept that, got '0\.0\.0\.0:2000'"),
    Case("sidecar-own-metrics-any", "sidecar", {"overrides": _reader("::")},
         rf"readers\[0\]\.pull\.exporter\.prometheus\.host: .*{OPEN} to accept that, got ':::8888'"),
    Case("agent-receiver-outside-the-model", "agent",
         {"overrides": {"receivers": {"zipkin": {"endpoint": ":9411"}}}},
         rf"receivers\.zipkin\.endpoint: must listen on loopback.*{OPEN} to accept that, got ':9411'"),
    Case("embedded-replacement-wildcard", "sidecar", {"replacement": _REPLACEMENT % "0.0.0.0:4317"},
         rf"^replacement: receivers\.otlp\.protocols\.grpc\.endpoint: .*{OPEN} to accept that, got '0\.0\.0\.0:4317'"),
    Case("gateway-zpages", "gateway", {"overrides": _ext("zpages", {"endpoint": ":55679"}, gateway=True)},
         rf"extensions\.zpages\.endpoint: must listen on loopback.*{OPEN} to accept that, got ':55679'"),
    Case("sampler-pprof", "sampler", {"overrides": _ext("pprof", {"endpoint": "0.0.0.0:1777"})},
         rf"extensions\.pprof\.endpoint: .*{OPEN} to accept that, got '0\.0\.0\.0:1777'"),
    Case("gateway-prometheus-api-server", "gateway",
         {"overrides": _receiver("prometheus", {
             "config": {"scrape_configs": []},
             "api_server": {"enabled": True, "server_config": {"endpoint": "0.0.0.0:9090"}}})},
         rf"receivers\.prometheus\.api_server\.server_config\.endpoint: .*{OPEN} to accept that, got '0\.0\.0\.0:9090'"),
]

_GATEWAY_AUTH = [
    Case("gateway-zipkin-open-no-auth", "gateway",
         {"allow_open_listeners": True, "overrides": _receiver("zipkin", {"endpoint": "0.0.0.0:9411"}, "traces")},
         rf"receivers\.zipkin\.auth: the gateway must authenticate.*{UNAUTH}.*got None"),
    Case("gateway-statsd-no-hook", "gateway", {"overrides": _receiver("statsd", {"endpoint": "0.0.0.0:8125"})},
         rf"receivers\.statsd\.endpoint: statsd takes telemetry.*{UNAUTH}, got '0\.0\.0\.0:8125'"),
    Case("gateway-auth-null", "gateway",
         {"overrides": {"receivers": {"otlp": {"protocols": {"grpc": {"auth": None}}}}}},
         rf"receivers\.otlp\.protocols\.grpc\.auth: the gateway must authenticate.*{UNAUTH} to accept that, got None"),
    Case("gateway-authenticator-swapped", "gateway",
         {"overrides": {
             "extensions": {"basicauth/x": {"htpasswd": {"file": "/etc/htpasswd"}}},
             "service": {"extensions": ["health_check", "bearertokenauth/gateway", "basicauth/x"]},
             "receivers": {"otlp": {"protocols": {"http": {"auth": {"authenticator": "basicauth/x"}}}}}}},
         rf"protocols\.http\.auth: .*with another authenticator.*{UNAUTH} to accept that, got \{{'authenticator': 'basicauth/x'\}}"),
    Case("gateway-replacement-no-auth", "gateway", {"replacement": _REPLACEMENT % "0.0.0.0:4317"},
         rf"^replacement: receivers\.otlp\.protocols\.grpc\.auth: the gateway must authenticate.*{UNAUTH} to accept that, got None"),
]

_CREDENTIALS = [
    Case("gateway-basicauth-inline", "gateway",
         {"allow_unauthenticated_gateway": True, "overrides": {
             "extensions": {"basicauth/x": {"htpasswd": {"inline": "a:a"}}}}},
         rf"extensions\.basicauth/x\.htpasswd\.inline: a credential.*{SECRET}.*got 'a:'\.\.\. \(3 characters\)"),
    Case("sidecar-authorization-header", "sidecar",
         {"overrides": _http_headers({"Authorization": "Bearer abc123"})},
         rf"headers\.Authorization: the credential header 'Authorization'.*{SECRET}.*got 'Be'\.\.\. \(13 characters\)"),
    Case("sidecar-api-key-header", "sidecar", {"overrides": _http_headers({"api-key": "k-123456"})},
         rf"headers\.api-key: the credential header.*{SECRET}.*got 'k-'\.\.\."),
    Case("sidecar-x-team-header", "sidecar", {"overrides": _http_headers({"x-honeycomb-team": "abcdef"})},
         rf"headers\.x-honeycomb-team: the credential header.*{SECRET}.*got 'ab'\.\.\."),
    Case("sidecar-header-from-plain-env", "sidecar",
         {"overrides": _http_headers({"authorization": "Bearer ${env:PLAIN}"}), "environment": {"PLAIN": "x"}},
         rf"headers\.authorization: the credential header.*{SECRET}.*got 'Be'\.\.\."),
    Case("sidecar-header-with-default", "sidecar",
         {"overrides": _http_headers({"x-api-key": "${env:API_TOKEN:-fallback}"}), "secrets": (API,)},
         rf"headers\.x-api-key: the credential header.*{SECRET}"),
    Case("agent-bearer-token-literal", "agent",
         {"overrides": {"extensions": {"bearertokenauth/out": {"token": "s3cr3t"}}}},
         rf"extensions\.bearertokenauth/out\.token: a credential \(bearertokenauth keeps it opaque\).*{SECRET}.*got 's3'\.\.\."),
    Case("sidecar-oauth2-client-secret", "sidecar",
         {"overrides": {"extensions": {"oauth2client/x": {
             "client_id": "id", "client_secret": "very-secret", "token_url": "https://idp.example.com/token"}}}},
         rf"extensions\.oauth2client/x\.client_secret: a credential.*{SECRET}.*got 've'\.\.\."),
    Case("sidecar-inline-key-pem", "sidecar",
         {"overrides": _exporter("otlp_grpc/x", {"endpoint": "collector.example.com:4317",
                                                 "tls": {"key_pem": "-----BEGIN PRIVATE KEY-----"}})},
         rf"exporters\.otlp_grpc/x\.tls\.key_pem: a credential.*{SECRET}.*got '--'\.\.\."),
    Case("sidecar-replacement-literal-token", "sidecar",
         {"replacement": (_REPLACEMENT % "127.0.0.1:4317").replace(
             "debug: {}", "debug: {}\n  otlp_http/v: {endpoint: 'https://v.example.com', headers: {authorization: 'Bearer xyz'}}")},
         rf"^replacement: exporters\.otlp_http/v\.headers\.authorization: the credential header.*{SECRET}"),
    Case("agent-token-in-url", "agent",
         {"overrides": _exporter("otlp_http/leak", {"endpoint": f"https://evil.example.com/{TOKEN}"})},
         r"exporters\.otlp_http/leak\.endpoint: \$\{env:OTEL_GATEWAY_TOKEN\} carries a secret.*use another variable, got 'https://evil"),
    Case("sidecar-secret-in-namespace", "sidecar",
         {"exporters": (CloudWatchEmfExporter(namespace="App", log_group_name="/app/m"),), "secrets": (API,),
          "overrides": {"exporters": {"awsemf": {"namespace": "${env:API_TOKEN}"}}}},
         r"exporters\.awsemf\.namespace: \$\{env:API_TOKEN\} carries a secret.*got '\$\{env:API_TOKEN\}'"),
    Case("sidecar-unmodelled-password", "sidecar",
         {"overrides": {"exporters": {"kafka": {"auth": {"sasl": {"username": "u", "password": "hunter22"}}}}}},
         rf"exporters\.kafka\.auth\.sasl\.password: a credential \('password'\).*{SECRET}.*got 'hu'\.\.\."),
]

_PROVIDERS = [
    Case("sidecar-https-provider", "sidecar",
         {"overrides": {"exporters": {"debug": {"verbosity": "${https://evil.example.com/v}"}}}},
         r"exporters\.debug\.verbosity: \$\{https://evil\.example\.com/v\} .*'https' provider.*SecretRef\), got"),
    Case("gateway-s3-provider", "gateway",
         {"overrides": {"processors": {"batch": {"timeout": "${s3://bucket/key}"}}}},
         r"processors\.batch\.timeout: .*'s3' provider.*SecretRef\), got '\$\{s3://bucket/key\}'"),
    Case("sidecar-file-provider", "sidecar",
         {"overrides": {"exporters": {"debug": {"verbosity": "${file:/etc/passwd}"}}}},
         r"exporters\.debug\.verbosity: .*'file' provider.*SecretRef\), got '\$\{file:/etc/passwd\}'"),
    Case("agent-yaml-provider", "agent",
         {"overrides": {"processors": {"batch": {"timeout": "${yaml:timeout: 1s}"}}}},
         r"processors\.batch\.timeout: .*'yaml' provider.*SecretRef\), got"),
    Case("agent-wrapped-token", "agent",
         {"overrides": _exporter("otlp_http/x", {"endpoint": "https://x.example.com/$${Token[" + TOKEN + "]}"})},
         r"exporters\.otlp_http/x\.endpoint: holds an unresolved CDK token.*SecretRef.*got 'https://x\.example\.com/\$\$\{Token\["),
    Case("gateway-token-in-namespace", "gateway",
         {"overrides": {"exporters": {"awsemf/self": {"namespace": "${Token[" + TOKEN + "]}"}}}},
         r"exporters\.awsemf/self\.namespace: holds an unresolved CDK token.*SecretRef"),
]

_TLS = [
    Case("gateway-tls-lowered", "gateway",
         {"gateway_tls": GatewayTlsOptions(),
          "overrides": {"receivers": {"otlp": {"protocols": {"grpc": {"tls": {"min_version": "1.0"}}}}}}},
         r"receivers\.otlp\.protocols\.grpc\.tls\.min_version: must be 1\.2 or above.*no opt-out, got '1\.0'"),
    Case("gateway-tls-below-its-own", "gateway",
         {"gateway_tls": GatewayTlsOptions(min_version="1.3"),
          "overrides": {"receivers": {"otlp": {"protocols": {"http": {"tls": {"min_version": "1.2"}}}}}}},
         r"protocols\.http\.tls\.min_version: must be 1\.3 or above.*no opt-out, got '1\.2'"),
    Case("agent-plaintext-copy", "agent",
         {"gateway_tls": GatewayTlsOptions(),
          "overrides": _exporter("otlp_grpc/copy", {"endpoint": "otel-gateway:4317", "tls": {"insecure": True}})},
         r"exporters\.otlp_grpc/copy: dials the gateway \('otel-gateway:4317'\).*no opt-out\), got tls=\{'insecure': True\}"),
    Case("sidecar-exporter-tls-1-1", "sidecar",
         {"overrides": _exporter("otlp_grpc/x", {"endpoint": "c.example.com:4317", "tls": {"min_version": "1.1"}})},
         r"exporters\.otlp_grpc/x\.tls\.min_version: must be 1\.2 or above.*no opt-out, got '1\.1'"),
]

_EXISTING = r"name it in existing_log_groups \(log_group_exists=True on a typed exporter\)"
_WIDENS = r"would widen the IAM grant to every group of that prefix.*"
_VARIABLE = r"cannot hold a variable the collector expands only at start.*through environment= \(filled in at synth\)"
_SELF_GROUP = {"log_retention": None}  # the self-telemetry group sets a retention; placeholders may not


def _cwlogs(group: str, **extra: Any) -> dict[str, Any]:
    retry = {"retry_on_failure": {"max_elapsed_time": "20s"}}  # with 3 SDK attempts of 30 s, fits 120 s
    return _exporter("awscloudwatchlogs/x", {"log_group_name": group, "log_stream_name": "app", **retry, **extra}, "logs")


_AWS_NAMES = [
    Case("sidecar-typed-cwlogs-reserved", "sidecar", {"exporters": (CloudWatchLogsExporter(log_group_name="/aws/ecs/app"),)},
         rf"exporters\.awscloudwatchlogs\.log_group_name: '/aws/ecs/app' is under a prefix reserved to AWS.*{_EXISTING}"),
    Case("sidecar-typed-emf-reserved-placeholder", "sidecar",
         {"exporters": (CloudWatchEmfExporter(namespace="App", log_group_name="/aws/ecs/{TaskId}"),)},
         rf"exporters\.awsemf\.log_group_name: '/aws/ecs/\{{TaskId\}}' is under a prefix reserved.*{_EXISTING}"),
    Case("sidecar-self-group-reserved-placeholder", "sidecar",
         {"overrides": {"exporters": {"awsemf/self": {"log_group_name": "/aws/{ServiceName}/metrics", **_SELF_GROUP}}}},
         rf"exporters\.awsemf/self\.log_group_name: .*{_WIDENS}, got '/aws/\{{ServiceName\}}/metrics' \(no opt-out\)"),
    Case("agent-cwlogs-override-reserved-placeholder", "agent", {"overrides": _cwlogs("/aws/lambda/{TaskDefinitionFamily}")},
         rf"exporters\.awscloudwatchlogs/x\.log_group_name: '/aws/lambda/\{{TaskDefinitionFamily\}}' is under a prefix reserved.*{_EXISTING}"),
    Case("gateway-override-vended-prefix", "gateway",
         {"overrides": _cwlogs("aws/spans")},
         rf"exporters\.awscloudwatchlogs/x\.log_group_name: 'aws/spans' is under a prefix reserved to AWS.*{_EXISTING}"),
    Case("sampler-emf-reserved-fixed", "sampler",
         {"overrides": {"exporters": {"awsemf/self": {"log_group_name": "/aws/containerinsights/otel"}}}},
         rf"exporters\.awsemf/self\.log_group_name: '/aws/containerinsights/otel' is under a prefix reserved.*{_EXISTING}"),
    Case("sidecar-existing-reserved-still-no-early-placeholder", "sidecar",
         {"overrides": _cwlogs("/aws/{TaskId}"), "existing_log_groups": ("/aws/{TaskId}",)},
         r"exporters\.awscloudwatchlogs/x\.log_group_name: .*widen.*got '/aws/\{TaskId\}' \(no opt-out\)"),
    Case("sidecar-reserved-placeholder-mid-segment", "sidecar", {"overrides": _cwlogs("/aws/ecs{TaskId}/x")},
         r"exporters\.awscloudwatchlogs/x\.log_group_name: .*widen.*got '/aws/ecs\{TaskId\}/x' \(no opt-out\)"),
    Case("sidecar-vended-prefix-placeholder", "sidecar", {"overrides": _cwlogs("aws/{TaskId}")},
         r"exporters\.awscloudwatchlogs/x\.log_group_name: .*widen.*got 'aws/\{TaskId\}' \(no opt-out\)"),
    Case("sidecar-otlp-logs-header-reserved-placeholder", "sidecar",
         {"exporters": (AwsOtlpExporter(signal="logs", region="eu-west-1", log_group_name="/app/logs", log_stream_name="s"),),
          "overrides": {"exporters": {"otlp_http/aws_logs": {"headers": {"x-aws-log-group": "/aws/{TaskId}/x"}}}}},
         r"exporters\.otlp_http/aws_logs\.headers\.x-aws-log-group: .*widen.*got '/aws/\{TaskId\}/x' \(no opt-out\)"),
    Case("sidecar-self-namespace-variable", "sidecar",
         {"overrides": {"exporters": {"awsemf/self": {"namespace": "${env:TEAM_NAMESPACE}"}}}},
         rf"exporters\.awsemf/self\.namespace: names a CloudWatch namespace.*{_VARIABLE}, got '\$\{{env:TEAM_NAMESPACE\}}'"),
    Case("gateway-self-namespace-bare-variable", "gateway",
         {"overrides": {"exporters": {"awsemf/self": {"namespace": "Team/${NS}"}}}},
         rf"exporters\.awsemf/self\.namespace: .*{_VARIABLE}, got 'Team/\$\{{NS\}}'"),
    Case("sidecar-cwlogs-group-variable", "sidecar", {"overrides": _cwlogs("/app/${env:TEAM}")},
         rf"exporters\.awscloudwatchlogs/x\.log_group_name: names a log group.*{_VARIABLE}, got '/app/\$\{{env:TEAM\}}'"),
    Case("sidecar-cwlogs-region-variable", "sidecar", {"overrides": _cwlogs("/app/logs", region="${env:TARGET_REGION}")},
         rf"exporters\.awscloudwatchlogs/x\.region: names the region of an IAM grant.*{_VARIABLE}, got '\$\{{env:TARGET_REGION\}}'"),
]

HOSTILE: list[Case] = [*_LISTENERS, *_GATEWAY_AUTH, *_CREDENTIALS, *_PROVIDERS, *_TLS, *_AWS_NAMES]

# --- legitimate ------------------------------------------------------------------------

_ADOT_ENV = {
    "AWS_PROMETHEUS_ENDPOINT": "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0123abcd/api/v1/remote_write",
    "AWS_PROMETHEUS_SCRAPING_ENDPOINT": "127.0.0.1:9404",
}
#: ADOT's samples write AWS's own groups, which an earlier ADOT deployment (or Container
#: Insights) created: named as existing, as README's "Coming from ADOT" says.
_ADOT_GROUPS = ("/aws/ecs/application/metrics", "/aws/ecs/containerinsights/{ClusterName}/performance")
_ADOT_SAMPLES = sorted(p for p in ADOT.glob("*.yaml") if p.name != "otel-instance-metrics-config.yaml")

LEGITIMATE: list[Case] = [
    Case("sidecar-preset", "sidecar"),
    Case("agent-preset", "agent"),
    Case("gateway-preset", "gateway"),
    Case("sampler-preset", "sampler"),
    Case("sidecar-env-default-loopback", "sidecar", {"overrides": _grpc("${env:BIND:-127.0.0.1}:4317")}),
    Case("sidecar-env-plain-loopback", "sidecar",
         {"overrides": _grpc("${env:BIND}:4317"), "environment": {"BIND": "127.0.0.1"}}),
    Case("sidecar-localhost", "sidecar", {"overrides": _grpc("localhost:4317")}),
    Case("sidecar-ipv6-loopback", "sidecar", {"overrides": _grpc("[::1]:4317")}),
    Case("sidecar-loopback-block", "sidecar", {"overrides": _grpc("127.0.0.2:4317")}),
    Case("sidecar-pprof-and-zpages", "sidecar", {"pprof": True, "zpages": True}),
    Case("agent-zpages-readme", "agent", {"overrides": _ext("zpages", {"endpoint": "localhost:55679"})}),
    Case("sidecar-statsd-readme", "sidecar", {"overrides": _receiver("statsd", {"endpoint": "localhost:8127"})}),
    Case("sidecar-fluentforward-readme", "sidecar",
         {"overrides": _receiver("fluentforward", {"endpoint": "127.0.0.1:8006"}, "logs")}),
    Case("sidecar-xray-daemon", "sidecar", {"receivers": (XRayDaemonReceiver(),), "exporters": (XRayExporter(),)}),
    Case("gateway-behind-nlb", "gateway", {"health_check_endpoint": "0.0.0.0:13133"}),
    Case("gateway-tls", "gateway", {"gateway_tls": GatewayTlsOptions()}),
    Case("gateway-tls-1-3", "gateway", {"gateway_tls": GatewayTlsOptions(min_version="1.3")}),
    Case("gateway-tls-raised", "gateway",
         {"gateway_tls": GatewayTlsOptions(),
          "overrides": {"receivers": {"otlp": {"protocols": {"grpc": {"tls": {"min_version": "1.3"}}}}}}}),
    Case("agent-tls", "agent", {"gateway_tls": GatewayTlsOptions()}),
    Case("gateway-trace-routing", "gateway",
         {"trace_routing": TraceRouting(hostname="otel-sampler.prod.internal"), "exporters": (XRayExporter(),)}),
    Case("sidecar-header-from-secret", "sidecar",
         {"overrides": _http_headers({"authorization": "Bearer ${env:API_TOKEN}"}), "secrets": (API,)}),
    Case("sidecar-api-key-from-secret", "sidecar",
         {"overrides": _http_headers({"x-api-key": "${env:API_TOKEN}"}), "secrets": (API,)}),
    Case("sidecar-plain-tenant-header", "sidecar", {"overrides": _http_headers({"X-Scope-OrgID": "tenant-1"})}),
    Case("sidecar-plain-dataset-header", "sidecar", {"overrides": _http_headers({"x-honeycomb-dataset": "app"})}),
    Case("sidecar-typed-exporter-secret-header", "sidecar",
         {"exporters": (OtlpExporter(name="backend", endpoint="https://api.example.com:443", headers={"x-api-key": API}),)}),
    Case("agent-bearer-token-from-secret", "agent",
         {"secrets": (API,), "overrides": {"extensions": {"bearertokenauth/out": {"token": "${env:API_TOKEN}"}}}}),
    Case("sidecar-oauth2-from-secret", "sidecar",
         {"secrets": (API,), "overrides": {"extensions": {"oauth2client/x": {
             "client_id": "app", "client_secret": "${env:API_TOKEN}", "token_url": "https://idp.example.com/token"}}}}),
    Case("sidecar-public-ca-inline", "sidecar",
         {"overrides": _exporter("otlp_grpc/x", {"endpoint": "c.example.com:4317",
                                                 "tls": {"ca_pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"}})}),
    Case("sidecar-exporter-tls-1-3", "sidecar",
         {"overrides": _exporter("otlp_grpc/x", {"endpoint": "c.example.com:4317", "tls": {"min_version": "1.3"}})}),
    Case("sidecar-attribute-from-env", "sidecar",
         {"environment": {"APP_VERSION": "1.2.3"},
          "processors": {"attributes/version": {"actions": [{"key": "app.version", "value": "${env:APP_VERSION}", "action": "upsert"}]}}}),
    Case("sidecar-metricstransform-include", "sidecar",
         {"processors": {"metricstransform/rename": {"transforms": [{"include": "a", "action": "update", "new_name": "b"}]}},
          "exporters": (CloudWatchEmfExporter(namespace="App", log_group_name="/app/m"),)}),
    Case("sidecar-filter", "sidecar",
         {"processors": {"filter/health": {"error_mode": "ignore", "traces": {"span": ['attributes["http.target"] == "/health"']}}}}),
    Case("sidecar-existing-reserved-group-typed", "sidecar",
         {"exporters": (CloudWatchLogsExporter(log_group_name="/aws/ecs/app", log_group_exists=True),)}),
    Case("gateway-existing-reserved-group-override", "gateway",
         {"overrides": _cwlogs("/aws/ecs/app"), "existing_log_groups": ("/aws/ecs/app",)}),
    Case("sidecar-own-prefix-like-aws", "sidecar",
         {"exporters": (CloudWatchLogsExporter(log_group_name="/awsome/{TaskId}"),
                        CloudWatchEmfExporter(namespace="App", log_group_name="/aws-team/metrics"))}),
    Case("agent-aws-inside-own-prefix", "agent", {"overrides": _cwlogs("/team/aws/{TaskId}")}),
    Case("sidecar-emf-region-of-the-task", "sidecar",
         {"exporters": (CloudWatchEmfExporter(namespace="App", log_group_name="/app/m"),),
          "overrides": {"exporters": {"awsemf": {"region": "${env:AWS_REGION}"}}}}),
    Case("sidecar-namespace-from-plain-variable", "sidecar",
         {"environment": {"TEAM_NAMESPACE": "Team/Collector"},
          "overrides": {"exporters": {"awsemf/self": {"namespace": "${env:TEAM_NAMESPACE}"}}}}),
    Case("sidecar-stream-with-variable", "sidecar",
         {"environment": {"APP_VERSION": "1.2.3"}, "overrides": _cwlogs("/app/logs", log_stream_name="{TaskId}-${env:APP_VERSION}")}),
    Case("sidecar-health-check-upstream-keys", "sidecar",  # keys from upstream's healthcheck README
         {"overrides": {"extensions": {"health_check": {
             "path": "/", "response_body": {"healthy": "ok", "unhealthy": "bad"},
             "check_collector_pipeline": {"enabled": False, "interval": "5m", "exporter_failure_threshold": 5}}}}}),
    Case("sidecar-open-with-opt-out", "sidecar", {"allow_open_listeners": True, "overrides": _grpc(":4317")}),
    Case("gateway-zpages-with-opt-out", "gateway",
         {"allow_open_listeners": True, "overrides": _ext("zpages", {"endpoint": "0.0.0.0:55679"}, gateway=True)}),
    Case("gateway-unauthenticated-with-opt-out", "gateway",
         {"allow_unauthenticated_gateway": True,
          "overrides": {"receivers": {"otlp": {"protocols": {"grpc": {"auth": None}}}}}}),
    Case("sampler-otlp-open", "sampler", {"overrides": _grpc("0.0.0.0:4317")}),
    Case("embedded-example", "sidecar", {"replacement": (EXAMPLES / "embedded/collector.yaml").read_text()}),
    Case("sidecar-replacement-loopback", "sidecar", {"replacement": _REPLACEMENT % "127.0.0.1:4317"}),
    *(
        Case(f"adot-{path.stem}", "sidecar", # ADOT's samples listen on 0.0.0.0: accepted with the documented opt-out, as in
        # tests/library/test_adot_samples.py
        {"replacement": path.read_text(), "environment": _ADOT_ENV, "allow_open_listeners": True,
         "existing_log_groups": _ADOT_GROUPS})
        for path in _ADOT_SAMPLES
    ),
]


def loaded(text: str) -> Any:
    """``text`` parsed as YAML (a helper for the property test)."""
    return yaml.safe_load(text)
