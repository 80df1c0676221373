"""The change records and their log encoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.fingerprint.video import FrameHash
from vigil.index.changes import Change, Kind, Op, decode, encode
from vigil.index.errors import InvalidHashError

hex_of = st.binary(min_size=32, max_size=32).map(bytes.hex)
frames = st.builds(FrameHash, st.floats(0, 1e5, allow_nan=False), hex_of, st.integers(0, 100))
common = {
    "seq": st.integers(1, 2**63),
    "entry_id": st.integers(0, 2**64 - 1),
    "list_id": st.integers(0, 0xFFFF),
}
changes = st.one_of(
    st.builds(Change.add, kind=st.just(Kind.PDQ), value=hex_of, **common),
    st.builds(
        Change.add,
        kind=st.just(Kind.SHA1),
        value=st.binary(min_size=20, max_size=20).map(bytes.hex),
        **common,
    ),
    st.builds(Change.add_video, frames=st.lists(frames, max_size=5).map(tuple), **common),
    st.builds(
        Change.remove, seq=common["seq"], entry_id=common["entry_id"], kind=st.sampled_from(Kind)
    ),
    st.builds(Change.mark, seq=common["seq"]),
)


@given(changes)
def test_encoding_round_trips(change: Change) -> None:
    assert decode(encode(change)) == change


def test_kinds_are_the_databases_signal_types() -> None:
    assert [k.value for k in Kind] == ["md5", "sha1", "sha256", "pdq", "video_pdq"]


def test_invalid_changes_are_refused() -> None:
    with pytest.raises(InvalidHashError):
        Change.add(1, Kind.MD5, 1, 0, "ab" * 20)
    with pytest.raises(ValueError):
        Change(0, Op.REMOVE, Kind.PDQ, 1)
    with pytest.raises(ValueError):
        Change.add(1, Kind.PDQ, 1, 70_000, "ab" * 32)
    with pytest.raises(ValueError):
        decode(encode(Change.remove(1, Kind.PDQ, 1)) + b"x")
