"""Backlog sources that never list a bucket live: an S3 Inventory, or a plain list of keys.

**S3 Inventory** (``manifest:PATH_OR_S3_URI``): the inventory's ``manifest.json`` names its
format (CSV, possibly gzipped, or Parquet; ORC is refused), the CSV columns (``fileSchema``)
and its data files. A data file's key is looked for in the destination bucket when the manifest
was read from S3. For a manifest on disk (a copy of the destination bucket, or a downloaded
inventory), a relative key is looked for under each folder from the manifest's up to the root,
then next to the manifest by its file name, then in the destination bucket; ``s3://`` data
file addresses and absolute paths are taken as they are. Rows that are delete markers or not
the latest version are skipped, as a live listing would; CSV keys are URL-decoded (the
inventory encodes them), Parquet keys are not encoded.

**Key list** (``keys:BUCKET:PATH_OR_S3_URI``): one key per line, exactly as stored (only the
line ending is removed; blank lines are skipped). Nothing but the key is known, so the object
is read as it is at read time and its identity carries no version.

A manifest or data file that cannot be read or parsed fails the listing (SourceError): going
on would finish a job that never saw part of the backlog. One bad row is an ObjectError item.
Files in S3 are copied to a temporary file first (bounded memory, and Parquet needs to seek).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote_plus

from vigil.screening.backlog.objects import (
    S3_SOURCE,
    ObjectError,
    ObjectReadError,
    ObjectRef,
    SourceError,
)
from vigil.screening.backlog.s3_source import (
    etag_version,
    object_chunks,
    read_object,
    s3_client,
    split_s3_uri,
)
from vigil.screening.backlog.throttle import Throttle

MAX_MANIFEST_BYTES = 64 << 20  # manifest.json lists data files, not objects: small
MAX_DATA_FILE_BYTES = 64 << 30  # an inventory data file or a key list, copied to disk
MAX_KEY_BYTES = 1024  # S3's limit on a key's length
PARQUET_BATCH_ROWS = 65_536
_GZIP_MAGIC = b"\x1f\x8b"
_FIELDS = {  # Inventory CSV column -> Parquet column, the name used below
    "Bucket": "bucket",
    "Key": "key",
    "VersionId": "version_id",
    "IsLatest": "is_latest",
    "IsDeleteMarker": "is_delete_marker",
    "Size": "size",
    "ETag": "e_tag",
}
_FORMATS = {"CSV": "csv", "Parquet": "parquet"}
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Manifest:
    file_format: str  # "csv" or "parquet"
    columns: tuple[str, ...]  # CSV only: each column's field name, "" for ones not read
    source_bucket: str
    destination_bucket: str  # "" when the manifest does not say
    files: tuple[str, ...]  # data file keys as the manifest gives them


class _Files:
    """Local paths and s3:// addresses opened alike: S3 ones through a temporary copy."""

    def __init__(self, client: Any, throttle: Throttle | None) -> None:
        self._client = client
        self.throttle = throttle

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = s3_client()
        return self._client

    def read(self, ref: ObjectRef, max_bytes: int) -> bytes:
        return read_object(self.client, ref, max_bytes, self.throttle)

    @contextlib.contextmanager
    def local(self, location: str, max_bytes: int) -> Iterator[Path]:
        if not location.startswith("s3://"):
            path = Path(location)
            if not path.is_file():
                raise SourceError(f"{location}: no such file")
            if path.stat().st_size > max_bytes:
                raise SourceError(f"{location}: larger than {max_bytes} bytes")
            yield path
            return
        with tempfile.TemporaryDirectory(prefix="vigil-inventory-") as folder:
            copy = Path(folder) / "copy"
            self._download(location, copy, max_bytes)
            yield copy

    def _download(self, location: str, target: Path, max_bytes: int) -> None:
        bucket, key = split_s3_uri(location)
        ref = ObjectRef(S3_SOURCE, bucket, key, "", None)
        try:
            with target.open("wb") as out:
                for chunk in object_chunks(self.client, ref, max_bytes, self.throttle):
                    out.write(chunk)
        except ObjectReadError as exc:
            raise SourceError(f"{location}: {exc}") from None
        except OSError as exc:
            raise SourceError(f"{location}: cannot copy it to a temporary file: {exc}") from None


