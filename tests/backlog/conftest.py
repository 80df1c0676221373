"""An S3-compatible server on loopback for the backlog tests: moto's standalone server, reached
by boto3 over a real socket, with fake credentials set for each test only."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.backlog.s3_server import UNSET, fake_aws_environment, loopback_s3


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One server per test process (each xdist worker has its own), on a port the OS chose."""
    with loopback_s3() as endpoint:
        yield endpoint


def use_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, endpoint: str) -> None:
    """The standard boto3 configuration, all of it fake: nothing on this machine is used."""
    for name, value in fake_aws_environment(endpoint, tmp_path).items():
        monkeypatch.setenv(name, value)
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """A client for setting up objects; the code under test makes its own from the environment."""
    use_endpoint(monkeypatch, tmp_path, moto_endpoint)
    return boto3.client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    """A fresh bucket per test: the server lives for the whole session."""
    name = f"backlog-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def unused_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The standard configuration pointing at a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    use_endpoint(monkeypatch, tmp_path, endpoint)
    return endpoint
