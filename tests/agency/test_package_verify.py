"""Hostile archives handed to the package check: each is refused with a reason before any
member is extracted or inflated, and no archive makes it raise."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vigil.agency.package_verification import (
    FORMAT,
    FORMAT_VERSION,
    MAX_MEMBER_BYTES,
    is_safe_member_name,
    verify_referral_package,
)
from vigil.agency.signing import public_key_pem

KEY = Ed25519PrivateKey.generate()


def signed_package(
    members: dict[str, bytes],
    *,
    extra: list[tuple[str, bytes]] = (),
    manifest_members: list[dict[str, object]] | None = None,
) -> bytes:
    """A package signed by KEY listing ``members``; ``extra`` members are written after."""
    members = {**members, "signing_key.pub": public_key_pem(KEY)}
    listed = (
        manifest_members
        if manifest_members is not None
        else [
            {"path": path, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for path, content in members.items()
        ]
    )
    manifest = json.dumps({"format": FORMAT, "version": FORMAT_VERSION, "members": listed}).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in [
            *members.items(),
            *extra,
            ("manifest.json", manifest),
            ("manifest.sig", KEY.sign(manifest)),
        ]:
            archive.writestr(path, content)
    return buffer.getvalue()


def test_a_well_formed_package_passes() -> None:
    assert (
        verify_referral_package(signed_package({"report.xml": b"<report/>"}), KEY.public_key())
        == []
    )


@pytest.mark.parametrize(
    "data", [b"", b"not a zip", b"PK\x03\x04" + b"\x00" * 40, b"PK\x05\x06" + b"\x00" * 18]
)
def test_not_a_zip(data: bytes) -> None:
    assert verify_referral_package(data) in (
        ["not a ZIP archive"],
        [
            "missing member 'manifest.json'",
            "missing member 'manifest.sig'",
            "missing member 'signing_key.pub'",
        ],
    )


@pytest.mark.parametrize(
    "name",
    [
        "../evil.sh",
        "/etc/passwd",
        "media/../../x",
        "a\\..\\b",
        "C:/windows/x",
        ".hidden",
        "media/",
        "a//b",
        "ok/\x00name",
        "x" * 300,
    ],
)
def test_path_traversal_and_odd_names_are_refused(name: str) -> None:
    assert not is_safe_member_name(name)
    data = signed_package({"report.xml": b"<report/>"}, extra=[(name, b"payload")])
    problems = verify_referral_package(data, KEY.public_key())
    assert any(
        "unsafe member name" in problem or "not a regular file" in problem for problem in problems
    ), problems


def test_duplicate_names_are_refused_also_by_case() -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        same = signed_package({"report.xml": b"<report/>"}, extra=[("report.xml", b"<other/>")])
    assert "duplicate member 'report.xml'" in verify_referral_package(same, KEY.public_key())
    cased = signed_package({"report.xml": b"<report/>"}, extra=[("REPORT.xml", b"<x/>")])
    assert "duplicate member 'REPORT.xml'" in verify_referral_package(cased, KEY.public_key())


def _claiming(data: bytes, name: bytes, size: int) -> bytes:
    """``data`` with the central directory claiming ``size`` bytes for member ``name``."""
    at = data.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == name:
            return data[: at + 24] + struct.pack("<I", size) + data[at + 28 :]
        at = data.index(b"PK\x01\x02", at + 4)


def test_a_member_claiming_a_huge_size_is_refused_unread() -> None:
    data = _claiming(signed_package({"report.xml": b"<report/>"}), b"report.xml", 0xFFFFFFFE)
    problems = verify_referral_package(data, KEY.public_key())
    assert any(f"more than {MAX_MEMBER_BYTES}" in problem for problem in problems), problems


def test_a_zip_bomb_is_refused_unread() -> None:
    bomb = b"\x00" * (16 * 1024 * 1024)  # deflates about 1000:1
    problems = verify_referral_package(signed_package({"report.xml": bomb}), KEY.public_key())
    assert problems == ["member 'report.xml': compression ratio above 200:1 (a zip bomb)"]


def test_a_member_longer_than_its_header_says_is_caught() -> None:
    data = _claiming(signed_package({"report.xml": b"<report>abc</report>"}), b"report.xml", 3)
    problems = verify_referral_package(data, KEY.public_key())
    assert any("report.xml" in problem for problem in problems), problems


def test_symlinks_and_encrypted_flags_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("report.xml")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    problems = verify_referral_package(buffer.getvalue())
    assert problems == ["member 'report.xml': not a regular file"]
    data = bytearray(signed_package({"report.xml": b"<report/>"}))
    at = data.index(b"PK\x01\x02")
    data[at + 8] |= 0x1  # the central directory's "encrypted" flag of the first member
    assert any(
        "encrypted" in problem for problem in verify_referral_package(bytes(data), KEY.public_key())
    )


def test_manifest_listing_unsafe_or_duplicate_paths_is_refused() -> None:
    entry = {"path": "../x", "size": 1, "sha256": "0" * 64}
    data = signed_package({"report.xml": b"<report/>"}, manifest_members=[entry])
    assert "manifest.json has a malformed member entry" in verify_referral_package(
        data, KEY.public_key()
    )
    good = {"path": "report.xml", "size": 9, "sha256": hashlib.sha256(b"<report/>").hexdigest()}
    data = signed_package({"report.xml": b"<report/>"}, manifest_members=[good, good])
    assert any("twice" in problem for problem in verify_referral_package(data, KEY.public_key()))


def test_wrong_format_or_version_is_refused() -> None:
    for manifest in (b"[]", b"{", json.dumps({"format": FORMAT, "version": 99}).encode()):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("manifest.json", manifest)
            archive.writestr("manifest.sig", KEY.sign(manifest))
            archive.writestr("signing_key.pub", public_key_pem(KEY))
        problems = verify_referral_package(buffer.getvalue(), KEY.public_key())
        assert problems and all("bad signature" not in problem for problem in problems)


def test_without_a_key_anywhere_the_package_is_refused() -> None:
    data = signed_package({"report.xml": b"<report/>"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    del members["signing_key.pub"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    problems = verify_referral_package(buffer.getvalue())
    assert problems == [
        "missing member 'signing_key.pub', and no public key was given",
        "missing member 'signing_key.pub'",
    ]
    assert verify_referral_package(buffer.getvalue(), b"not a pem") == [
        "unusable public key: not a PEM public key",
        "missing member 'signing_key.pub'",
    ]
