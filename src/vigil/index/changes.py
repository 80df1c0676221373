"""Changes to the listed hashes, as the database feeds them, and their binary encoding.

Every change carries the database's sequence number; the index applies each once, in order,
and remembers the last one so a restart asks only for what came after. The database's feed
is state based (vigil.store.lists.change_feed.EntryChange): an ACTIVE entry becomes an ADD (an
upsert by entry id), any other status a REMOVE; ``Kind`` values equal its signal types.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from vigil.fingerprint.video import FrameHash
from vigil.index.codes import HASH_BYTES
from vigil.index.digest_index import DIGEST_BYTES
from vigil.index.distances import MAX_LIST_ID
from vigil.index.errors import InvalidHashError


class Kind(StrEnum):
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    PDQ = "pdq"
    VIDEO = "video_pdq"  # a listed video: its vPDQ frames

    @property
    def algorithm(self) -> str:
        return self.value


class Op(IntEnum):
    ADD = 1  # add, or replace what the entry had
    REMOVE = 2  # remove, disable or quarantine: gone from the next lookup
    MARK = 3  # nothing to change up to this seq (e.g. the feed's list changes)


_KIND_CODES = {Kind.PDQ: 1, Kind.MD5: 2, Kind.SHA1: 3, Kind.SHA256: 4, Kind.VIDEO: 5}
_CODE_KINDS = {code: kind for kind, code in _KIND_CODES.items()}


VALUE_BYTES = {
    Kind.PDQ: HASH_BYTES,
    Kind.MD5: DIGEST_BYTES["md5"],
    Kind.SHA1: DIGEST_BYTES["sha1"],
    Kind.SHA256: DIGEST_BYTES["sha256"],
    Kind.VIDEO: 0,
}


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    op: Op
    kind: Kind
    entry_id: int  # the database's id of the listed item; unique within a kind
    list_id: int = 0
    value: str = ""  # hex PDQ hash or digest (ADD of a photo hash or digest)
    frames: tuple[FrameHash, ...] = ()  # ADD of a video

    def __post_init__(self) -> None:
        if self.seq <= 0:
            raise ValueError("sequence numbers start at 1")
        if not 0 <= self.entry_id < 1 << 64:
            raise ValueError(f"entry id {self.entry_id} does not fit 64 bits")
        if not 0 <= self.list_id <= MAX_LIST_ID:
            raise ValueError(f"list id {self.list_id} outside 0..{MAX_LIST_ID}")
        if self.op is Op.ADD and self.kind is not Kind.VIDEO:
            _check_hex(self.value, VALUE_BYTES[self.kind])
        for frame in self.frames:
            _check_hex(frame.pdq, HASH_BYTES)

    @classmethod
    def add(cls, seq: int, kind: Kind, entry_id: int, list_id: int, value: str) -> Change:
        return cls(seq, Op.ADD, kind, entry_id, list_id, value.lower())

    @classmethod
    def add_video(
        cls, seq: int, entry_id: int, list_id: int, frames: tuple[FrameHash, ...]
    ) -> Change:
        return cls(seq, Op.ADD, Kind.VIDEO, entry_id, list_id, frames=tuple(frames))

    @classmethod
    def remove(cls, seq: int, kind: Kind, entry_id: int) -> Change:
        return cls(seq, Op.REMOVE, kind, entry_id)

    @classmethod
    def mark(cls, seq: int) -> Change:
        return cls(seq, Op.MARK, Kind.PDQ, 0)


def _check_hex(value: str, width: int) -> None:
    if len(value) != 2 * width:
        raise InvalidHashError(f"expected {2 * width} hex characters, got {value!r}")
    try:
        bytes.fromhex(value)
    except ValueError:
        raise InvalidHashError(f"not hex: {value!r}") from None


_HEAD = struct.Struct("<QBBQH")  # seq, op, kind, entry id, list id
_FRAME = struct.Struct("<dB32s")  # time, quality, PDQ bytes


def encode(change: Change) -> bytes:
    head = _HEAD.pack(
        change.seq, change.op, _KIND_CODES[change.kind], change.entry_id, change.list_id
    )
    if change.op is not Op.ADD:
        return head
    if change.kind is not Kind.VIDEO:
        return head + bytes.fromhex(change.value)
    frames = b"".join(_FRAME.pack(f.t, f.quality, bytes.fromhex(f.pdq)) for f in change.frames)
    return head + struct.pack("<I", len(change.frames)) + frames


def decode(payload: bytes) -> Change:
    """Inverse of ``encode``; raises ValueError on a payload of the wrong shape."""
    seq, op_code, kind_code, entry_id, list_id = _HEAD.unpack_from(payload)
    try:
        op, kind = Op(op_code), _CODE_KINDS[kind_code]
    except (ValueError, KeyError):
        raise ValueError(f"unknown op {op_code} or kind {kind_code}") from None
    body = payload[_HEAD.size :]
    if op is not Op.ADD:
        _expect(len(body) == 0)
        return Change(seq, op, kind, entry_id, list_id)
    if kind is not Kind.VIDEO:
        _expect(len(body) == VALUE_BYTES[kind])
        return Change(seq, op, kind, entry_id, list_id, body.hex())
    (count,) = struct.unpack_from("<I", body)
    _expect(len(body) == 4 + count * _FRAME.size)
    frames = tuple(
        FrameHash(t, pdq.hex(), quality) for t, quality, pdq in _FRAME.iter_unpack(body[4:])
    )
    return Change(seq, op, kind, entry_id, list_id, frames=frames)


def _expect(condition: bool) -> None:
    if not condition:
        raise ValueError("change payload has the wrong length")
