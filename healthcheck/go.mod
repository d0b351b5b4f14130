module github.com/otel-fargate/otel-fargate/healthcheck

go 1.23
