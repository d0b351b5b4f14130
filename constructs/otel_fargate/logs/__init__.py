"""Application stdout as OpenTelemetry logs: a FireLens log router that forwards to the
collector's ``fluent_forward`` receiver.
"""
