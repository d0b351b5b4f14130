// Loaded by NODE_OPTIONS=--require: starts the OpenTelemetry Node.js SDK with every
// instrumentation of auto-instrumentations-node, configured by the OTEL_* variables.
require('@opentelemetry/auto-instrumentations-node/register');
