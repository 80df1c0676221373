"""LocalFileSource: a list file as a HashSource whose checkpoint is the file's SHA-256."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.lists.format_samples import errors, md5_of, pdq_of, records, sha1_of
from vigil.lists.formats import ListFormat, ListRecord, SignalType
from vigil.lists.sources import HashSource, LocalFileSource, SourceError, format_label


def _csv(tmp_path: Path, *rows: str, name: str = "bank.csv") -> Path:
    path = tmp_path / name
    path.write_text("signal_type,signal,external_id\n" + "".join(f"{row}\n" for row in rows))
    return path


def test_checkpoint_is_the_sha256_and_an_unchanged_file_yields_nothing(tmp_path: Path) -> None:
    path = _csv(tmp_path, f"md5,{md5_of(1)},a", f"sha1,{sha1_of(2)},b")
    source: HashSource = LocalFileSource(path)
    delta = source.fetch(None)
    assert delta.changed
    assert delta.checkpoint == delta.resume_key == hashlib.sha256(path.read_bytes()).hexdigest()
    assert delta.format_label == "csv"
    assert records(delta.items) == [
        ListRecord(SignalType.MD5, md5_of(1), "a"),
        ListRecord(SignalType.SHA1, sha1_of(2), "b"),
    ]

    again = source.fetch(delta.checkpoint)
    assert not again.changed and list(again.items) == []
    assert again.checkpoint == delta.checkpoint


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = _csv(tmp_path, f"md5,{md5_of(1)},a")
    source = LocalFileSource(path)
    first = source.fetch(None)
    list(first.items)
    _csv(tmp_path, f"md5,{md5_of(1)},a", f"md5,{md5_of(2)},b")
    second = source.fetch(first.checkpoint)
    assert second.changed and second.checkpoint != first.checkpoint
    assert len(records(second.items)) == 2


def test_deletions_are_records_with_deleted_set(tmp_path: Path) -> None:
    path = tmp_path / "bank.jsonl"
    path.write_text(json.dumps({"external_id": "case-9", "deleted": True}) + "\n")
    [record] = records(LocalFileSource(path).fetch(None).items)
    assert record.deleted and record.external_id == "case-9" and record.signal is None


def test_plain_text_takes_the_signal_type(tmp_path: Path) -> None:
    path = tmp_path / "hashes.txt"
    path.write_text(f"{pdq_of(1)}\n{pdq_of(2)}\n")
    without = LocalFileSource(path).fetch(None)
    assert len(errors(without.items)) == 2  # 64 digits: sha256 or pdq, never guessed
    delta = LocalFileSource(path, signal_type=SignalType.PDQ).fetch(None)
    assert delta.format_label == "text:pdq"
    assert [r.signal for r in records(delta.items)] == [pdq_of(1), pdq_of(2)]


def test_signal_type_is_refused_for_other_formats(tmp_path: Path) -> None:
    path = _csv(tmp_path, f"md5,{md5_of(1)},a")
    with pytest.raises(SourceError, match="plain text lists only"):
        LocalFileSource(path, signal_type=SignalType.MD5).fetch(None)


def test_an_unrecognised_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.bin"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SourceError, match="format not recognised"):
        LocalFileSource(path).fetch(None)


def test_vics_needs_chosen_categories(tmp_path: Path) -> None:
    items = [
        {"MediaID": 1, "MD5": md5_of(1), "Category": 1},
        {"MediaID": 2, "MD5": md5_of(2), "Category": 3},
    ]
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"@odata.context": "x/ProjectVic/2.0.xml#Media", "value": items}))
    with pytest.raises(SourceError, match="choose the categories"):
        LocalFileSource(path).fetch(None)
    delta = LocalFileSource(path, vics_categories={1}).fetch(None)
    assert delta.format_label == "vics-json:1"
    assert [r.signal for r in records(delta.items)] == [md5_of(1)]


def test_explicit_format_skips_detection(tmp_path: Path) -> None:
    path = tmp_path / "odd.dat"
    path.write_text(f"# a comment first\n{md5_of(3)}\n")
    source = LocalFileSource(path, ListFormat.PLAIN_TEXT)
    assert source.list_format() is ListFormat.PLAIN_TEXT
    assert [r.signal for r in records(source.fetch(None).items)] == [md5_of(3)]


def test_progress_counts_the_bytes_read(tmp_path: Path) -> None:
    path = _csv(tmp_path, *(f"md5,{md5_of(n)},{n}" for n in range(2000)))
    source = LocalFileSource(path)
    assert len(records(source.fetch(None).items)) == 2000
    assert source.bytes_read == path.stat().st_size


def test_a_file_changed_while_read_is_reported(tmp_path: Path) -> None:
    path = _csv(tmp_path, f"md5,{md5_of(1)},a")
    delta = LocalFileSource(path).fetch(None)
    _csv(tmp_path, f"md5,{md5_of(2)},b")  # rewritten between fetch and reading
    items = list(delta.items)
    assert errors(items)[-1].message.endswith("changed while it was read: import it again")


def test_a_missing_file_raises_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        LocalFileSource(tmp_path / "absent.csv").fetch(None)


def test_format_labels_stay_short() -> None:
    assert format_label(ListFormat.CSV) == "csv"
    assert format_label(ListFormat.PLAIN_TEXT, SignalType.VIDEO_PDQ) == "text:video_pdq"
    long = format_label(ListFormat.VICS_JSON, vics_categories=range(1, 40))
    assert long.startswith("vics-json:") and len(long) <= 32
