"""Project VIC VICS JSON, both shapes and both header styles, plus hostile JSON.

The sample documents are built here from the structure described in docs/list-formats.md
(OData-style ``value`` arrays of media items); none is copied from a real VICS export.
"""

from __future__ import annotations

import json

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
from vigil.lists.formats import ListRecord, SignalType, read_vics_json

V13_CONTEXT = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases"
V20_CASES = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
V20_MEDIA = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"


def _media(n: int, **extra: object) -> dict[str, object]:
    item: dict[str, object] = {
        "MediaID": n,
        "MD5": md5_of(n).upper(),
        "SHA1": sha1_of(n).upper(),
        "Category": 1,
        "MediaSize": 1234,
        "MediaFiles": [{"FileName": f"file{n}.jpg", "FilePath": "C:\\cases\\"}],
    }
    item.update(extra)
    return item


def _case_file(header: str, context: str, media: list[object]) -> bytes:
    case = {"CaseID": "00000000-0000-0000-0000-000000000001", "Media": media, "Notes": "x"}
    return json.dumps({header: context, "value": [case]}, indent=1).encode()


def _hash_set(media: list[object]) -> bytes:
    return json.dumps({"@odata.context": V20_MEDIA, "value": media}).encode()


def test_vics_13_case_file() -> None:
    data = _case_file("odata.metadata", V13_CONTEXT, [_media(1, Category=2), _media(2)])
    items = list(read_vics_json(as_stream(data)))
    assert items == [
        ListRecord(SignalType.MD5, md5_of(1), "1", "VICS-2"),
        ListRecord(SignalType.SHA1, sha1_of(1), "1", "VICS-2"),
        ListRecord(SignalType.MD5, md5_of(2), "2", "VICS-1"),
        ListRecord(SignalType.SHA1, sha1_of(2), "2", "VICS-1"),
    ]
    assert [r.position for r in records(items)] == [1, 1, 2, 2]


def test_vics_20_case_file_with_series_victim_and_alternative_hashes() -> None:
    media = _media(
        5,
        Series="Series 9",
        VictimIdentified="true",
        AlternativeHashes=[
            {"HashName": "SHA256", "HashValue": sha256_of(5)},
            {"HashName": "PDQ", "HashValue": pdq_of(5)},
            {"HashName": "PhotoDNA", "HashValue": "opaque"},
            {"HashName": "SHA1", "HashValue": sha1_of(5)},  # duplicate of SHA1 above
        ],
        Comments="free text that is deliberately not imported",
    )
    items = list(read_vics_json(as_stream(_case_file("@odata.context", V20_CASES, [media]))))
    assert items == [
        ListRecord(signal_type, signal, "5", "VICS-1", "Series 9", victim_identified=True)
        for signal_type, signal in [
            (SignalType.MD5, md5_of(5)),
            (SignalType.SHA1, sha1_of(5)),
            (SignalType.SHA256, sha256_of(5)),
            (SignalType.PDQ, pdq_of(5)),
        ]
    ]


def test_vics_20_hash_set_with_media_at_the_top_level() -> None:
    data = _hash_set([_media(1, SHA1=None), _media(2, Category=None, MD5="")])
    assert list(read_vics_json(as_stream(b"\xef\xbb\xbf" + data))) == [
        ListRecord(SignalType.MD5, md5_of(1), "1", "VICS-1"),
        ListRecord(SignalType.SHA1, sha1_of(2), "2", None),
    ]


def test_category_filter_keeps_only_wanted_items() -> None:
    data = _hash_set([_media(1, Category=0), _media(2, Category=1), _media(3, Category=None)])
    found = records(read_vics_json(as_stream(data), categories={1}))
    assert {r.external_id for r in found} == {"2"}


def test_bad_items_are_reported_and_the_rest_imports() -> None:
    media: list[object] = [
        _media(1, MD5=md5_of(1)[:-1]),  # one bad hash: the other still imports
        _media(2, Category="A"),
        _media(3, VictimIdentified="perhaps"),
        "not an object",
        _media(5, MD5=None, SHA1=None),
        _media(6, Category=4.0),
    ]
    items = list(read_vics_json(as_stream(_case_file("@odata.context", V20_CASES, media))))
    assert [(r.external_id, r.signal_type) for r in records(items)] == [
        ("1", SignalType.SHA1),
        ("6", SignalType.MD5),
        ("6", SignalType.SHA1),
    ]
    assert [e.position for e in errors(items)] == [1, 2, 3, 4, 5]
    messages = [e.message for e in errors(items)]
    assert "32 hex digits" in messages[0]
    assert "Category" in messages[1]
    assert "VictimIdentified" in messages[2]
    assert "not an object" in messages[3]
    assert "no usable" in messages[4]


def test_truncated_file_keeps_the_items_before_the_break() -> None:
    data = _hash_set([_media(n) for n in range(1, 6)])
    cut = data[: data.index(md5_of(4).upper().encode())]
    items = list(read_vics_json(as_stream(cut)))
    assert {r.external_id for r in records(items)} == {"1", "2", "3"}
    [error] = errors(items)
    assert (error.position, "malformed JSON" in error.message) == (4, True)


def test_structure_errors() -> None:
    cases = {
        b"": "malformed JSON",
        b"[1, 2]": "JSON object",
        b'{"value": 3}': "must be an array",
        b'{"value": {"Media": []}}': "must be an array",
        b'{"odata.metadata": "x"}': 'no "value" array',
        b'{"value": [' + b"[" * 100_000: "nested deeper",
        b'{"value": [{"MD5": "' + b"a" * (5 * 1024 * 1024) + b'"}]}': "spans more than",
        '{"value": [{"MD5": "caf\xe9"}]}'.encode("latin-1"): "malformed JSON",
        '{"value": []}'.encode("utf-16"): "malformed JSON",
    }
    for data, expected in cases.items():
        error = single_error(read_vics_json(as_stream(data)))
        assert expected in error.message, (data[:40], error)


def test_an_item_with_too_many_values_is_skipped() -> None:
    flood = _media(1, Exifs=[{"k": n} for n in range(30_000)])
    items = list(read_vics_json(as_stream(_hash_set([flood, _media(2)]))))
    assert "too large" in errors(items)[0].message
    assert {r.external_id for r in records(items)} == {"2"}


def test_an_item_repeating_a_key_is_refused() -> None:
    repeated = (
        b'{"value": [{"MediaID": 1, "MD5": "' + md5_of(1).encode() + b'", '
        b'"md5": "' + md5_of(2).encode() + b'"}, '
        b'{"MediaID": 2, "MD5": "' + md5_of(3).encode() + b'", "MediaFiles": [{"MD5": "x"}]}]}'
    )
    items = list(read_vics_json(as_stream(repeated)))
    assert [(e.position, e.message) for e in errors(items)] == [(1, "media item repeats a key")]
    assert [r.signal for r in records(items)] == [md5_of(3)]
