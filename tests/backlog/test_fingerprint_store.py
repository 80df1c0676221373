"""The fingerprint store: rows round-trip, parts replace, PDQ comes back as words, and a bad
part (truncated, corrupt, another schema version, not ours) is refused naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.media_factory import encode, gradient, noise
from vigil.fingerprint.pipeline import fingerprint_bytes
from vigil.fingerprint.record import Fingerprint
from vigil.fingerprint.video import FrameHash
from vigil.index.codes import pdq_words
from vigil.screening.backlog.fingerprint_store import (
    SCHEMA,
    VERSION_KEY,
    FingerprintStore,
    Row,
    StoreError,
    pdq_column_words,
    valid_rows,
)
from vigil.screening.backlog.objects import ObjectError, ObjectRef


def ref(key: str, version: str = "v1") -> ObjectRef:
    return ObjectRef("s3", "media", key, version, 1234)


@pytest.fixture(scope="module")
def photos() -> list[Fingerprint]:
    images = [gradient(96, 64, seed=1), noise(80, 80, seed=2, blur=2), gradient(64, 96, seed=3)]
    return [fingerprint_bytes(encode(image, "PNG"), name=f"p{i}") for i, image in enumerate(images)]


def video_fingerprint() -> Fingerprint:
    frames = [FrameHash(float(t), f"{t:02x}" * 32, 90) for t in range(3)]
    return Fingerprint(path="clip", media_type="video", size=10, sha256="ab" * 32, frames=frames)


def test_rows_round_trip(tmp_path: Path, photos: list[Fingerprint]) -> None:
    store = FingerprintStore(tmp_path / "job")
    failed = Fingerprint(path="bad", size=5, md5="00" * 16, error="cannot decode")
    rows: list[Row] = [
        (ref("a.png"), photos[0]),
        (ref("clip.mp4"), video_fingerprint()),
        (ref("bad.png"), failed),
        (ObjectError("s3", "media", "gone/", "listing refused"), Fingerprint(path="gone/")),
    ]
    store.write_part(1, rows)
    back = list(store.fingerprints())
    assert [identity for identity, _ in back] == [item.identity for item, _ in rows]
    photo = back[0][1]
    assert photo.pdq == photos[0].pdq and photo.pdq_quality == photos[0].pdq_quality
    assert photo.pdq_variants == photos[0].pdq_variants and photo.pdq_variants
    assert (photo.md5, photo.sha1, photo.sha256) == (
        photos[0].md5,
        photos[0].sha1,
        photos[0].sha256,
    )
    assert back[1][1].frames == video_fingerprint().frames
    assert back[2][1].error == "cannot decode" and back[2][1].md5 == "00" * 16
    assert back[3][1].error == "listing refused"
    assert len(store) == 4


def test_pdq_comes_back_as_the_index_words(tmp_path: Path, photos: list[Fingerprint]) -> None:
    store = FingerprintStore(tmp_path)
    rows = [(ref(f"{i}.png"), fp) for i, fp in enumerate(photos)]
    rows.insert(1, (ref("x.bin"), Fingerprint(path="x", sha256="cd" * 32)))  # no PDQ
    store.write_part(3, rows)
    (batch,) = store.batches(["identity", "pdq"])
    words = pdq_column_words(batch.column("pdq"))
    valid = valid_rows(batch.column("pdq"))
    assert valid.tolist() == [0, 2, 3]
    assert np.array_equal(words[valid], pdq_words([fp.pdq or "" for fp in photos]))


def test_a_chunk_written_again_replaces_its_part(tmp_path: Path, photos: list[Fingerprint]) -> None:
    store = FingerprintStore(tmp_path)
    store.write_part(2, [(ref("a.png"), photos[0]), (ref("b.png"), photos[1])])
    store.write_part(1, [(ref("z.png"), photos[2])])
    store.write_part(2, [(ref("a.png"), photos[0]), (ref("b.png"), photos[1])])
    assert [p.number for p in store.parts()] == [1, 2]
    assert [i for i, _ in store.fingerprints()] == [
        ref(k).identity for k in ("z.png", "a.png", "b.png")
    ]
    assert len(store) == 3


def test_fingerprints_of_some_objects(tmp_path: Path, photos: list[Fingerprint]) -> None:
    store = FingerprintStore(tmp_path)
    store.write_part(1, [(ref("a.png"), photos[0]), (ref("b.png"), photos[1])])
    store.write_part(2, [(ref("c.png"), photos[2])])
    wanted = [ref("c.png").identity, ref("a.png").identity, "s3://media/none#v1"]
    found = store.fingerprints_of(wanted)
    assert sorted(found) == sorted(wanted[:2])
    assert found[ref("c.png").identity].pdq == photos[2].pdq
    assert store.fingerprints_of([]) == {}


def test_reads_are_bounded_by_row_groups(tmp_path: Path) -> None:
    store = FingerprintStore(tmp_path)
    rows = [(ref(f"{i}"), Fingerprint(path=str(i), md5=f"{i:032x}")) for i in range(70_000)]
    store.write_part(1, rows)
    sizes = [batch.num_rows for batch in store.batches(["identity"])]
    assert sum(sizes) == 70_000 and max(sizes) <= 65_536 and len(sizes) == 2


def test_a_failed_write_keeps_the_old_part(
    tmp_path: Path, photos: list[Fingerprint], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FingerprintStore(tmp_path)
    store.write_part(1, [(ref("a.png"), photos[0])])
    (tmp_path / ".part-000002.parquet.abc123").write_bytes(b"PAR1 left by a crash")

    def half_then_crash(_table: pa.Table, out: Any, **_options: Any) -> None:
        out.write(b"PAR1 half a part")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        store.write_part(1, [(ref("b.png"), photos[1])])
    monkeypatch.undo()
    assert [p.number for p in store.parts()] == [1]
    assert [i for i, _ in store.fingerprints()] == [ref("a.png").identity]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".part-000002.parquet.abc123",
        "part-000001.parquet",
    ]


def test_a_truncated_part_names_the_file(tmp_path: Path, photos: list[Fingerprint]) -> None:
    store = FingerprintStore(tmp_path)
    path = store.write_part(1, [(ref("a.png"), photos[0])])
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(StoreError, match=r"part-000001\.parquet"):
        list(store.batches())


def test_a_corrupt_part_names_the_file(tmp_path: Path) -> None:
    store = FingerprintStore(tmp_path)
    rows = [(ref(f"{i}"), Fingerprint(path=str(i), md5=f"{i:032x}")) for i in range(2000)]
    path = store.write_part(7, rows)
    data = bytearray(path.read_bytes())
    data[100:4000] = bytes(3900)  # column pages zeroed; the footer is intact
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"part-000007\.parquet"):
        list(store.batches())


def test_another_schema_version_is_refused(tmp_path: Path) -> None:
    store = FingerprintStore(tmp_path)
    table = pa.Table.from_pylist([], SCHEMA).replace_schema_metadata({VERSION_KEY: b"0"})
    pq.write_table(table, store.part_path(1))
    with pytest.raises(StoreError, match=r"part-000001\.parquet: schema version '0'"):
        list(store.batches())


def test_a_foreign_parquet_file_is_refused(tmp_path: Path) -> None:
    store = FingerprintStore(tmp_path)
    pq.write_table(pa.table({"identity": ["x"]}), store.part_path(1))
    with pytest.raises(StoreError, match="not written by the fingerprint store"):
        list(store.batches())
    pq.write_table(
        pa.table({"identity": ["x"]}).replace_schema_metadata({VERSION_KEY: b"1"}),
        store.part_path(1),
    )
    with pytest.raises(StoreError, match="columns differ"):
        list(store.batches())


def test_a_table_of_other_columns_is_not_written(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        FingerprintStore(tmp_path).write_table(1, pa.table({"identity": ["x"]}))
    with pytest.raises(ValueError):
        FingerprintStore(tmp_path).part_path(0)
