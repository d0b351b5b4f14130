"""Versions: this library's own, and the collector the image runs and the tests build.

``docker/Dockerfile`` and ``docker/builder-config.yaml`` repeat these numbers because Docker
and the Collector Builder cannot import Python; ``tests/test_versions.py`` fails when they drift.
"""

#: The OpenTelemetry Collector (contrib distribution) release every image and test uses.
COLLECTOR_VERSION = "0.158.0"

#: This library's version (semantic versioning; the wheel reads it from here). CHANGELOG.md
#: says what each release changed.
__version__ = "0.2.0"

#: Language agents of zero-code instrumentation (``AutoInstrumentation``). Java, Node.js and
#: Python are built from their registries by ``docker/instrumentation.Dockerfile`` (Maven
#: Central; ``docker/instrumentation/nodejs/package.json``; ``.../python/requirements.txt``);
#: .NET is the OpenTelemetry Operator's published image of that release. Tests check the
#: copies agree.
JAVA_AGENT_VERSION = "2.22.0"
NODEJS_AGENT_VERSION = "0.82.0"
PYTHON_AGENT_VERSION = "0.66b1"
DOTNET_AGENT_VERSION = "1.9.0"
