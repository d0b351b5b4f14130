"""Values every part of the configuration shares: Go durations, secret references, the
process's sizing, log group names, YAML layers and output, and small typed values (signals,
frozen maps, host:port). Imports nothing else of :mod:`otel_fargate.config`.
"""
