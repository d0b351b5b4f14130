"""What the library does to application containers: the OTLP variables they are given, and
their dependency on a healthy collector. Never overwrites what the user set.
"""
