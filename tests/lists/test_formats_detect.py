"""Format detection from a file's head, and the read_list entry point built on it."""

from __future__ import annotations

import json

import pytest

from tests.lists.format_samples import (
    as_stream,
    buffered,
    errors,
    md5_of,
    pdq_of,
    records,
    sha1_of,
)
from vigil.lists.formats import (
    FormatNotRecognised,
    ListFormat,
    ListRecord,
    RecordError,
    SignalType,
    detect_format,
    read_list,
)

# Heads written from the format descriptions in docs/list-formats.md.
HEADS: dict[bytes, ListFormat] = {
    f"signal_type,signal,external_id\nmd5,{md5_of(1)},x\n".encode(): ListFormat.CSV,
    "\ufeffexternal_id,SIGNAL,signal_type\r\n".encode(): ListFormat.CSV,
    f"{md5_of(1)}\n{sha1_of(1)}\n".encode(): ListFormat.PLAIN_TEXT,
    f"# list of hashes\n\n{md5_of(1).upper()}  # one\n".encode(): ListFormat.PLAIN_TEXT,
    f"# signal_type: video_pdq\n0:{pdq_of(1)};1.5:{pdq_of(2)}\n".encode(): ListFormat.PLAIN_TEXT,
    b"# only a comment\n": ListFormat.PLAIN_TEXT,
    # A note quoting a VICS marker must not turn JSON lines into a VICS file.
    (
        json.dumps({"signal_type": "md5", "signal": md5_of(1), "note": "ProjectVic"}) + "\n"
    ).encode(): (ListFormat.JSON_LINES),
    (json.dumps({"external_id": "x", "deleted": True}) + "\n").encode(): ListFormat.JSON_LINES,
    (json.dumps({"signal_type": "md5", "signal": md5_of(1)}) + "\n").encode(): (
        ListFormat.JSON_LINES
    ),
    b'<?xml version="1.0"?>\n<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">': (
        ListFormat.NCMEC_XML
    ),
    b'{"odata.metadata":"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases","value":[': (
        ListFormat.VICS_JSON
    ),
    b'{\n  "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml': (
        ListFormat.VICS_JSON
    ),
    b'{\n  "value": [\n    {"MD5": "': ListFormat.VICS_JSON,
    b"signal_type,signal_str,collab,category,tags\r\npdq,": ListFormat.THREATEXCHANGE_CSV,
    b"collab,signal_type,signal_str,category,tags\n": ListFormat.THREATEXCHANGE_CSV,
}


@pytest.mark.parametrize(("head", "expected"), HEADS.items())
def test_each_format_is_detected(head: bytes, expected: ListFormat) -> None:
    assert detect_format(head) is expected


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        ("signal_type,signal\n".encode("utf-16"), "UTF-16"),
        (b"<html><body>", "XML, but"),
        (b'{"name": "not a list"}\n', "JSON, but"),
        (b"name,colour\nx,y\n", "text, but"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "text, but"),
        (b'{"a":' + b"[" * 100_000, "JSON, but"),
    ],
)
def test_unrecognised_heads_say_why(head: bytes, reason: str) -> None:
    with pytest.raises(FormatNotRecognised, match=reason):
        detect_format(head)


def test_read_list_detects_and_reads_a_one_way_stream() -> None:
    body = f"signal_type,signal\nmd5,{md5_of(1)}\n".encode()
    stream, _ = buffered([body[:7], body[7:]])  # detection must not lose the first bytes
    assert list(read_list(stream)) == [ListRecord(SignalType.MD5, md5_of(1))]


def test_read_list_plain_text_type_and_format_checks() -> None:
    text = f"{pdq_of(1)}\n"
    assert records(read_list(as_stream(text), signal_type=SignalType.PDQ)) == [
        ListRecord(SignalType.PDQ, pdq_of(1))
    ]
    with pytest.raises(ValueError, match="plain text"):
        list(read_list(as_stream(text), ListFormat.CSV, signal_type=SignalType.PDQ))


def test_read_list_reports_an_unknown_format_once() -> None:
    assert list(read_list(as_stream(b"<html/>"))) == [
        RecordError(0, "format not recognised: XML, but not an NCMEC hash-sharing queryResult page")
    ]


def test_read_list_stops_after_max_errors() -> None:
    text = "".join(f"not-a-hash-{n}\n" for n in range(50)) + f"{md5_of(1)}\n"
    items = list(read_list(as_stream(text), ListFormat.PLAIN_TEXT, max_errors=5))
    assert len(items) == 6
    assert items[-1].message == "stopped after 5 errors"  # type: ignore[union-attr]
    assert len(errors(read_list(as_stream(text), ListFormat.PLAIN_TEXT, max_errors=None))) == 50
