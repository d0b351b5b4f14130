module github.com/otel-fargate/otel-fargate/supervisor

go 1.24
