"""Cryptographic digests of file bytes, streamed so size never matters."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class CryptoDigests:
    md5: str
    sha1: str
    sha256: str
    size: int


def digest_stream(stream: BinaryIO) -> CryptoDigests:
    """MD5, SHA-1 and SHA-256 in one pass, a megabyte at a time."""
    md5, sha1, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha1(), hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        md5.update(chunk)
        sha1.update(chunk)
        sha256.update(chunk)
        size += len(chunk)
    return CryptoDigests(md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest(), size)


def digest_file(path: Path) -> CryptoDigests:
    with path.open("rb") as stream:
        return digest_stream(stream)


def digest_bytes(data: bytes) -> CryptoDigests:
    return CryptoDigests(
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
        hashlib.sha1(data).hexdigest(),
        hashlib.sha256(data).hexdigest(),
        len(data),
    )
