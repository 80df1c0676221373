"""Checking a referral package as its recipient would: the Ed25519 signature over the
manifest, then every member against the manifest's size and SHA-256, refusing archives built
to hurt the reader (path traversal, duplicate or look-alike names, links, encryption, and
members claiming sizes or compression ratios no package of ours has) before reading them.

Members are read in chunks with a cap, so a lying header cannot make us inflate more than
it claims; memory stays bounded by the chunk size and the manifest limit.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import zipfile
import zlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vigil.agency.signing import load_public_key, public_key_pem, verify

FORMAT = "vigil-referral-package"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "signing_key.pub"
UNSIGNED = frozenset({MANIFEST, SIGNATURE})  # every other member is listed in the manifest

MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 2 * 1024**3  # above the evidence store's largest file by default
MAX_TOTAL_BYTES = 64 * 1024**3
MAX_MANIFEST_BYTES = 16 * 1024**2
MAX_SMALL_MEMBER_BYTES = 64 * 1024  # the signature and the public key
MAX_RATIO = 200  # JSON compresses ~10:1; far beyond this is a zip bomb
RATIO_FLOOR = 1024**2  # small members may compress as they like
_CHUNK = 64 * 1024
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127})*")
_ALLOWED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def is_safe_member_name(name: str) -> bool:
    """Relative, forward slashes, no dot segments, no hidden or odd characters."""
    return (
        len(name) <= 255 and _SAFE_NAME.fullmatch(name) is not None and ".." not in name.split("/")
    )


def verify_referral_package(
    data: bytes, public_key: Ed25519PublicKey | bytes | None = None
) -> list[str]:
    """Problems found in the package; empty when it is intact and signed by ``public_key``
    (PEM or key). Without one, the key inside the package is used: that proves the package
    is whole, not who made it - compare its fingerprint with the clearinghouse's."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return ["not a ZIP archive"]
    with archive:
        problems = _structure_problems(archive.infolist())
        if problems:
            return problems  # nothing hostile gets read
        return _content_problems(archive, public_key)


def _structure_problems(infos: list[zipfile.ZipInfo]) -> list[str]:
    if len(infos) > MAX_MEMBERS:
        return [f"the archive has {len(infos)} members, more than {MAX_MEMBERS}"]
    problems: list[str] = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = _shown(info.filename)
        if not is_safe_member_name(info.filename):
            problems.append(f"unsafe member name {name}")
        folded = info.filename.casefold()
        if folded in seen:
            problems.append(f"duplicate member {name}")
        seen.add(folded)
        problems.extend(f"member {name}: {problem}" for problem in _member_problems(info))
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        problems.append(f"the members claim {total} bytes in all, more than {MAX_TOTAL_BYTES}")
    return problems


def _member_problems(info: zipfile.ZipInfo) -> list[str]:
    problems = []
    if info.flag_bits & 0x1:
        problems.append("encrypted")
    if info.compress_type not in _ALLOWED_METHODS:
        problems.append(f"unsupported compression method {info.compress_type}")
    if stat.S_ISLNK(info.external_attr >> 16) or info.is_dir():
        problems.append("not a regular file")
    if info.file_size > MAX_MEMBER_BYTES:
        problems.append(f"claims {info.file_size} bytes, more than {MAX_MEMBER_BYTES}")
    elif info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        problems.append(f"compression ratio above {MAX_RATIO}:1 (a zip bomb)")
    return problems


def _content_problems(
    archive: zipfile.ZipFile, public_key: Ed25519PublicKey | bytes | None
) -> list[str]:
    names = set(archive.namelist())
    missing = [name for name in (MANIFEST, SIGNATURE, PUBLIC_KEY) if name not in names]
    if MANIFEST in missing or SIGNATURE in missing:
        return [f"missing member {_shown(name)}" for name in missing]
    manifest = _read(archive, MANIFEST, MAX_MANIFEST_BYTES)
    signature = _read(archive, SIGNATURE, MAX_SMALL_MEMBER_BYTES)
    embedded = _read(archive, PUBLIC_KEY, MAX_SMALL_MEMBER_BYTES) if PUBLIC_KEY in names else None
    if manifest is None or signature is None:
        return ["the manifest or its signature cannot be read"]
    problems = _signature_problems(manifest, signature, embedded, public_key)
    listed, manifest_problems = _listed_members(manifest)
    if manifest_problems:
        return problems + manifest_problems
    return problems + _member_content_problems(archive, listed)


