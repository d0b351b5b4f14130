"""The collector container in a Fargate task, as every role builds it.

The image, the container definition and its health check, the options every collector
construct shares, ECS secrets, least-privilege IAM, Fargate's size limits, a service's
deployment and autoscaling, and the checks that run on the finished construct tree. The role
packages (:mod:`otel_fargate.sidecar`, :mod:`otel_fargate.gateway`,
:mod:`otel_fargate.sampling`) stand on this one; it knows none of them.
"""
