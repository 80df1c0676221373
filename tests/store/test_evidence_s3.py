"""The S3 evidence backend against moto's in-process S3 (no network), with the vault on
SQLite and PostgreSQL. Content is random bytes only."""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy.orm import Session

from vigil.core.errors import ConfigurationError
from vigil.core.settings import load_settings
from vigil.store.evidence import (
    EvidenceBlobMissing,
    EvidenceShredded,
    EvidenceTampered,
    EvidenceVault,
    LocalEvidenceBackend,
    MasterKey,
    sweep_orphans,
)
from vigil.store.evidence.backends import backend_from_settings
from vigil.store.evidence.s3_backend import (
    EvidenceStorageError,
    S3EvidenceBackend,
    normalise_prefix,
)
from vigil.store.models import utcnow

BUCKET = "vigil-evidence-test"
REGION = "eu-central-1"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh moto S3 with one bucket; fake credentials so nothing real is ever used."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield client


def make_vault(backend: S3EvidenceBackend, key: MasterKey | None = None) -> EvidenceVault:
    return EvidenceVault(
        backend, key or MasterKey.generate(), max_bytes=1 << 20, retention=timedelta(days=90)
    )


def object_keys(client: Any) -> list[str]:
    return sorted(
        entry["Key"] for entry in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    )


def test_seal_get_shred_through_the_vault(s3: Any, session: Session) -> None:
    vault = make_vault(S3EvidenceBackend(BUCKET, prefix="evidence", region=REGION))
    content = os.urandom(5000)
    item = vault.put(session, content)

    assert object_keys(s3) == [f"evidence/{item.blob_id}"]
    stored = s3.get_object(Bucket=BUCKET, Key=f"evidence/{item.blob_id}")["Body"].read()
    assert content[:64] not in stored and len(stored) == len(content) + 16  # ciphertext + tag
    assert vault.get(session, item.id) == content

    vault.shred(session, item.id, actor="analyst", reason="false positive")
    assert object_keys(s3) == []
    with pytest.raises(EvidenceShredded):
        vault.get(session, item.id)


def test_tampered_object_is_detected(s3: Any, session: Session) -> None:
    vault = make_vault(S3EvidenceBackend(BUCKET, region=REGION))
    item = vault.put(session, os.urandom(300))
    data = bytearray(s3.get_object(Bucket=BUCKET, Key=item.blob_id)["Body"].read())
    data[7] ^= 0x01
    s3.put_object(Bucket=BUCKET, Key=item.blob_id, Body=bytes(data))
    with pytest.raises(EvidenceTampered, match="failed authentication"):
        vault.get(session, item.id)


def test_missing_object_is_reported_as_missing(s3: Any, session: Session) -> None:
    vault = make_vault(S3EvidenceBackend(BUCKET, region=REGION))
    item = vault.put(session, os.urandom(100))
    s3.delete_object(Bucket=BUCKET, Key=item.blob_id)
    with pytest.raises(EvidenceBlobMissing, match=item.blob_id):
        vault.get(session, item.id)


def test_blobs_lists_every_page_and_delete_is_idempotent(s3: Any) -> None:
    backend = S3EvidenceBackend(BUCKET, prefix="p/", region=REGION, page_size=3)
    blob_ids = [f"{number:032x}" for number in range(1, 11)]  # four pages of three
    for blob_id in blob_ids:
        backend.write(blob_id, b"ciphertext")
    listed = list(backend.blobs())
    assert sorted(blob.blob_id for blob in listed) == blob_ids
    assert all(blob.modified_at.tzinfo is not None for blob in listed)

    backend.delete(blob_ids[0])
    backend.delete(blob_ids[0])  # already gone: no error
    assert blob_ids[0] not in {blob.blob_id for blob in backend.blobs()}
    assert backend.discard_incomplete(utcnow()) == 0


def test_prefixes_isolate_deployments(s3: Any, session: Session) -> None:
    first = S3EvidenceBackend(BUCKET, prefix="site-a", region=REGION)
    nested = S3EvidenceBackend(BUCKET, prefix="site-a/archive/", region=REGION)
    other = S3EvidenceBackend(BUCKET, prefix="site-b/", region=REGION)
    first.write("a" * 32, b"one")
    nested.write("b" * 32, b"two")
    other.write("c" * 32, b"three")
    s3.put_object(Bucket=BUCKET, Key="site-a/not-a-blob-id", Body=b"stray")

    assert [blob.blob_id for blob in first.blobs()] == ["a" * 32]
    assert [blob.blob_id for blob in nested.blobs()] == ["b" * 32]
    assert [blob.blob_id for blob in other.blobs()] == ["c" * 32]
    with pytest.raises(EvidenceBlobMissing):
        other.read("a" * 32)

    # A sweep in one prefix never touches another's objects (or foreign keys in its own).
    vault = make_vault(first)
    assert sweep_orphans(session, vault, now=utcnow() + timedelta(hours=2)) == ["a" * 32]
    assert object_keys(s3) == [
        "site-a/archive/" + "b" * 32,
        "site-a/not-a-blob-id",
        "site-b/" + "c" * 32,
    ]


