# syntax=docker/dockerfile:1
#
# Language agents for zero-code instrumentation, each installed from its language registry at
# the version otel_fargate/versions.py pins (the constructs pass it as a build argument), and
# laid out as the OpenTelemetry Operator's images are, so either can serve the init container:
#
#   java:   /javaagent.jar               (Maven Central: io.opentelemetry.javaagent)
#   nodejs: /autoinstrumentation/        (npm: docker/instrumentation/nodejs/package.json)
#   python: /autoinstrumentation/        (PyPI: docker/instrumentation/python/requirements.txt)
#
# The init container runs `cp` (busybox, as root: Fargate creates the task volume owned by
# root) into a task volume and exits; the app mounts the
# volume read-only. .NET's agent is not on a language registry: the constructs use the
# Operator's published image for it.

ARG JAVA_AGENT_VERSION=2.22.0
ARG PYTHON_VERSION=3.12

# --- java ----------------------------------------------------------------------------------
FROM public.ecr.aws/docker/library/maven:3.9.11-eclipse-temurin-21 AS java-build
ARG JAVA_AGENT_VERSION
RUN mvn -q dependency:copy \
      -Dartifact=io.opentelemetry.javaagent:opentelemetry-javaagent:${JAVA_AGENT_VERSION} \
      -DoutputDirectory=/out \
    && mv /out/opentelemetry-javaagent-${JAVA_AGENT_VERSION}.jar /out/javaagent.jar

FROM public.ecr.aws/docker/library/busybox:1.37.0 AS java
COPY --from=java-build /out/javaagent.jar /javaagent.jar

# --- nodejs --------------------------------------------------------------------------------
FROM public.ecr.aws/docker/library/node:20.19.5-alpine3.22 AS nodejs-build
WORKDIR /autoinstrumentation
COPY docker/instrumentation/nodejs/package.json docker/instrumentation/nodejs/package-lock.json docker/instrumentation/nodejs/autoinstrumentation.js ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM public.ecr.aws/docker/library/busybox:1.37.0 AS nodejs
COPY --from=nodejs-build /autoinstrumentation /autoinstrumentation

# --- python --------------------------------------------------------------------------------
FROM public.ecr.aws/docker/library/python:${PYTHON_VERSION}-slim AS python-build
WORKDIR /build
COPY docker/instrumentation/python/requirements.txt ./
RUN pip install --no-cache-dir --target /autoinstrumentation -r requirements.txt

FROM public.ecr.aws/docker/library/busybox:1.37.0 AS python
COPY --from=python-build /autoinstrumentation /autoinstrumentation
