"""A scan job's fingerprints in Parquet: one row per object, one part file per finished chunk.

``part-000001.parquet`` holds chunk 1's objects in listing order: identity, where the object
lives, its digests and perceptual hashes (raw bytes, not hex: half the size, and read back as
NumPy words without parsing), or the error that stopped hashing. A part appears whole or not
at all (written beside, synced, renamed), and a chunk written again replaces its part, so a
re-run or a resumed job never holds an object twice. Reading goes part by part and row group
by row group, so memory stays bounded whatever the job's size. Every part carries the schema
version; a part written by another version (or not by this store) is refused, naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vigil.core.files import replacing
from vigil.core.private_files import private_directory
from vigil.fingerprint.photo import VariantHash
from vigil.fingerprint.record import Fingerprint
from vigil.fingerprint.video import FrameHash
from vigil.index.codes import HASH_BYTES, Words, pdq_words
from vigil.screening.backlog.objects import ObjectError, ObjectRef

SCHEMA_VERSION = "1"
VERSION_KEY = b"vigil.fingerprint_store.version"
PART_NAME = re.compile(r"part-(\d{6,})\.parquet")
ROW_GROUP_ROWS = 65_536  # the unit of a bounded read
DIGEST_BYTES = {"md5": 16, "sha1": 20, "sha256": 32}

PDQ = pa.binary(HASH_BYTES)
VARIANT = pa.struct([("variant", pa.string()), ("pdq", PDQ)])
FRAME = pa.struct([("t", pa.float64()), ("pdq", PDQ), ("quality", pa.int16())])
SCHEMA = pa.schema(
    [
        ("identity", pa.string()),
        ("source", pa.string()),
        ("bucket", pa.string()),
        ("key", pa.string()),
        ("version", pa.string()),  # null for a listing error (no object behind it)
        ("size", pa.int64()),
        ("media_type", pa.string()),
        *((name, pa.binary(width)) for name, width in DIGEST_BYTES.items()),
        ("pdq", PDQ),
        ("pdq_quality", pa.int16()),
        ("pdq_weak", pa.bool_()),
        ("pdq_variants", pa.list_(VARIANT)),
        ("frames", pa.list_(FRAME)),  # null: not a video; empty: a video without frames
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("duration", pa.float64()),
        ("error", pa.string()),
        ("error_reason", pa.string()),
        ("partial", pa.bool_()),
        ("partial_reason", pa.string()),
    ],
    metadata={VERSION_KEY: SCHEMA_VERSION.encode()},
)

Row = tuple[ObjectRef | ObjectError, Fingerprint]


class StoreError(Exception):
    """A part cannot be read as this store's: truncated, corrupt, or another schema version."""


@dataclass(frozen=True, slots=True)
class Part:
    number: int
    path: Path


class FingerprintStore:
    """The parts under one job's folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def part_path(self, number: int) -> Path:
        if number < 1:
            raise ValueError(f"chunks are numbered from 1, not {number}")
        return self.root / f"part-{number:06d}.parquet"

    def write_part(self, number: int, rows: Sequence[Row]) -> Path:
        """Chunk ``number``'s objects, replacing any part the chunk had."""
        return self.write_table(number, rows_table(rows))

    def write_table(self, number: int, table: pa.Table) -> Path:
        """A part from a table of exactly this store's columns (bulk writers, benchmarks)."""
        if not table.schema.equals(SCHEMA, check_metadata=False):
            raise StoreError("the table's columns are not the fingerprint store's")
        path = self.part_path(number)
        private_directory(self.root)
        with replacing(path, temporary_prefix=f".{path.name}.") as out:
            pq.write_table(
                table.replace_schema_metadata(SCHEMA.metadata), out, row_group_size=ROW_GROUP_ROWS
            )
        return path

    def parts(self) -> list[Part]:
        """Finished parts in chunk order; temporary files of an interrupted write are skipped."""
        if not self.root.is_dir():
            return []
        found = (
            (PART_NAME.fullmatch(p.name), p) for p in self.root.iterdir() if p.suffix == ".parquet"
        )
        parts = (Part(int(m.group(1)), p) for m, p in found if m is not None)
        return sorted(parts, key=lambda part: part.number)

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Every row, part by part and row group by row group."""
        for part in self.parts():
            yield from read_part(part.path, columns)

    def fingerprints(self) -> Iterator[tuple[str, Fingerprint]]:
        """(identity, fingerprint) of every row, as hashing produced it."""
        for batch in self.batches():
            for row in batch.to_pylist():
                yield row["identity"], row_fingerprint(row)

    def fingerprints_of(self, identities: Collection[str]) -> dict[str, Fingerprint]:
        """The fingerprints of these objects only (one pass over the parts)."""
        wanted = pa.array(sorted(set(identities)), pa.string())
        found: dict[str, Fingerprint] = {}
        if not len(wanted):
            return found
        for batch in self.batches():
            rows = batch.filter(pc.is_in(batch.column("identity"), value_set=wanted))
            for row in rows.to_pylist():
                found[row["identity"]] = row_fingerprint(row)
        return found

    def __len__(self) -> int:
        return sum(open_part(part.path).metadata.num_rows for part in self.parts())


def open_part(path: Path) -> pq.ParquetFile:
    """The part's reader, once its footer and schema version are checked."""
    try:
        reader = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"{path}: not a readable Parquet part ({exc})") from exc
    metadata = reader.schema_arrow.metadata or {}
    version = metadata.get(VERSION_KEY)
    if version is None:
        raise StoreError(f"{path}: not written by the fingerprint store (no schema version)")
    if version.decode(errors="replace") != SCHEMA_VERSION:
        raise StoreError(
            f"{path}: schema version {version.decode(errors='replace')!r}, "
            f"this Vigil reads {SCHEMA_VERSION!r}"
        )
    if not reader.schema_arrow.equals(SCHEMA, check_metadata=False):
        raise StoreError(f"{path}: columns differ from schema version {SCHEMA_VERSION}")
    return reader


