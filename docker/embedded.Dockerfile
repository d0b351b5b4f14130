# syntax=docker/dockerfile:1
#
# Example of embedded mode: one image runs an app and the OpenTelemetry Collector, for
# platforms that run a single container per app. /supervisor starts the collector, waits
# until /healthcheck reports it healthy, runs the app as its main child, forwards SIGTERM
# and SIGINT to the app, restarts the collector if it dies, and stops the collector only
# after the app has exited. See examples/embedded/README.md.
#
# Build from the repository root (docker/embedded.Dockerfile.dockerignore selects the
# context):
#   docker build -f docker/embedded.Dockerfile -t otel-embedded-example .
# Run; the collector reads its configuration from OTEL_FARGATE_CONFIG, as on ECS, and the
# supervisor the configuration's drain budget from OTEL_FARGATE_DRAIN_BUDGET (printed by
# examples/embedded/drain_budget.py; it stops the collector after the budget plus 5s):
#   docker run --rm -e OTEL_FARGATE_CONFIG="$(cat examples/embedded/collector.yaml)" \
#     -e OTEL_FARGATE_DRAIN_BUDGET="$(python examples/embedded/drain_budget.py examples/embedded/collector.yaml)" \
#     otel-embedded-example
#
# For your own app: keep the `collector` and `tools` stages, the three COPY --from lines
# and the ENTRYPOINT of the last stage; replace its base image, app files and CMD. The
# collector must be the contrib distribution (/otelcol-contrib) or any other collector
# binary named with --collector; its config must enable the health_check extension on the
# URL the probe polls (default http://127.0.0.1:13133/).

# Keep equal to COLLECTOR_VERSION in constructs/otel_fargate/versions.py.
ARG COLLECTOR_VERSION=0.158.0

# --- collector: the upstream contrib distribution (a static binary) -------------------------
FROM otel/opentelemetry-collector-contrib:${COLLECTOR_VERSION} AS collector

# --- tools: the probe and the supervisor, static, cross-compiled for the target -------------
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS tools
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY healthcheck/ healthcheck/
COPY supervisor/ supervisor/
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -C healthcheck -trimpath -ldflags "-s -w" -o /out/healthcheck . \
    && CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -C supervisor -trimpath -ldflags "-s -w" -o /out/supervisor .

# --- app: the example app plus the three binaries -------------------------------------------
FROM python:3.12-slim-bookworm AS app
WORKDIR /app
COPY examples/embedded/requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY examples/embedded/app.py ./

COPY --from=collector /otelcol-contrib /otelcol-contrib
COPY --from=tools /out/healthcheck /healthcheck
COPY --from=tools /out/supervisor /supervisor

# The app exports to the collector in the same container.
ENV OTEL_SERVICE_NAME=embedded-example \
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 \
    OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
    PYTHONUNBUFFERED=1

USER 10001:10001

# Everything after "--" is the app; supervisor flags go before it, e.g.
#   ENTRYPOINT ["/supervisor", "--ready-timeout=60s", "--"]
# The collector's stop timeout is the drain budget in OTEL_FARGATE_DRAIN_BUDGET plus 5s (20s
# without one); a --collector-stop-timeout not longer than the budget is refused.
ENTRYPOINT ["/supervisor", "--"]
CMD ["python", "app.py"]
