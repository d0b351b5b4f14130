"""Versions: this library's own, and the collector the image runs and the tests build.

``docker/Dockerfile`` and ``docker/builder-config.yaml`` repeat these numbers because Docker
and the Collector Builder cannot import Python; ``tests/test_versions.py`` fails when they drift.
"""

#: The OpenTelemetry Collector (contrib distribution) release every image and test uses.
COLLECTOR_VERSION = "0.158.0"

#: This library's version (semantic versioning; the wheel reads it from here). CHANGELOG.md
#: says what each release changed.
__version__ = "0.2.0"
