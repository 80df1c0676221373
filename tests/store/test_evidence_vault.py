"""EvidenceVault on SQLite and PostgreSQL: encryption at rest, tamper detection,
crypto-shredding, crash safety. Content is random bytes or benign corpus images only."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.settings import load_settings
from vigil.store.evidence import (
    EvidenceShredded,
    EvidenceTampered,
    EvidenceTooLarge,
    EvidenceVault,
    LocalEvidenceBackend,
    MasterKey,
    MasterKeyMissing,
    WrongMasterKey,
    load_master_key,
    sweep_orphans,
)
from vigil.store.models import EvidenceItem, EvidencePurge, utcnow

MAX_BYTES = 1 << 20


@pytest.fixture
def master_key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    return tmp_path / "evidence"


def make_vault(directory: Path, key: MasterKey) -> EvidenceVault:
    return EvidenceVault(
        LocalEvidenceBackend(directory), key, max_bytes=MAX_BYTES, retention=timedelta(days=90)
    )


@pytest.fixture
def vault(evidence_dir: Path, master_key: MasterKey) -> Iterator[EvidenceVault]:
    yield make_vault(evidence_dir, master_key)


def smallest(images: list[Path]) -> Path:
    return min(images, key=lambda path: path.stat().st_size)


def blob_path(vault: EvidenceVault, item: EvidenceItem) -> Path:
    assert isinstance(vault.backend, LocalEvidenceBackend)
    return vault.backend.directory / item.blob_id[:2] / item.blob_id


def test_round_trip_random_bytes(session: Session, vault: EvidenceVault) -> None:
    content = os.urandom(10_000)
    item = vault.put(session, content, media_type="application/octet-stream")
    assert vault.get(session, item.id) == content
    stored = session.scalars(select(EvidenceItem)).one()
    assert stored.algorithm == "AES-256-GCM" and stored.format_version == 1
    assert stored.size == len(content) and stored.wrapped_key is not None


def test_round_trip_corpus_image_from_a_stream(
    session: Session, vault: EvidenceVault, corpus_images: list[Path]
) -> None:
    image = smallest(corpus_images)
    with image.open("rb") as stream:
        item = vault.put(session, stream, media_type="image/jpeg", reference="case-1")
    assert vault.get(session, item.id) == image.read_bytes()


def test_items_get_their_own_keys_nonces_and_random_names(
    session: Session, vault: EvidenceVault
) -> None:
    content = os.urandom(256)
    first, second = vault.put(session, content), vault.put(session, content)
    assert first.wrapped_key != second.wrapped_key
    assert first.key_nonce != second.key_nonce and first.data_nonce != second.data_nonce
    assert blob_path(vault, first).read_bytes() != blob_path(vault, second).read_bytes()
    assert first.blob_id not in (first.sha256, first.sha256[:32])


def test_no_plaintext_ever_on_disk(
    session: Session, vault: EvidenceVault, evidence_dir: Path, corpus_images: list[Path]
) -> None:
    contents = [os.urandom(4096), smallest(corpus_images).read_bytes()]
    for content in contents:
        vault.put(session, content)
    files = [path for path in evidence_dir.rglob("*") if path.is_file()]
    assert len(files) == 2
    for path in files:
        assert path.stat().st_mode & 0o077 == 0
        on_disk = path.read_bytes()
        for content in contents:
            assert content[:64] not in on_disk and content[-64:] not in on_disk


def test_wrong_master_key_is_named(
    session: Session, vault: EvidenceVault, evidence_dir: Path
) -> None:
    item = vault.put(session, os.urandom(100))
    other = make_vault(evidence_dir, MasterKey.generate())
    with pytest.raises(WrongMasterKey, match="sealed under master key"):
        other.get(session, item.id)


def test_tampered_blob_is_detected(session: Session, vault: EvidenceVault) -> None:
    item = vault.put(session, os.urandom(100))
    path = blob_path(vault, item)
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(EvidenceTampered, match="failed authentication"):
        vault.get(session, item.id)


def test_swapped_blobs_are_detected(session: Session, vault: EvidenceVault) -> None:
    first, second = vault.put(session, os.urandom(100)), vault.put(session, os.urandom(100))
    first_path, second_path = blob_path(vault, first), blob_path(vault, second)
    first_bytes = first_path.read_bytes()
    first_path.write_bytes(second_path.read_bytes())
    second_path.write_bytes(first_bytes)
    for item in (first, second):
        with pytest.raises(EvidenceTampered):
            vault.get(session, item.id)


def test_swapped_wrapped_keys_are_detected(session: Session, vault: EvidenceVault) -> None:
    first, second = vault.put(session, os.urandom(100)), vault.put(session, os.urandom(100))
    first.wrapped_key, second.wrapped_key = second.wrapped_key, first.wrapped_key
    first.key_nonce, second.key_nonce = second.key_nonce, first.key_nonce
    session.commit()
    with pytest.raises(EvidenceTampered, match="wrapped data key"):
        vault.get(session, first.id)


def test_shredding_makes_a_backup_of_the_blob_useless(
    session: Session, vault: EvidenceVault, tmp_path: Path
) -> None:
    content = os.urandom(2048)
    item = vault.put(session, content)
    backup = tmp_path / "backup.bin"
    shutil.copyfile(blob_path(vault, item), backup)

    purge = vault.shred(session, item.id, actor="analyst@hotline", reason="false positive")

    assert not blob_path(vault, item).exists()
    row = session.get(EvidenceItem, item.id, populate_existing=True)
    assert row is not None and row.wrapped_key is None and row.key_nonce is None
    assert row.shredded_at is not None
    assert session.scalars(select(EvidencePurge)).one().id == purge.id
    # Restoring the backup does not help: the key is gone for good.
    shutil.copyfile(backup, blob_path(vault, item))
    with pytest.raises(EvidenceShredded):
        vault.get(session, item.id)
    # Neither does any key we could still produce from what is left.
    for guess in (AESGCM.generate_key(256), vault.master_key.material):
        with pytest.raises(InvalidTag):
            AESGCM(guess).decrypt(row.data_nonce, backup.read_bytes(), None)


def test_size_limit(session: Session, vault: EvidenceVault, evidence_dir: Path) -> None:
    with pytest.raises(EvidenceTooLarge):
        vault.put(session, os.urandom(MAX_BYTES + 1))
    assert session.scalars(select(EvidenceItem)).all() == []
    assert not evidence_dir.exists() or not any(evidence_dir.rglob("*"))
    vault.put(session, os.urandom(MAX_BYTES))


def test_orphan_sweep_after_crash_between_write_and_commit(
    session: Session, vault: EvidenceVault
) -> None:
    kept = vault.put(session, os.urandom(100))
    lost = vault.seal(os.urandom(100))  # blob written, then the process "dies" before commit
    assert blob_path(vault, lost).exists()

    assert sweep_orphans(session, vault) == []  # too recent: may be a put() in flight
    later = utcnow() + timedelta(hours=2)
    assert sweep_orphans(session, vault, now=later) == [lost.blob_id]
    assert not blob_path(vault, lost).exists()
    assert vault.get(session, kept.id)


def test_interrupted_write_leaves_only_an_incomplete_ciphertext_file(
    vault: EvidenceVault, evidence_dir: Path, session: Session
) -> None:
    partial = evidence_dir / "ab" / ".incoming-crash"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"\x00" * 16)
    os.utime(partial, (0, 0))
    sweep_orphans(session, vault)
    assert not partial.exists()


def test_master_key_is_required_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, master_key: MasterKey
) -> None:
    monkeypatch.delenv("VIGIL_EVIDENCE__MASTER_KEY", raising=False)
    with pytest.raises(MasterKeyMissing, match="VIGIL_EVIDENCE__MASTER_KEY"):
        load_master_key(load_settings(data_dir=tmp_path))
    encoded = __import__("base64").b64encode(master_key.material).decode()
    monkeypatch.setenv("VIGIL_EVIDENCE__MASTER_KEY", encoded)
    settings = load_settings(data_dir=tmp_path)
    assert load_master_key(settings) == master_key
    assert encoded not in repr(settings) and encoded not in str(settings.redacted())
    assert encoded not in repr(master_key)


def test_master_key_file_must_be_private(
    tmp_path: Path, master_key: MasterKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIGIL_EVIDENCE__MASTER_KEY", raising=False)
    key_file = tmp_path / "master.key"
    key_file.write_text(__import__("base64").b64encode(master_key.material).decode())
    key_file.chmod(0o644)
    settings = load_settings(data_dir=tmp_path, evidence={"master_key_file": key_file})
    with pytest.raises(MasterKeyMissing, match="chmod 600"):
        load_master_key(settings)
    key_file.chmod(0o600)
    assert load_master_key(settings) == master_key
