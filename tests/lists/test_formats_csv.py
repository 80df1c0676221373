"""Vigil CSV lists. Samples are written here from docs/list-formats.md, hashes generated."""

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
    warnings_of,
)
from vigil.lists.formats import ListRecord, SignalType, VideoFrame, read_csv


def test_full_sample_with_every_column() -> None:
    text = (
        "signal_type,signal,external_id,classification,series,victim_identified,note,deleted\n"
        f"md5,{md5_of(1).upper()},e-1,a1,Series One,yes,first,\n"
        f"sha1,{sha1_of(1)},e-2,Category B,,No,,false\n"
        f"sha256,{sha256_of(1)},e-3,,,,,\n"
        f"pdq,{pdq_of(1)},,vics 2,,,,\n"
        f'video_pdq,"0:{pdq_of(2)};1.5:{pdq_of(3)}",v-1,,,,,\n'
        ",,e-9,,,,,true\n"
    )
    items = list(read_csv(as_stream(text)))
    assert errors(items) == []
    assert records(items) == [
        ListRecord(SignalType.MD5, md5_of(1), "e-1", "A1", "Series One", True, "first"),
        ListRecord(SignalType.SHA1, sha1_of(1), "e-2", "UK-B", None, False),
        ListRecord(SignalType.SHA256, sha256_of(1), "e-3"),
        ListRecord(SignalType.PDQ, pdq_of(1), None, "VICS-2"),
        ListRecord(
            SignalType.VIDEO_PDQ,
            (VideoFrame(pdq_of(2), 0.0), VideoFrame(pdq_of(3), 1.5)),
            "v-1",
        ),
        ListRecord(None, None, "e-9", deleted=True),
    ]
    assert [record.position for record in records(items)] == [2, 3, 4, 5, 6, 7]


def test_column_order_bom_crlf_and_case_are_accepted() -> None:
    text = f"\ufeffExternal_ID , Signal,SIGNAL_TYPE\r\nx,{md5_of(2)},MD5\r\n"
    assert records(read_csv(as_stream(text))) == [
        ListRecord(SignalType.MD5, md5_of(2), "x"),
    ]


def test_unknown_columns_are_ignored_with_one_warning() -> None:
    text = f"signal_type,signal,colour\nmd5,{md5_of(3)},blue\nmd5,{md5_of(4)},red\n"
    items = list(read_csv(as_stream(text)))
    assert len(records(items)) == 2
    [warning] = warnings_of(items)
    assert (warning.position, warning.message) == (1, "unknown columns ignored: colour")


def test_bad_rows_are_reported_with_their_lines_and_the_rest_imports() -> None:
    text = (
        "signal_type,signal,external_id\n"
        f"md5,{md5_of(1)},ok-1\n"
        f"md5,{sha1_of(1)},wrong-length\n"  # line 3
        f"sha512,{md5_of(2)},unknown-type\n"  # line 4
        "\n"
        f"pdq,{'0' * 64},zero-pdq\n"  # line 6
        f"md5,{md5_of(3)}\n"  # line 7: a field short
        f"md5,{md5_of(4)},ok-2\n"
    )
    items = list(read_csv(as_stream(text)))
    assert [r.external_id for r in records(items)] == ["ok-1", "ok-2"]
    reported = errors(items)
    assert [e.position for e in reported] == [3, 4, 6, 7]
    assert "32 hex digits" in reported[0].message
    assert "unknown signal type" in reported[1].message
    assert "too small" in reported[2].message
    assert "2 fields" in reported[3].message
    assert reported[0].raw_excerpt.startswith("md5,")


def test_a_bad_metadata_field_rejects_its_row() -> None:
    text = f"signal_type,signal,victim_identified\nmd5,{md5_of(1)},perhaps\n"
    [error] = errors(read_csv(as_stream(text)))
    assert error.position == 2
    assert "victim_identified" in error.message


