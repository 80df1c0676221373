"""Snapshot files: a directory of .npy arrays and a manifest with every file's size and
CRC-32, published by atomically replacing the CURRENT pointer.

An index directory holds:
  CURRENT                          name of the live snapshot directory
  snapshot-<seq>/manifest.json     format, seq, per group its meta and its arrays' files
  snapshot-<seq>/<group>.<name>.npy
  changes-<seq>.log                changes after that snapshot (change_log.py)
  LOCK                             held by the one process allowed to write
Arrays load memory-mapped (read-only, shared by every process through the page cache) after
their sizes and checksums are checked; nothing is looked up in a file that fails a check.
"""

from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vigil.core.files import sync_directory, write_atomically
from vigil.core.private_files import open_private, private_directory
from vigil.index.errors import CorruptIndexError

FORMAT = "vigil-index/1"
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
CRC_CHUNK = 64 << 20

Arrays = dict[str, npt.NDArray[Any]]


@dataclass(frozen=True, slots=True)
class Group:
    """The arrays of one structure (e.g. the PDQ segment) and the JSON it needs to reload."""

    arrays: Arrays
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Snapshot:
    path: Path
    seq: int
    groups: dict[str, Group]


def snapshot_name(seq: int) -> str:
    return f"snapshot-{seq:020d}"


def log_path(root: Path, seq: int) -> Path:
    return root / f"changes-{seq:020d}.log"


def write_snapshot(root: Path, seq: int, groups: Mapping[str, Group]) -> Path:
    """Write every group's arrays and the manifest, fsync them, and return the directory.
    It is not live until ``publish``."""
    final = root / snapshot_name(seq)
    tmp = root / (final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    private_directory(tmp)
    body = {
        "format": FORMAT,
        "seq": seq,
        "groups": {
            name: {
                "meta": group.meta,
                "arrays": {
                    key: _write_array(tmp / f"{name}.{key}.npy", array)
                    for key, array in group.arrays.items()
                },
            }
            for name, group in groups.items()
        },
    }
    manifest = dict(body, checksum=_json_crc(body))
    with open_private(tmp / MANIFEST, "w") as manifest_file:
        manifest_file.write(json.dumps(manifest, indent=1, sort_keys=True))
    _fsync_tree(tmp)
    if final.exists():
        shutil.rmtree(final)
    tmp.replace(final)
    sync_directory(root)
    return final


def _write_array(path: Path, array: npt.NDArray[Any]) -> dict[str, Any]:
    with open_private(path) as out:
        np.save(out, np.ascontiguousarray(array), allow_pickle=False)
    return {
        "file": path.name,
        "bytes": path.stat().st_size,
        "crc32": file_crc(path),
        "dtype": np.dtype(array.dtype).str,
        "shape": list(array.shape),
    }


def file_crc(path: Path) -> int:
    size = path.stat().st_size
    if size == 0:
        return 0
    data = np.memmap(path, dtype=np.uint8, mode="r")
    crc = 0
    for start in range(0, size, CRC_CHUNK):
        crc = zlib.crc32(data[start : start + CRC_CHUNK].data, crc)  # .data: the bytes, no copy
    del data
    return crc


def publish(root: Path, snapshot: Path) -> None:
    """Make ``snapshot`` the one that opens: replace CURRENT atomically."""
    write_atomically(root / CURRENT, (snapshot.name + "\n").encode())


def current(root: Path) -> Path | None:
    pointer = root / CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text().strip()
    if not name.startswith("snapshot-") or "/" in name:
        raise CorruptIndexError(str(pointer), f"CURRENT names {name!r}")
    return root / name


def load_snapshot(path: Path, *, verify: bool = True, mmap: bool = True) -> Snapshot:
    """Check and load a snapshot. ``verify`` reads every byte once for its CRC-32 (about
    0.2 s a GiB from the page cache); sizes are always checked."""
    manifest = _read_manifest(path)
    groups = {
        name: Group(
            {key: _load_array(path, spec, verify, mmap) for key, spec in group["arrays"].items()},
            group["meta"],
        )
        for name, group in manifest["groups"].items()
    }
    return Snapshot(path, int(manifest["seq"]), groups)


def _read_manifest(path: Path) -> dict[str, Any]:
    file = path / MANIFEST
    try:
        manifest = json.loads(file.read_text())
        checksum = manifest.pop("checksum")
    except FileNotFoundError:
        raise CorruptIndexError(str(file), "manifest missing") from None
    except (ValueError, KeyError, AttributeError) as exc:
        raise CorruptIndexError(str(file), f"manifest unreadable: {exc}") from None
    if checksum != _json_crc(manifest):
        raise CorruptIndexError(str(file), "manifest checksum mismatch")
    if manifest.get("format") != FORMAT:
        raise CorruptIndexError(str(file), f"unknown format {manifest.get('format')!r}")
    return manifest


def _load_array(path: Path, spec: dict[str, Any], verify: bool, mmap: bool) -> npt.NDArray[Any]:
    file = path / spec["file"]
    if not file.exists():
        raise CorruptIndexError(str(file), "array file missing")
    size = file.stat().st_size
    if size != spec["bytes"]:
        raise CorruptIndexError(
            str(file), f"{size} bytes, manifest says {spec['bytes']} (truncated or replaced)"
        )
    if verify and file_crc(file) != spec["crc32"]:
        raise CorruptIndexError(str(file), "checksum mismatch")
    shape = tuple(spec["shape"])
    empty = int(np.prod(shape)) == 0  # an empty file cannot be memory-mapped
    try:
        array = np.load(file, mmap_mode="r" if mmap and not empty else None, allow_pickle=False)
    except ValueError as exc:
        raise CorruptIndexError(str(file), f"not a valid .npy file: {exc}") from None
    if array.dtype.str != spec["dtype"] or array.shape != shape:
        raise CorruptIndexError(
            str(file),
            f"holds {array.dtype.str} {array.shape}, manifest says {spec['dtype']} {shape}",
        )
    return array


def remove_stale(root: Path, keep: set[str]) -> None:
    """Delete snapshots and logs not named in ``keep``. Processes still mapping them keep
    their pages until they move on (POSIX unlink semantics)."""
    for entry in root.iterdir():
        stem = entry.name.removesuffix(".log").removesuffix(".tmp")
        stem = stem.replace("changes-", "snapshot-")
        if entry.name.startswith(("snapshot-", "changes-")) and stem not in keep:
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _json_crc(body: dict[str, Any]) -> int:
    return zlib.crc32(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


def _fsync_tree(directory: Path) -> None:
    for file in directory.iterdir():
        with file.open("rb") as handle:
            os.fsync(handle.fileno())
    sync_directory(directory)