def _signature_problems(
    manifest: bytes,
    signature: bytes,
    embedded: bytes | None,
    public_key: Ed25519PublicKey | bytes | None,
) -> list[str]:
    try:
        expected = _as_key(public_key) if public_key is not None else None
        key = expected or (_as_key(embedded) if embedded is not None else None)
    except ValueError as exc:
        return [f"unusable public key: {exc}"]
    if key is None:
        return [f"missing member {_shown(PUBLIC_KEY)}, and no public key was given"]
    problems = []
    if (
        expected is not None
        and embedded is not None
        and embedded.strip() != public_key_pem(expected).strip()
    ):
        problems.append(f"{PUBLIC_KEY} is not the expected signing key")
    if not verify(key, manifest, signature):
        problems.append("bad signature: manifest.sig does not match manifest.json")
    return problems


def _as_key(key: Ed25519PublicKey | bytes) -> Ed25519PublicKey:
    return key if isinstance(key, Ed25519PublicKey) else load_public_key(key)


def _listed_members(manifest: bytes) -> tuple[dict[str, dict[str, Any]], list[str]]:
    try:
        document = json.loads(manifest)
    except (ValueError, RecursionError):
        return {}, ["manifest.json is not JSON"]
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return {}, ["manifest.json is not a Vigil referral package manifest"]
    if document.get("version") != FORMAT_VERSION:
        return {}, [f"unsupported package format version {document.get('version')!r:.20}"]
    members = document.get("members")
    if not isinstance(members, list):
        return {}, ["manifest.json lists no members"]
    listed: dict[str, dict[str, Any]] = {}
    for entry in members:
        if not _well_formed(entry):
            return {}, ["manifest.json has a malformed member entry"]
        if entry["path"] in listed or entry["path"] in UNSIGNED:
            return {}, [f"manifest.json lists {_shown(entry['path'])} twice or wrongly"]
        listed[entry["path"]] = entry
    return listed, []


def _well_formed(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("path"), str)
        and is_safe_member_name(entry["path"])
        and isinstance(entry.get("size"), int)
        and not isinstance(entry.get("size"), bool)
        and isinstance(entry.get("sha256"), str)
        and re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]) is not None
    )


def _member_content_problems(
    archive: zipfile.ZipFile, listed: dict[str, dict[str, Any]]
) -> list[str]:
    present = {info.filename: info for info in archive.infolist()}
    problems = [
        f"unlisted member {_shown(name)}"
        for name in sorted(present)
        if name not in listed and name not in UNSIGNED
    ]
    for path, entry in listed.items():
        info = present.get(path)
        if info is None:
            problems.append(f"missing member {_shown(path)}")
            continue
        digest = _digest(archive, info, entry["size"])
        if digest is None:
            problems.append(f"member {_shown(path)} cannot be read")
        elif digest != (entry["size"], entry["sha256"]):
            problems.append(f"altered member {_shown(path)}: size or SHA-256 differs")
    return problems


def _digest(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, expected_size: int
) -> tuple[int, str] | None:
    """(size, SHA-256) read in chunks, stopping one byte past what anyone claimed."""
    cap = max(info.file_size, expected_size) + 1
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(info) as member:
            while size < cap:
                chunk = member.read(min(_CHUNK, cap - size))
                if not chunk:
                    break
                digest.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError):
        return None
    return size, digest.hexdigest()


def _read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    info = archive.getinfo(name)
    if info.file_size > limit:
        return None
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError):
        return None
    return data if len(data) <= limit else None


def _shown(name: str) -> str:
    """A member name fit for a message: quoted, control characters escaped, cut short."""
    return repr(name[:80])
