"""Shared fixtures of the operations tools' tests."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The region the moto-backed tests deploy to.
REGION = "eu-west-1"


@pytest.fixture
def aws_test_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials; nothing can reach a real AWS endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # moto reports this many running tasks (and rollout COMPLETED when it meets desired)
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "2")