def test_hostile_blob_ids_are_refused(s3: Any) -> None:
    backend = S3EvidenceBackend(BUCKET, prefix="site-a/", region=REGION)
    for bad in ("../site-b/" + "c" * 32, "A" * 32, "", "c" * 33):
        with pytest.raises(ValueError, match="invalid evidence blob id"):
            backend.write(bad, b"x")
        with pytest.raises(ValueError):
            backend.read(bad)
    assert object_keys(s3) == []


def test_missing_bucket_gives_a_clear_error(s3: Any) -> None:
    backend = S3EvidenceBackend("no-such-bucket", region=REGION)
    for operation in (
        lambda: backend.write("d" * 32, b"x"),
        lambda: backend.read("d" * 32),
        lambda: backend.delete("d" * 32),
        lambda: list(backend.blobs()),
    ):
        with pytest.raises(EvidenceStorageError, match="no-such-bucket does not exist"):
            operation()


def test_unreachable_endpoint_error_names_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-access-key")
    # Port 1 on localhost refuses at once; no retries so the test stays fast.
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:1",
        region_name=REGION,
        config=__import__("botocore.config").config.Config(
            retries={"max_attempts": 0}, connect_timeout=1
        ),
    )
    backend = S3EvidenceBackend(BUCKET, client=client)
    with pytest.raises(EvidenceStorageError) as caught:
        backend.read("e" * 32)
    assert BUCKET in str(caught.value)
    assert "very-secret-access-key" not in str(caught.value)


def test_settings_choose_the_backend(s3: Any, tmp_path: Path) -> None:
    key = MasterKey.generate()
    settings = load_settings(
        data_dir=tmp_path,
        evidence={
            "backend": "s3",
            "s3_bucket": BUCKET,
            "s3_prefix": "/vigil/evidence/",
            "s3_region": REGION,
            "master_key": base64.b64encode(key.material).decode(),
        },
    )
    backend = backend_from_settings(settings)
    assert isinstance(backend, S3EvidenceBackend)
    assert (backend.bucket, backend.prefix) == (BUCKET, "vigil/evidence/")
    vault = EvidenceVault.from_settings(settings)
    assert isinstance(vault.backend, S3EvidenceBackend) and vault.master_key == key
    local = load_settings(data_dir=tmp_path)
    assert isinstance(backend_from_settings(local), LocalEvidenceBackend)


def test_local_backend_never_imports_boto3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if not installed
    assert isinstance(backend_from_settings(load_settings(data_dir=tmp_path)), LocalEvidenceBackend)
    settings = load_settings(data_dir=tmp_path, evidence={"backend": "s3", "s3_bucket": BUCKET})
    with pytest.raises(ConfigurationError, match=r"install vigil\[s3\]"):
        backend_from_settings(settings)


def test_s3_backend_needs_a_bucket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="s3_bucket"):
        load_settings(data_dir=tmp_path, evidence={"backend": "s3"})
    monkeypatch.setenv("VIGIL_EVIDENCE__BACKEND", "s3")
    monkeypatch.setenv("VIGIL_EVIDENCE__S3_BUCKET", BUCKET)
    assert load_settings(data_dir=tmp_path).evidence.s3_bucket == BUCKET


@pytest.mark.parametrize(
    "evidence",
    [
        {"backend": "gcs"},
        {"backend": "s3", "s3_bucket": "Bad_Bucket"},
        {"backend": "s3", "s3_bucket": "ab"},
        {"backend": "s3", "s3_bucket": "x" * 64},
        {"s3_prefix": "p" * 513},
        # Credentials are not settings at all: they come from the AWS chain only.
        {"backend": "s3", "s3_bucket": BUCKET, "s3_secret_access_key": "very-secret"},
        {"backend": "s3", "s3_bucket": BUCKET, "aws_access_key_id": "AKIAEXAMPLE"},
    ],
)
def test_invalid_s3_settings_are_refused(tmp_path: Path, evidence: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(data_dir=tmp_path, evidence=evidence)
    assert "very-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", ""),
        ("/", ""),
        ("a", "a/"),
        ("/a/b/", "a/b/"),
        (" a/b ", "a/b/"),
    ],
)
def test_prefix_normalisation(given: str, expected: str) -> None:
    assert normalise_prefix(given) == expected