class ManifestSource:
    """The objects an S3 Inventory lists; ``location`` is a path or an s3:// address."""

    def __init__(
        self, location: str, *, client: Any = None, throttle: Throttle | None = None
    ) -> None:
        self.location = _absolute(location)
        self._files = _Files(client, throttle)

    def describe(self) -> str:
        return f"manifest:{self.location}"

    def read(self, ref: ObjectRef, max_bytes: int) -> bytes:
        return self._files.read(ref, max_bytes)

    def objects(self) -> Iterator[ObjectRef | ObjectError]:
        with self._files.local(self.location, MAX_MANIFEST_BYTES) as path:
            manifest = parse_manifest(path.read_bytes(), self.location)
        for key in manifest.files:
            data_file = self._data_file(manifest, key)
            with self._files.local(data_file, MAX_DATA_FILE_BYTES) as path:
                if manifest.file_format == "parquet":
                    rows = _parquet_rows(path, data_file)
                else:
                    rows = _csv_rows(path, data_file, manifest.columns)
                for number, row in rows:
                    item = _item(row, manifest, f"{data_file} row {number}")
                    if item is not None:
                        yield item

    def _data_file(self, manifest: Manifest, key: str) -> str:
        if key.startswith("s3://") or Path(key).is_absolute():
            return key
        if self.location.startswith("s3://"):
            bucket = manifest.destination_bucket or split_s3_uri(self.location)[0]
            return f"s3://{bucket}/{key}"
        if ".." in PurePosixPath(key).parts:
            raise SourceError(f"{self.location}: data file {key!r} climbs out of its folder")
        here = Path(self.location).parent
        for candidate in [folder / key for folder in (here, *here.parents)] + [
            here / Path(key).name
        ]:
            if candidate.is_file():
                return str(candidate)
        if manifest.destination_bucket:
            return f"s3://{manifest.destination_bucket}/{key}"
        raise SourceError(f"{self.location}: data file {key!r} not found near the manifest")


class KeyListSource:
    """The objects named in a list of keys, one per line, all in ``bucket``."""

    def __init__(
        self,
        bucket: str,
        location: str,
        *,
        client: Any = None,
        throttle: Throttle | None = None,
    ) -> None:
        split_s3_uri(f"s3://{bucket}/")  # refuses a name that is not a bucket's
        self.bucket = bucket
        self.location = _absolute(location)
        self._files = _Files(client, throttle)

    def describe(self) -> str:
        return f"keys:{self.bucket}:{self.location}"

    def read(self, ref: ObjectRef, max_bytes: int) -> bytes:
        return self._files.read(ref, max_bytes)

    def objects(self) -> Iterator[ObjectRef | ObjectError]:
        with (
            self._files.local(self.location, MAX_DATA_FILE_BYTES) as path,
            path.open("rb") as lines,
        ):
            for number, raw in enumerate(_lines(lines), start=1):
                if raw is None:
                    yield self._bad(number, f"longer than {MAX_KEY_BYTES} bytes")
                    continue
                line = raw.removesuffix(b"\n").removesuffix(b"\r")
                if not line:
                    continue
                try:
                    key = line.decode("utf-8")
                except UnicodeDecodeError:
                    yield self._bad(number, "not UTF-8")
                    continue
                yield ObjectRef(S3_SOURCE, self.bucket, key, "", None)

    def _bad(self, number: int, why: str) -> ObjectError:
        return ObjectError(S3_SOURCE, self.bucket, f"{self.location} line {number}", f"key {why}")


def _lines(file: IO[bytes]) -> Iterator[bytes | None]:
    """Lines as bytes; None for a line too long to be a key (the rest of it is skipped)."""
    limit = MAX_KEY_BYTES + 2  # a key and its \r\n
    while line := file.readline(limit):
        if len(line) < limit or line.endswith(b"\n"):
            yield line
            continue
        while (rest := file.readline(limit)) and not rest.endswith(b"\n"):
            pass
        yield None


