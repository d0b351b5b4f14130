# syntax=docker/dockerfile:1
#
# The FireLens log router of stdout_logs: AWS for Fluent Bit (the release
# otel_fargate/names.py pins, passed as a build argument) plus the configuration file that
# buffers the app containers' output on disk while the collector is away. On Fargate FireLens
# reads a custom configuration only from a file inside the image (config-file-type "file"):
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html
# https://github.com/aws-samples/amazon-ecs-firelens-examples/tree/mainline/examples/fluent-bit/config-file-type-file

ARG LOG_ROUTER_IMAGE=public.ecr.aws/aws-observability/aws-for-fluent-bit:3.2.1
FROM ${LOG_ROUTER_IMAGE}
COPY docker/log-router/buffer.conf /fluent-bit/etc/otel-fargate/buffer.conf
