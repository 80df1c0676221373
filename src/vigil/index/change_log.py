"""The append-only log of changes applied since a snapshot.

File: a 24-byte header (magic, the snapshot's sequence number, CRC-32 of both), then
records of [payload length u32][CRC-32 of payload u32][payload] (payload: changes.encode).
A batch of changes is one write() call, so readers tailing the log never see a record
whose bytes are not all there yet except at the very end of the file.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil.core.files import write_atomically
from vigil.index.changes import Change, decode, encode
from vigil.index.errors import CorruptIndexError

MAGIC = b"VIGILOG1"
_HEADER = struct.Struct("<8sQI")
_RECORD = struct.Struct("<II")
HEADER_BYTES = _HEADER.size
MAX_RECORD = 64 << 20  # a video of hours at one frame a second is well under this


@dataclass(frozen=True, slots=True)
class LogRead:
    changes: list[Change]
    end: int  # offset after the last complete record
    complete: bool  # False: the file ends inside a record


class ChangeLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.base_seq = self._read_header()

    @classmethod
    def create(cls, path: Path, base_seq: int) -> ChangeLog:
        """A new empty log following the snapshot at ``base_seq``, written atomically."""
        head = struct.pack("<8sQ", MAGIC, base_seq)
        # Named like the log, so snapshot.remove_stale sweeps up one a crash left behind.
        write_atomically(
            path, _HEADER.pack(MAGIC, base_seq, zlib.crc32(head)), temporary_prefix=f"{path.name}."
        )
        return cls(path)

    def _read_header(self) -> int:
        with self.path.open("rb") as source:
            raw = source.read(HEADER_BYTES)
        if len(raw) != HEADER_BYTES:
            raise CorruptIndexError(str(self.path), "change log header is truncated")
        magic, base_seq, crc = _HEADER.unpack(raw)
        if magic != MAGIC or zlib.crc32(raw[:16]) != crc:
            raise CorruptIndexError(str(self.path), "change log header checksum mismatch")
        return int(base_seq)

    def read(
        self, start: int = HEADER_BYTES, *, strict: bool = True, after_seq: int | None = None
    ) -> LogRead:
        """Records from byte ``start``. A torn final record raises when ``strict`` (opening
        after a crash) and is left for later otherwise (tailing a log being written)."""
        with self.path.open("rb") as source:
            source.seek(start)
            data = source.read()
        last = self.base_seq if after_seq is None else after_seq
        changes: list[Change] = []
        offset = 0
        while offset < len(data):
            if offset + _RECORD.size > len(data):
                return self._torn(start + offset, changes, strict, last)
            length, crc = _RECORD.unpack_from(data, offset)
            if length > MAX_RECORD:
                raise CorruptIndexError(
                    str(self.path), f"bad record length at byte {start + offset}", last
                )
            payload = data[offset + _RECORD.size : offset + _RECORD.size + length]
            if len(payload) < length:
                return self._torn(start + offset, changes, strict, last)
            change = self._decode(payload, crc, start + offset, last)
            changes.append(change)
            last = change.seq
            offset += _RECORD.size + length
        return LogRead(changes, start + offset, True)

    def _torn(self, offset: int, changes: list[Change], strict: bool, last: int) -> LogRead:
        if strict:
            raise CorruptIndexError(str(self.path), f"change log truncated at byte {offset}", last)
        return LogRead(changes, offset, False)

    def _decode(self, payload: bytes, crc: int, offset: int, last: int) -> Change:
        if zlib.crc32(payload) != crc:
            raise CorruptIndexError(
                str(self.path), f"record checksum mismatch at byte {offset}", last
            )
        try:
            change = decode(payload)
        except ValueError as exc:
            raise CorruptIndexError(
                str(self.path), f"bad record at byte {offset}: {exc}", last
            ) from None
        if change.seq <= last:
            raise CorruptIndexError(
                str(self.path), f"sequence goes back to {change.seq} at byte {offset}", last
            )
        return change

    def append(self, changes: Sequence[Change], *, sync: bool = False) -> None:
        """Append in one write; ``sync`` also waits for the disk (the database can replay
        anything lost, so the default trades that wait away)."""
        if not changes:
            return
        blob = b"".join(_record(encode(c)) for c in changes)
        with self.path.open("ab") as out:
            out.write(blob)
            out.flush()
            if sync:
                os.fsync(out.fileno())

    def truncate(self, end: int) -> None:
        """Cut a torn tail found by ``read`` (the database replays what followed)."""
        with self.path.open("r+b") as out:
            out.truncate(end)


def _record(payload: bytes) -> bytes:
    return _RECORD.pack(len(payload), zlib.crc32(payload)) + payload
