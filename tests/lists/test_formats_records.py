"""Validation shared by all formats: hashes, signal types, video frames, metadata fields."""

from __future__ import annotations

import hashlib

import pytest

from tests.lists.format_samples import md5_of, pdq_of, sha1_of, sha256_of
from vigil.lists.formats import ListRecord, SignalType, VideoFrame
from vigil.lists.formats.fields import (
    FieldError,
    identifier,
    normalise_classification,
    optional_text,
    parse_flag,
)
from vigil.lists.formats.records import excerpt
from vigil.lists.formats.signals import (
    SignalError,
    frames_from_json,
    frames_from_text,
    normalise_hex,
    signal_text,
    signal_type_named,
    type_from_hex_length,
)


@pytest.mark.parametrize(
    ("signal_type", "value"),
    [
        (SignalType.MD5, md5_of(1)),
        (SignalType.SHA1, sha1_of(1)),
        (SignalType.SHA256, sha256_of(1)),
        (SignalType.PDQ, pdq_of(1)),
    ],
)
def test_hex_is_lowercased_and_stripped(signal_type: SignalType, value: str) -> None:
    assert normalise_hex(signal_type, f"  {value.upper()}\t") == value


@pytest.mark.parametrize(
    ("signal_type", "value", "reason"),
    [
        (SignalType.MD5, md5_of(1)[:-1], "32 hex digits"),
        (SignalType.SHA1, md5_of(1), "40 hex digits"),
        (SignalType.PDQ, sha1_of(1), "64 hex digits"),
        (SignalType.MD5, "g" + md5_of(1)[1:], "not hex"),
        (SignalType.MD5, "\uff10" + md5_of(1)[1:], "not hex"),  # a full-width zero
        (SignalType.PDQ, "0" * 64, "too small"),
        (SignalType.MD5, hashlib.md5(b"").hexdigest(), "empty input"),
        (SignalType.SHA1, hashlib.sha1(b"").hexdigest(), "empty input"),
        (SignalType.SHA256, hashlib.sha256(b"").hexdigest(), "empty input"),
    ],
)
def test_bad_hashes_are_refused(signal_type: SignalType, value: str, reason: str) -> None:
    with pytest.raises(SignalError, match=reason):
        normalise_hex(signal_type, value)


def test_signal_type_names_and_aliases() -> None:
    assert signal_type_named(" SHA-256 ") is SignalType.SHA256
    assert signal_type_named("vpdq") is SignalType.VIDEO_PDQ
    with pytest.raises(SignalError, match="unknown signal type 'photodna'"):
        signal_type_named("photodna")


def test_length_inference_refuses_64_digits() -> None:
    assert type_from_hex_length(md5_of(1)) is SignalType.MD5
    assert type_from_hex_length(sha1_of(1)) is SignalType.SHA1
    with pytest.raises(SignalError, match="sha256 or pdq"):
        type_from_hex_length(sha256_of(1))
    with pytest.raises(SignalError, match="not the length"):
        type_from_hex_length("abc")


def test_video_frames_round_trip_through_text() -> None:
    frames = (
        VideoFrame(pdq_of(1), 0.0),
        VideoFrame(pdq_of(2), 1e-05),  # repr writes an exponent
        VideoFrame(pdq_of(3), 0.002117606176160222),  # and here 18 decimal places
        VideoFrame(pdq_of(4)),
    )
    assert frames_from_text(signal_text(frames)) == frames


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no frames"),
        (f"nan:{pdq_of(1)}", "not decimal seconds"),
        (f"-1:{pdq_of(1)}", "not decimal seconds"),
        (f"1e9:{pdq_of(1)}", "out of range"),
        (f"1:{'0' * 64}", "too small"),
        (f"1:{md5_of(1)}", "64 hex digits"),
    ],
)
def test_bad_video_frames_are_refused(text: str, reason: str) -> None:
    with pytest.raises(SignalError, match=reason):
        frames_from_text(text)


def test_video_frames_from_json_objects_and_strings() -> None:
    parsed = frames_from_json([{"pdq": pdq_of(1), "timestamp": 2}, pdq_of(2)])
    assert parsed == (VideoFrame(pdq_of(1), 2.0), VideoFrame(pdq_of(2)))
    with pytest.raises(SignalError):
        frames_from_json([{"pdq": pdq_of(1), "extra": 1}])
    with pytest.raises(SignalError):
        frames_from_json([{"pdq": pdq_of(1), "timestamp": True}])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("a1", "A1"),
        (" B 2 ", "B2"),
        ("Category A", "UK-A"),
        ("uk_cat_c", "UK-C"),
        ("UK B", "UK-B"),
        ("vics:1", "VICS-1"),
        ("VICS category 03", "VICS-3"),
        ("A", "A"),  # the industry letter without its age digit is not a UK category
        ("some free text", "some free text"),
        ("", None),
        (None, None),
        (7, "7"),
    ],
)
def test_classification_spellings(given: object, expected: str | None) -> None:
    assert normalise_classification(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Yes", True),
        ("y", True),
        ("TRUE", True),
        ("1", True),
        (1, True),
        (True, True),
        ("no", False),
        ("F", False),
        ("0", False),
        (False, False),
        ("", None),
        ("unknown", None),
        (None, None),
    ],
)
def test_flag_spellings(given: object, expected: bool | None) -> None:
    assert parse_flag(given, "victim_identified") is expected


@pytest.mark.parametrize("given", ["maybe", 2, 1.5, ["yes"]])
def test_unknown_flags_are_refused(given: object) -> None:
    with pytest.raises(FieldError, match="victim_identified"):
        parse_flag(given, "victim_identified")


def test_text_fields_are_bounded_and_refuse_controls() -> None:
    assert optional_text("  series one ", "series", 20) == "series one"
    assert optional_text("line one\r\nline two", "note", 100, multiline=True) == (
        "line one\nline two"
    )
    with pytest.raises(FieldError, match="limit"):
        optional_text("x" * 21, "series", 20)
    with pytest.raises(FieldError, match="control"):
        optional_text("bad\x1b[31m", "series", 20)
    with pytest.raises(FieldError, match="control"):
        optional_text("file\u202egpj.exe", "series", 20)
    with pytest.raises(FieldError, match="control"):
        optional_text("two\nlines", "series", 20)
    with pytest.raises(FieldError, match="text"):
        optional_text(["list"], "series", 20)


def test_identifiers_accept_whole_numbers_only() -> None:
    assert identifier(42) == "42"
    assert identifier(" id-7 ") == "id-7"
    with pytest.raises(FieldError):
        identifier(True)
    with pytest.raises(FieldError):
        identifier(1.5)


def test_excerpt_is_short_and_printable() -> None:
    shown = excerpt(b"\x1b[2J" + b"\xff" * 10 + b"x" * 500)
    assert shown.isprintable()
    assert len(shown) <= 123
    assert shown.endswith("...")


def test_record_invariants() -> None:
    ListRecord(None, None, external_id="42", deleted=True)
    with pytest.raises(ValueError, match="deletion"):
        ListRecord(None, None, external_id="42")
    with pytest.raises(ValueError, match="together"):
        ListRecord(SignalType.MD5, None)
    with pytest.raises(ValueError, match="frame tuples"):
        ListRecord(SignalType.VIDEO_PDQ, pdq_of(1))


def test_position_takes_no_part_in_equality() -> None:
    first = ListRecord(SignalType.MD5, md5_of(1), position=3)
    assert first == ListRecord(SignalType.MD5, md5_of(1), position=9)
