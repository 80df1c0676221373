"""The referral package on SQLite and PostgreSQL: its members, manifest, signature, the
media only when allowed and asked for (and then audited), and tampering detected."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from tests.agency.package_rows import build_referral, make_vault
from vigil.agency.package import PackageRefused, UnknownReferral, build_referral_package
from vigil.agency.package_verification import verify_referral_package
from vigil.agency.signing import public_key_pem, verify
from vigil.store import Database
from vigil.store.audit import AuditAction, AuditRecord
from vigil.store.evidence import EvidenceVault
from vigil.store.models import Referral, ReferralState

ACTOR = "agent@icac.example"
DOCUMENTS = {
    "report.xml",
    "report.json",
    "files.json",
    "entities.json",
    "linked.json",
    "triage.json",
    "vics.json",
    "signing_key.pub",
    "manifest.json",
    "manifest.sig",
}


@pytest.fixture
def vault(tmp_path: Path) -> EvidenceVault:
    return make_vault(tmp_path / "evidence")


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _build(
    database: Database,
    vault: EvidenceVault,
    images: list[Path],
    key: Ed25519PrivateKey,
    *,
    include_media: bool,
    media_allowed: bool = True,
) -> tuple[bytes, object]:
    with database.transaction(write=True) as session:
        made = build_referral(session, vault, images, media_allowed=media_allowed)
    with database.transaction(write=True) as session:
        data = build_referral_package(
            session,
            vault,
            made.referral_id,
            include_media=include_media,
            signing_key=key,
            actor=ACTOR,
        )
    return data, made


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_package_without_media_holds_the_documents_and_a_valid_manifest(
    database: Database, vault: EvidenceVault, corpus_images: list[Path], key: Ed25519PrivateKey
) -> None:
    data, made = _build(database, vault, corpus_images, key, include_media=False)
    members = _members(data)
    assert set(members) == DOCUMENTS
    manifest = json.loads(members["manifest.json"])
    assert manifest["referral_id"] == made.referral_id
    assert manifest["report_id"] == made.report_id
    assert manifest["agency"] == "ICAC-TEST"
    listed = {entry["path"]: entry for entry in manifest["members"]}
    assert set(listed) == DOCUMENTS - {"manifest.json", "manifest.sig"}
    for path, entry in listed.items():
        assert entry["size"] == len(members[path])
        assert entry["sha256"] == hashlib.sha256(members[path]).hexdigest()
    assert verify(key.public_key(), members["manifest.json"], members["manifest.sig"])
    assert members["signing_key.pub"] == public_key_pem(key)
    assert verify_referral_package(data, public_key_pem(key)) == []
    assert verify_referral_package(data) == []
    with database.transaction() as session:
        viewed = session.scalars(
            select(AuditRecord).where(AuditRecord.action == AuditAction.MEDIA_VIEWED)
        ).all()
    assert viewed == []


def test_documents_carry_the_report_files_entities_links_and_triage(
    database: Database, vault: EvidenceVault, corpus_images: list[Path], key: Ed25519PrivateKey
) -> None:
    data, made = _build(database, vault, corpus_images, key, include_media=False)
    members = _members(data)
    with database.transaction() as session:
        from vigil.store.models import IntakeReport

        raw = session.get(IntakeReport, made.report_id).raw_xml
    assert members["report.xml"] == raw  # byte for byte
    report = json.loads(members["report.json"])
    assert report["reportId"] == made.report_id
    assert report["document"] == {
        "report": {"personOrUserReported": {"email": "reported.user@example.org"}}
    }
    files = json.loads(members["files.json"])
    assert [file["sha256"] for file in files] == list(made.sha256s)
    assert all(file["media"] is None for file in files)
    labelled, drawn, new = files
    assert (labelled["verdict"], labelled["classification"]) == ("known", "A1")
    assert labelled["labels"]["series"] == "Synthetic series"
    assert labelled["labels"]["victimIdentified"] is True
    assert labelled["labels"]["list"] == "clearinghouse-labels"
    assert drawn["labels"]["annotations"] == ["animeDrawingVirtualHentai", "viral"]
    assert drawn["fileDetails"]["fileDetails"]["originalFileName"] == "drawing.png"
    assert (new["verdict"], new["classification"]) == ("new", None)
    assert all(len(file["md5"]) == 32 and len(file["sha1"]) == 40 for file in files)
    entities = json.loads(members["entities.json"])
    assert {(entity["kind"], entity["value"]) for entity in entities} == {
        ("email", "reported.user@example.org"),
        ("ip", "192.0.2.7"),
    }
    assert all(entity["seen_at"] and entity["context"] for entity in entities)
    linked = json.loads(members["linked.json"])  # the linked report is not this agency's
    assert linked == {"reports": [], "elsewhere": 1, "truncated": False}
    triage = json.loads(members["triage.json"])
    assert (triage["priority"], triage["effectivePriority"], triage["score"]) == (2, 1, 41.5)
    assert triage["override"]["reason"] == "reporter escalated"
    assert triage["reasons"][0]["name"] == "new_material"


def test_linked_reports_routed_to_the_same_agency_are_named(
    database: Database, vault: EvidenceVault, corpus_images: list[Path], key: Ed25519PrivateKey
) -> None:
    with database.transaction(write=True) as session:
        made = build_referral(session, vault, corpus_images, media_allowed=False)
    with database.transaction(write=True) as session:
        agency_id = session.get(Referral, made.referral_id).agency_id
        session.add(
            Referral(
                report_id=made.other_report_id,
                agency_id=agency_id,
                state=ReferralState.ACCEPTED,
                routed_by="routing",
            )
        )
    with database.transaction(write=True) as session:
        data = build_referral_package(
            session,
            vault,
            made.referral_id,
            include_media=False,
            signing_key=key,
            actor="user:investigator",
        )
    linked = json.loads(_members(data)["linked.json"])
    assert linked == {
        "reports": [
            {"reportId": made.other_report_id, "company": "Other", "shares": ["email", "file"]}
        ],
        "elsewhere": 0,
        "truncated": False,
    }


def test_linked_reports_never_carry_their_contents(
    database: Database, vault: EvidenceVault, corpus_images: list[Path], key: Ed25519PrivateKey
) -> None:
    data, _ = _build(database, vault, corpus_images, key, include_media=False)
    linked = _members(data)["linked.json"]
    assert b"reported.user@example.org" not in linked
    for entry in json.loads(linked)["reports"]:
        assert set(entry) == {"reportId", "company", "shares"}


def test_media_included_when_asked_and_allowed_and_every_read_audited(
    database: Database, vault: EvidenceVault, corpus_images: list[Path], key: Ed25519PrivateKey
) -> None:
    data, made = _build(database, vault, corpus_images, key, include_media=True)
    members = _members(data)
    media = {name: content for name, content in members.items() if name.startswith("media/")}
    assert media == {f"media/{sha}.jpg": made.contents[sha] for sha in made.sha256s}
    files = json.loads(members["files.json"])
    assert [file["media"] for file in files] == [f"media/{sha}.jpg" for sha in made.sha256s]
    vics = json.loads(members["vics.json"])
    assert [m["RelativeFilePath"] for m in vics["value"][0]["Media"]] == [
        f"media/{sha}.jpg" for sha in made.sha256s
    ]
    assert verify_referral_package(data, key.public_key()) == []
    with database.transaction() as session:
        viewed = session.scalars(
            select(AuditRecord).where(AuditRecord.action == AuditAction.MEDIA_VIEWED)
        ).all()
    assert sorted(int(record.subject_id) for record in viewed) == sorted(made.file_ids)
    assert {record.actor for record in viewed} == {ACTOR}
    assert all(record.details["referral_id"] == made.referral_id for record in viewed)


def test_media_refused_for_an_agency_not_allowed_them(
    database: Database, vault: EvidenceVault, corpus_images: list[Path], key: Ed25519PrivateKey
) -> None:
    with pytest.raises(PackageRefused, match="may not receive"):
        _build(database, vault, corpus_images, key, include_media=True, media_allowed=False)
    with database.transaction() as session:
        assert (
            session.scalars(
                select(AuditRecord).where(AuditRecord.action == AuditAction.MEDIA_VIEWED)
            ).all()
            == []
        )


def test_unknown_referral_is_refused(
    database: Database, vault: EvidenceVault, key: Ed25519PrivateKey
) -> None:
    with database.transaction() as session, pytest.raises(UnknownReferral):
        build_referral_package(
            session, vault, 987654, include_media=False, signing_key=key, actor=ACTOR
        )


def test_tampering_with_any_member_is_detected(
    database: Database, vault: EvidenceVault, corpus_images: list[Path], key: Ed25519PrivateKey
) -> None:
    data, _ = _build(database, vault, corpus_images, key, include_media=False)
    for member in sorted(DOCUMENTS - {"manifest.sig"}):
        members = _members(data)
        members[member] += b"x"
        problems = verify_referral_package(_rezip(members), key.public_key())
        expected = "bad signature" if member == "manifest.json" else f"altered member '{member}'"
        assert any(expected in problem for problem in problems), (member, problems)


def test_tampered_media_missing_and_extra_members_are_detected(
    database: Database, vault: EvidenceVault, corpus_images: list[Path], key: Ed25519PrivateKey
) -> None:
    data, made = _build(database, vault, corpus_images, key, include_media=True)
    members = _members(data)
    path = f"media/{made.sha256s[0]}.jpg"
    altered = dict(members)
    altered[path] = members[path][:-1] + bytes([members[path][-1] ^ 1])
    assert verify_referral_package(_rezip(altered), key.public_key()) == [
        f"altered member '{path}': size or SHA-256 differs"
    ]
    missing = {name: content for name, content in members.items() if name != "triage.json"}
    assert verify_referral_package(_rezip(missing), key.public_key()) == [
        "missing member 'triage.json'"
    ]
    extra = {**members, "media/extra.jpg": b"\xff\xd8\xff"}
    assert verify_referral_package(_rezip(extra), key.public_key()) == [
        "unlisted member 'media/extra.jpg'"
    ]


def test_a_package_resigned_by_another_key_fails_against_the_clearinghouse_key(
    database: Database, vault: EvidenceVault, corpus_images: list[Path], key: Ed25519PrivateKey
) -> None:
    data, _ = _build(database, vault, corpus_images, key, include_media=False)
    members = _members(data)
    forger = Ed25519PrivateKey.generate()
    members["manifest.sig"] = forger.sign(members["manifest.json"])
    problems = verify_referral_package(_rezip(members), key.public_key())
    assert any("bad signature" in problem for problem in problems)
