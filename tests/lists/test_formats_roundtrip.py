"""Writers and readers agree: what is written reads back as equal records."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.lists.format_samples import md5_of, pdq_of
from vigil.lists.formats import (
    ListRecord,
    SignalType,
    VideoFrame,
    read_csv,
    read_json_lines,
    read_list,
    read_plain_text,
    write_csv,
    write_json_lines,
    write_plain_text,
)
from vigil.lists.formats.fields import normalise_classification
from vigil.lists.formats.signals import HEX_LENGTH, SignalError, normalise_hex

_PRINTABLE = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cf", "Zl", "Zp"))


def _text(max_size: int, *, multiline: bool = False) -> st.SearchStrategy[str]:
    alphabet = st.one_of(_PRINTABLE, st.sampled_from("\n\t,\"'")) if multiline else _PRINTABLE
    return st.text(alphabet, min_size=1, max_size=max_size).map(str.strip).filter(bool)


def _valid_hex(signal_type: SignalType, value: str) -> bool:
    try:
        normalise_hex(signal_type, value)
    except SignalError:
        return False
    return True


def _hex(signal_type: SignalType) -> st.SearchStrategy[str]:
    digits = HEX_LENGTH[signal_type]
    return (
        st.binary(min_size=digits // 2, max_size=digits // 2)
        .map(bytes.hex)
        .filter(lambda value: _valid_hex(signal_type, value))
    )


_FRAMES = st.lists(
    st.builds(
        VideoFrame,
        _hex(SignalType.PDQ),
        st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False),
    ),
    min_size=1,
    max_size=5,
).map(tuple)


@st.composite
def _signals(draw: st.DrawFn) -> tuple[SignalType, object]:
    signal_type = draw(st.sampled_from(SignalType))
    if signal_type is SignalType.VIDEO_PDQ:
        return signal_type, draw(_FRAMES)
    return signal_type, draw(_hex(signal_type))


_CLASSIFICATIONS = st.sampled_from(["A1", "A2", "B1", "B2", "UK-A", "UK-C", "VICS-0"]) | _text(
    30
).filter(lambda text: normalise_classification(text) == text)


@st.composite
def _records(draw: st.DrawFn, *, metadata: bool = True) -> ListRecord:
    signal_type, signal = draw(_signals())
    if not metadata:
        return ListRecord(signal_type, signal)  # type: ignore[arg-type]
    external_id = draw(st.none() | _text(40))
    deleted = draw(st.booleans())
    if deleted and external_id and draw(st.booleans()):
        signal_type, signal = None, None  # type: ignore[assignment]  # deletion by id
    return ListRecord(
        signal_type,
        signal,  # type: ignore[arg-type]
        external_id,
        draw(st.none() | _CLASSIFICATIONS),
        draw(st.none() | _text(40)),
        draw(st.none() | st.booleans()),
        draw(st.none() | _text(200, multiline=True)),
        deleted,
    )


def _round_trip(write, read, records: list[ListRecord]) -> list[object]:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    assert write(records, out) == len(records)
    return list(read(io.BytesIO(out.getvalue().encode("utf-8"))))


@settings(max_examples=60, deadline=None)
@given(st.lists(_records(), max_size=8))
def test_csv_round_trip(records: list[ListRecord]) -> None:
    assert _round_trip(write_csv, read_csv, records) == records


@settings(max_examples=60, deadline=None)
@given(st.lists(_records(), max_size=8))
def test_json_lines_round_trip(records: list[ListRecord]) -> None:
    assert _round_trip(write_json_lines, read_json_lines, records) == records


@settings(max_examples=60, deadline=None)
@given(st.lists(_records(metadata=False), max_size=8))
def test_plain_text_round_trip_keeps_sha256_and_pdq_apart(records: list[ListRecord]) -> None:
    assert _round_trip(write_plain_text, read_plain_text, records) == records


@settings(max_examples=30, deadline=None)
@given(st.lists(_records(), min_size=1, max_size=4))
def test_exports_are_detected_as_what_they_are(records: list[ListRecord]) -> None:
    for write in (write_csv, write_json_lines):
        out = io.StringIO()
        write(records, out)
        assert list(read_list(io.BytesIO(out.getvalue().encode()))) == records


def test_plain_text_cannot_carry_a_deletion() -> None:
    with pytest.raises(ValueError, match="deletion"):
        write_plain_text([ListRecord(None, None, "x", deleted=True)], io.StringIO())


def test_csv_export_layout() -> None:
    out = io.StringIO()
    write_csv(
        [
            ListRecord(SignalType.MD5, md5_of(1), "id", "A1", None, True, 'say "hi"'),
            ListRecord(SignalType.VIDEO_PDQ, (VideoFrame(pdq_of(1), 0.5),)),
        ],
        out,
    )
    assert out.getvalue().splitlines() == [
        "signal_type,signal,external_id,classification,series,victim_identified,note,deleted",
        f'md5,{md5_of(1)},id,A1,,true,"say ""hi""",',
        f"video_pdq,0.5:{pdq_of(1)},,,,,,",
    ]
