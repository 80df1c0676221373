"""JSON-lines lists. Samples are written here from docs/list-formats.md."""

from __future__ import annotations

import json

from tests.lists.format_samples import (
    as_stream,
    errors,
    md5_of,
    pdq_of,
    records,
    sha1_of,
    warnings_of,
)
from vigil.lists.formats import ListRecord, SignalType, VideoFrame, read_json_lines


def _lines(*objects: object) -> str:
    return "".join(json.dumps(item) + "\n" for item in objects)


def test_objects_with_every_field() -> None:
    text = _lines(
        {
            "signal_type": "md5",
            "signal": md5_of(1),
            "external_id": 17,
            "classification": "b1",
            "series": "S",
            "victim_identified": True,
            "note": "n",
        },
        {"signal_type": "video_pdq", "signal": [{"pdq": pdq_of(1), "timestamp": 0.5}]},
        {"signal_type": "pdq", "signal": pdq_of(2), "victim_identified": "no"},
        {"external_id": "gone", "deleted": True},
    )
    assert list(read_json_lines(as_stream(text))) == [
        ListRecord(SignalType.MD5, md5_of(1), "17", "B1", "S", True, "n"),
        ListRecord(SignalType.VIDEO_PDQ, (VideoFrame(pdq_of(1), 0.5),)),
        ListRecord(SignalType.PDQ, pdq_of(2), victim_identified=False),
        ListRecord(None, None, "gone", deleted=True),
    ]


def test_bad_lines_are_reported_with_positions_and_the_rest_imports() -> None:
    good = {"signal_type": "sha1", "signal": sha1_of(1)}
    text = (
        _lines(good)
        + '{"signal_type": "md5", "signal": \n'  # 2: truncated object
        + "[1, 2]\n"  # 3: not an object
        + f'{{"signal_type": "md5", "signal": "{md5_of(1)}", "signal": "{md5_of(2)}"}}\n'
        + _lines({"signal_type": "md5", "signal": 5})  # 5: wrong type
        + _lines({"signal_type": "md5", "signal": md5_of(3), "note": {"nested": 1}})  # 6
        + "\n"
        + "[" * 100_000
        + "\n"  # 8: nested past the decoder's recursion limit
        + "{"
        + '"a":' * 3
        + "1" * 5000
        + "}}}\n"  # 9: an integer past the digit limit
        + _lines(good)
    )
    items = list(read_json_lines(as_stream(text)))
    assert [e.position for e in errors(items)] == [2, 3, 4, 5, 6, 8, 9]
    messages = [e.message for e in errors(items)]
    assert "bad JSON" in messages[0]
    assert "object" in messages[1]
    assert "duplicate key" in messages[2]
    assert "must be a string" in messages[3]
    assert "note must be text" in messages[4]
    assert [r.position for r in records(items)] == [1, 10]


def test_unknown_keys_warn_once_each() -> None:
    text = _lines(
        {"signal_type": "md5", "signal": md5_of(1), "colour": "x"},
        {"signal_type": "md5", "signal": md5_of(2), "colour": "y", "size": 3},
    )
    items = list(read_json_lines(as_stream(text)))
    assert [(w.position, w.message) for w in warnings_of(items)] == [
        (1, "unknown key 'colour' ignored"),
        (2, "unknown key 'size' ignored"),
    ]
    assert len(records(items)) == 2


def test_empty_file_yields_nothing() -> None:
    assert list(read_json_lines(as_stream(b"\n\n"))) == []
