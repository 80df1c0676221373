"""moto's standalone S3 server on loopback and a fake boto3 configuration pointing at it:
shared by the backlog tests (conftest) and benchmarks/bench_backlog_scan.py."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from moto.server import ThreadedMotoServer

REGION = "us-east-1"
# Nothing of this machine's own AWS configuration may leak in.
UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3")


@contextlib.contextmanager
def loopback_s3() -> Iterator[str]:
    """A server on 127.0.0.1, on a port the OS chose; yields its endpoint URL."""
    # werkzeug logs every request to stderr even with verbose=False: noise in the tests'
    # output, and server time in a benchmark of thousands of reads.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def fake_aws_environment(endpoint: str, folder: Path) -> dict[str, str]:
    """The standard boto3 configuration, all of it fake (remove ``UNSET`` as well)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
        "NO_PROXY": "127.0.0.1,localhost",
    }
