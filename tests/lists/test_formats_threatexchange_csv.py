"""CSV from ``threatexchange dataset -P --csv``.

Samples are written here from the column list described in docs/list-formats.md (the
columns that command's CSV writer names); no file it produced is copied.
"""

from __future__ import annotations

from tests.lists.format_samples import (
    as_stream,
    errors,
    md5_of,
    pdq_of,
    records,
    sha256_of,
    single_error,
)
from vigil.lists.formats import ListRecord, SignalType, read_threatexchange_csv

HEADER = "signal_type,signal_str,collab,category,tags\r\n"


def test_signal_types_map_to_ours() -> None:
    text = (
        HEADER
        + f"pdq,{pdq_of(1)},NCMEC Industry,POSITIVE_CLASS,A1\r\n"
        + f"video_md5,{md5_of(1)},Sample,POSITIVE_CLASS,\r\n"
        + f"photo_md5,{md5_of(2)},Sample,TRUE_POSITIVE,tag-x b2\r\n"
        + f"video_sha256,{sha256_of(1)},,,\r\n"
    )
    assert list(read_threatexchange_csv(as_stream(text))) == [
        ListRecord(SignalType.PDQ, pdq_of(1), None, "A1", note="collab: NCMEC Industry; tags: A1"),
        ListRecord(SignalType.MD5, md5_of(1), note="collab: Sample"),
        ListRecord(SignalType.MD5, md5_of(2), None, "B2", note="collab: Sample; tags: tag-x b2"),
        ListRecord(SignalType.SHA256, sha256_of(1)),
    ]


def test_older_column_order_is_accepted() -> None:
    text = f"collab,signal_type,signal_str,category,tags\nC,pdq,{pdq_of(2)},POSITIVE_CLASS,\n"
    assert records(read_threatexchange_csv(as_stream(text))) == [
        ListRecord(SignalType.PDQ, pdq_of(2), note="collab: C"),
    ]


def test_non_media_and_unknown_types_are_reported() -> None:
    text = (
        HEADER
        + f"url_md5,{md5_of(1)},C,POSITIVE_CLASS,\r\n"
        + "raw_text,some words,C,POSITIVE_CLASS,\r\n"
        + "video_tmk_pdqf,abc,C,POSITIVE_CLASS,\r\n"
        + f"pdq,{pdq_of(3)},C,POSITIVE_CLASS,\r\n"
    )
    items = list(read_threatexchange_csv(as_stream(text)))
    assert [e.position for e in errors(items)] == [2, 3, 4]
    assert "does not hash a media file" in errors(items)[0].message
    assert "unsupported" in errors(items)[2].message
    assert [r.signal for r in records(items)] == [pdq_of(3)]


def test_negative_and_unconfirmed_opinions_are_not_imported_by_default() -> None:
    text = (
        HEADER
        + f"pdq,{pdq_of(1)},C,NEGATIVE_CLASS,\r\n"
        + f"pdq,{pdq_of(2)},C,INVESTIGATION_SEED,\r\n"
        + f"pdq,{pdq_of(3)},C,SOMETHING_ELSE,\r\n"
    )
    messages = [e.message for e in errors(read_threatexchange_csv(as_stream(text)))]
    assert "NEGATIVE_CLASS is not a confirmed positive" in messages[0]
    assert "INVESTIGATION_SEED" in messages[1]
    assert "unknown opinion category" in messages[2]
    widened = read_threatexchange_csv(
        as_stream(text), accept_categories={"POSITIVE_CLASS", "investigation_seed"}
    )
    assert [r.signal for r in records(widened)] == [pdq_of(2)]


def test_header_problems() -> None:
    empty = single_error(read_threatexchange_csv(as_stream(b"")))
    assert "empty file" in empty.message
    missing = single_error(read_threatexchange_csv(as_stream("signal_type,signal\n")))
    assert "signal_str" in missing.message