def read_part(path: Path, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
    reader = open_part(path)
    wanted = list(columns) if columns is not None else None
    try:
        for group in range(reader.metadata.num_row_groups):
            table = reader.read_row_group(group, columns=wanted)
            yield from table.to_batches()
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"{path}: corrupt part ({exc})") from exc


def pdq_column_words(column: pa.Array | pa.ChunkedArray) -> Words:
    """A PDQ column (32-byte values) as (n, 4) uint64 words; null rows come out as zeros, so
    take the valid rows by the column's validity."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], type=PDQ)
    column = column.fill_null(b"\0" * HASH_BYTES) if column.null_count else column
    data = column.buffers()[1]
    if data is None:
        return pdq_words(np.empty((0, HASH_BYTES), dtype=np.uint8))
    raw = np.frombuffer(data, dtype=np.uint8)
    start = column.offset * HASH_BYTES
    return pdq_words(raw[start : start + len(column) * HASH_BYTES].reshape(-1, HASH_BYTES))


def valid_rows(column: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.intp]:
    return np.flatnonzero(column.is_valid().to_numpy(zero_copy_only=False))


# Conversion between fingerprints and rows ---------------------------------------------


def rows_table(rows: Sequence[Row]) -> pa.Table:
    return pa.Table.from_pylist([_row(item, fingerprint) for item, fingerprint in rows], SCHEMA)


def _row(item: ObjectRef | ObjectError, fingerprint: Fingerprint) -> dict[str, object]:
    ref = item if isinstance(item, ObjectRef) else None
    error = item.reason if isinstance(item, ObjectError) else fingerprint.error
    return {
        "identity": item.identity,
        "source": item.source,
        "bucket": item.bucket,
        "key": item.key,
        "version": ref.version if ref else None,
        "size": fingerprint.size if fingerprint.size is not None else (ref.size if ref else None),
        "media_type": fingerprint.media_type,
        **{name: _raw(getattr(fingerprint, name)) for name in DIGEST_BYTES},
        "pdq": _raw(fingerprint.pdq),
        "pdq_quality": fingerprint.pdq_quality,
        "pdq_weak": fingerprint.pdq_weak,
        "pdq_variants": [
            {"variant": v.variant, "pdq": _raw(v.pdq)} for v in fingerprint.pdq_variants
        ],
        "frames": None
        if fingerprint.frames is None
        else [{"t": f.t, "pdq": _raw(f.pdq), "quality": f.quality} for f in fingerprint.frames],
        "width": fingerprint.width,
        "height": fingerprint.height,
        "duration": fingerprint.duration,
        "error": error,
        "error_reason": fingerprint.error_reason,
        "partial": fingerprint.partial,
        "partial_reason": fingerprint.partial_reason,
    }


def _raw(hex_value: str | None) -> bytes | None:
    return None if hex_value is None else bytes.fromhex(hex_value)


def _hex(raw: bytes | None) -> str | None:
    return None if raw is None else raw.hex()


def row_fingerprint(row: dict[str, Any]) -> Fingerprint:
    """The fingerprint a row was written from (``path`` is the object's key)."""
    frames = row["frames"]
    return Fingerprint(
        path=row["key"],
        media_type=row["media_type"],
        size=row["size"],
        md5=_hex(row["md5"]),
        sha1=_hex(row["sha1"]),
        sha256=_hex(row["sha256"]),
        pdq=_hex(row["pdq"]),
        pdq_quality=row["pdq_quality"],
        pdq_weak=row["pdq_weak"],
        pdq_variants=[VariantHash(v["variant"], v["pdq"].hex()) for v in row["pdq_variants"]],
        frames=None
        if frames is None
        else [FrameHash(f["t"], f["pdq"].hex(), f["quality"]) for f in frames],
        width=row["width"],
        height=row["height"],
        duration=row["duration"],
        error=row["error"],
        error_reason=row["error_reason"],
        partial=bool(row["partial"]),
        partial_reason=row["partial_reason"],
    )