def parse_manifest(data: bytes, location: str) -> Manifest:
    """manifest.json's fields, checked; SourceError says what is wrong with it."""
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{location}: not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise SourceError(f"{location}: not an inventory manifest (no JSON object)")
    file_format = _FORMATS.get(str(document.get("fileFormat")))
    if file_format is None:
        raise SourceError(
            f"{location}: fileFormat {document.get('fileFormat')!r} is not CSV or Parquet"
        )
    files = document.get("files")
    if not isinstance(files, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("key"), str) and entry["key"]
        for entry in files
    ):
        raise SourceError(f"{location}: 'files' must be a list of {{\"key\": ...}} entries")
    columns: tuple[str, ...] = ()
    if file_format == "csv":
        columns = _csv_columns(document.get("fileSchema"), location)
    source_bucket = document.get("sourceBucket")
    if not isinstance(source_bucket, str) or not source_bucket:
        raise SourceError(f"{location}: 'sourceBucket' is missing")
    destination = str(document.get("destinationBucket") or "")
    return Manifest(
        file_format=file_format,
        columns=columns,
        source_bucket=source_bucket,
        destination_bucket=destination.removeprefix("arn:aws:s3:::"),
        files=tuple(entry["key"] for entry in files),
    )


def _csv_columns(schema: object, location: str) -> tuple[str, ...]:
    if not isinstance(schema, str):
        raise SourceError(f"{location}: a CSV inventory needs its 'fileSchema'")
    names = [name.strip() for name in schema.split(",")]
    if "Key" not in names:
        raise SourceError(f"{location}: 'fileSchema' has no Key column")
    return tuple(_FIELDS.get(name, "") for name in names)


def _csv_rows(path: Path, location: str, columns: tuple[str, ...]) -> Iterator[tuple[int, Row]]:
    try:
        with _maybe_gunzip(path) as binary:
            text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
            for number, fields in enumerate(csv.reader(text), start=1):
                if len(fields) != len(columns):
                    yield number, {"error": f"{len(fields)} fields, {len(columns)} expected"}
                    continue
                row = {name: value for name, value in zip(columns, fields, strict=True) if name}
                row["key"] = unquote_plus(row["key"])
                yield number, row
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"{location}: unreadable inventory data file ({exc})") from None


@contextlib.contextmanager
def _maybe_gunzip(path: Path) -> Iterator[IO[bytes] | gzip.GzipFile]:
    with path.open("rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC  # by content: names do not always say
        raw.seek(0)
        if not gzipped:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw) as unzipped:
            yield unzipped


def _parquet_rows(path: Path, location: str) -> Iterator[tuple[int, Row]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        present = [name for name in _FIELDS.values() if name in parquet.schema_arrow.names]
        if "key" not in present:
            raise SourceError(f"{location}: the Parquet inventory has no key column")
        number = 0
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=present):
            for row in batch.to_pylist():
                number += 1
                yield number, row
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(f"{location}: unreadable Parquet inventory file ({exc})") from None


def _item(row: Row, manifest: Manifest, where: str) -> ObjectRef | ObjectError | None:
    bucket = str(row.get("bucket") or manifest.source_bucket)
    if "error" in row:
        return ObjectError(S3_SOURCE, bucket, where, f"malformed inventory row: {row['error']}")
    if _true(row.get("is_delete_marker")) or row.get("is_latest") not in (None, "", True, "true"):
        return None  # not a current object: a live listing would not show it either
    key = row.get("key")
    if not isinstance(key, str) or not key:
        return ObjectError(S3_SOURCE, bucket, where, "inventory row without a key")
    size = row.get("size")
    if size == "":
        size = None  # not in this inventory: the read checks the answer's length instead
    elif isinstance(size, str) and size.isdigit():
        size = int(size)
    if size is not None and not (isinstance(size, int) and size >= 0):
        return ObjectError(S3_SOURCE, bucket, where, f"inventory row with a bad size: {size!r}")
    version = str(row.get("version_id") or "")
    if version in ("", "null"):  # "null": written before the bucket was versioned
        version = etag_version(str(row.get("e_tag") or ""))
    return ObjectRef(S3_SOURCE, bucket, key, version, size)


def _true(value: object) -> bool:
    return value is True or value == "true"


def _absolute(location: str) -> str:
    if not location:
        raise SourceError("a manifest or key list needs a path or an s3:// address")
    return location if location.startswith("s3://") else str(Path(location).absolute())
