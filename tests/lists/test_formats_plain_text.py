"""Plain-text hash lists. Samples are written here from docs/list-formats.md."""

from __future__ import annotations

from tests.lists.format_samples import (
    as_stream,
    errors,
    md5_of,
    pdq_of,
    records,
    sha1_of,
    sha256_of,
    single_error,
)
from vigil.lists.formats import ListRecord, SignalType, VideoFrame, read_plain_text


def test_types_inferred_from_length_and_comments_skipped() -> None:
    text = (
        "# exported list\n"
        "\n"
        f"{md5_of(1).upper()}\r\n"
        f"  {sha1_of(1)}  # trailing comment\n"
        "   # indented comment\n"
    )
    items = list(read_plain_text(as_stream(text)))
    assert items == [
        ListRecord(SignalType.MD5, md5_of(1)),
        ListRecord(SignalType.SHA1, sha1_of(1)),
    ]
    assert [r.position for r in records(items)] == [3, 4]


def test_64_digit_lines_need_a_stated_type() -> None:
    text = f"{md5_of(1)}\n{sha256_of(1)}\n{md5_of(2)}\n"
    items = list(read_plain_text(as_stream(text)))
    [error] = errors(items)
    assert error.position == 2
    assert "sha256 or pdq" in error.message
    assert len(records(items)) == 2


def test_caller_type_applies_to_every_line() -> None:
    text = f"{pdq_of(1)}\n{md5_of(1)}\n"
    items = list(read_plain_text(as_stream(text), signal_type=SignalType.PDQ))
    assert records(items) == [ListRecord(SignalType.PDQ, pdq_of(1))]
    assert "64 hex digits" in errors(items)[0].message


def test_directive_lines_set_the_type_for_what_follows() -> None:
    text = (
        "# signal_type: sha256\n"
        f"{sha256_of(1)}\n"
        "#SIGNAL_TYPE:pdq\n"
        f"{pdq_of(1)}\n"
        "# signal_type: video_pdq\n"
        f"0:{pdq_of(2)};2.5:{pdq_of(3)}\n"
        "# signal_type: whirlpool\n"
    )
    items = list(read_plain_text(as_stream(text), signal_type=SignalType.MD5))
    assert records(items) == [
        ListRecord(SignalType.SHA256, sha256_of(1)),
        ListRecord(SignalType.PDQ, pdq_of(1)),
        ListRecord(SignalType.VIDEO_PDQ, (VideoFrame(pdq_of(2), 0.0), VideoFrame(pdq_of(3), 2.5))),
    ]
    [error] = errors(items)
    assert (error.position, "unknown signal type" in error.message) == (7, True)


def test_malformed_lines_are_reported_and_skipped() -> None:
    text = f"{md5_of(1)} extra-word\n{md5_of(2)[:-2]}zz\nnot a hash\n{'0' * 64}\n{md5_of(3)}\n"
    items = list(read_plain_text(as_stream(text), signal_type=None))
    assert [e.position for e in errors(items)] == [1, 2, 3, 4]
    assert records(items) == [ListRecord(SignalType.MD5, md5_of(3))]


def test_all_zero_pdq_refused_when_type_given() -> None:
    items = list(read_plain_text(as_stream("0" * 64 + "\n"), signal_type=SignalType.PDQ))
    assert "too small" in errors(items)[0].message


def test_empty_and_comment_only_files_yield_nothing() -> None:
    assert list(read_plain_text(as_stream(b""))) == []
    assert list(read_plain_text(as_stream("# nothing here\n\n"))) == []


def test_wrong_encodings_are_reported() -> None:
    latin1 = f"{md5_of(1)}  # caf\xe9\n".encode("latin-1")
    error = single_error(read_plain_text(as_stream(latin1)))
    assert "not UTF-8" in error.message
    utf16 = f"{md5_of(1)}\n".encode("utf-16")
    error = single_error(read_plain_text(as_stream(utf16)))
    assert "UTF-16" in error.message
    binary = b"\x00\x01\x02" + md5_of(1).encode() + b"\n"
    error = single_error(read_plain_text(as_stream(binary)))
    assert "NUL" in error.message


def test_truncated_last_line_is_still_checked() -> None:
    items = list(read_plain_text(as_stream(f"{md5_of(1)}\n{md5_of(2)[:20]}")))
    assert len(records(items)) == 1
    assert errors(items)[0].position == 2