def test_quoted_note_may_span_lines() -> None:
    text = f'signal_type,signal,note\nmd5,{md5_of(1)},"line one\nline, two"\nmd5,{md5_of(2)},\n'
    found = records(read_csv(as_stream(text)))
    assert [r.note for r in found] == ["line one\nline, two", None]
    assert [r.position for r in found] == [2, 4]


def test_unterminated_quote_costs_one_line() -> None:
    text = (
        "signal_type,signal,note\n"
        f'md5,{md5_of(1)},"never closed\n'
        f"md5,{md5_of(2)},fine\n"
        f"md5,{md5_of(3)},fine\n"
    )
    items = list(read_csv(as_stream(text)))
    [error] = errors(items)
    assert error.position == 2
    assert "quoted field" in error.message
    assert [r.signal for r in records(items)] == [md5_of(2), md5_of(3)]


def test_overlong_record_in_quotes_gives_up_and_reads_on() -> None:
    text = (
        "signal_type,signal,note\n"
        f'md5,{md5_of(1)},"{"x" * 50}\n' + "y" * 60 + "\n" + f"md5,{md5_of(2)},after\n"
    )
    items = list(read_csv(as_stream(text), max_line_bytes=100))
    # Line 3 is then read on its own, and is a bad row in its own right.
    assert [e.position for e in errors(items)] == [2, 3]
    assert records(items)[-1].signal == md5_of(2)


def test_overlong_and_undecodable_lines_are_reported() -> None:
    data = (
        b"signal_type,signal\n"
        + b"md5,"
        + b"a" * 5000
        + b"\n"
        + b"md5,\xff\xfe"
        + md5_of(1).encode()
        + b"\n"
        + b"md5,"
        + md5_of(2).encode()
        + b"\n"
    )
    items = list(read_csv(as_stream(data), max_line_bytes=1000))
    assert [(e.position, e.message.split()[0]) for e in errors(items)] == [
        (2, "line"),
        (3, "not"),
    ]
    assert [r.signal for r in records(items)] == [md5_of(2)]


def test_strict_quoting_errors_are_reported() -> None:
    text = f'signal_type,signal\nmd5,"{md5_of(1)}"x\nmd5,{md5_of(2)}\n'
    items = list(read_csv(as_stream(text)))
    assert [e.position for e in errors(items)] == [2]
    assert len(records(items)) == 1


def test_stray_quotes_do_not_take_neighbouring_rows_with_them() -> None:
    text = (
        "signal_type,signal,note\n"
        f'md5,{md5_of(1)},6" tall\n'
        f"md5,{md5_of(2)},fine\n"
        f'md5,{md5_of(3)},7" wide\n'
        f"md5,{md5_of(4)},fine\n"
    )
    items = list(read_csv(as_stream(text)))
    assert [e.position for e in errors(items)] == [2, 4]
    assert [r.position for r in records(items)] == [3, 5]


def test_empty_file_and_bad_headers() -> None:
    empty = single_error(read_csv(as_stream(b"")))
    assert empty.position == 0
    assert "empty file" in empty.message
    missing = single_error(read_csv(as_stream(f"signal,external_id\n{md5_of(1)},x\n")))
    assert "signal_type" in missing.message
    duplicate = single_error(read_csv(as_stream("signal_type,signal,signal\n")))
    assert "duplicate" in duplicate.message


def test_truncated_file_keeps_complete_rows() -> None:
    text = f"signal_type,signal\nmd5,{md5_of(1)}\nmd5,{md5_of(2)[:10]}"
    items = list(read_csv(as_stream(text)))
    assert [r.signal for r in records(items)] == [md5_of(1)]
    assert [e.position for e in errors(items)] == [3]


def test_utf16_file_is_refused_once() -> None:
    data = f"signal_type,signal\nmd5,{md5_of(1)}\n".encode("utf-16")
    error = single_error(read_csv(as_stream(data)))
    assert "UTF-16" in error.message
