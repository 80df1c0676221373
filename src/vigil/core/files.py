"""Files that appear whole or not at all. The content goes to a private (0600) temporary file
beside the target, reaches the disk (fsync), and only then takes the target's name - by a
rename that replaces, or a hard link that refuses to - and the folder is synced so the name
survives a power cut too. A crash leaves the old file, or none, never half of the new one;
the temporary file is removed on any failure."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal, overload


def write_atomically(path: Path, data: bytes, *, temporary_prefix: str | None = None) -> Path:
    """Replace ``path`` (or create it) with ``data``. ``temporary_prefix`` names the
    temporary file, for a caller that sweeps up what a crash left behind."""
    with replacing(path, temporary_prefix=temporary_prefix) as out:
        out.write(data)
    return path


def create_atomically(path: Path, data: bytes, *, temporary_prefix: str | None = None) -> Path:
    """Create ``path`` holding ``data``; raises FileExistsError rather than replace anything,
    so of two concurrent creators (e.g. of a key) exactly one wins."""
    handle, temporary = _temporary(path, temporary_prefix, "")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            _flush_to_disk(out)
        os.link(temporary, path)  # unlike a rename, fails instead of replacing
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    sync_directory(path.parent)
    return path


@overload
def replacing(
    path: Path,
    *,
    text: Literal[False] = False,
    temporary_prefix: str | None = None,
    temporary_suffix: str = "",
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
@overload
def replacing(
    path: Path,
    *,
    text: Literal[True],
    temporary_prefix: str | None = None,
    temporary_suffix: str = "",
) -> contextlib.AbstractContextManager[IO[str]]: ...
def replacing(
    path: Path,
    *,
    text: bool = False,
    temporary_prefix: str | None = None,
    temporary_suffix: str = "",
) -> contextlib.AbstractContextManager[IO]:
    """A stream (bytes, or UTF-8 text with newlines as written) whose content replaces
    ``path`` once the block ends without an exception; an exception discards it."""
    return _replacing(path, text, temporary_prefix, temporary_suffix)


@contextlib.contextmanager
def _replacing(path: Path, text: bool, prefix: str | None, suffix: str) -> Iterator[IO]:
    handle, temporary = _temporary(path, prefix, suffix)
    try:
        with (
            os.fdopen(handle, "w", encoding="utf-8", newline="")
            if text
            else os.fdopen(handle, "wb")
        ) as out:
            yield out
            _flush_to_disk(out)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    """Make the names in ``directory`` (a rename, a link, a removal) durable. Windows
    cannot open folders, and does not need to."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _temporary(path: Path, prefix: str | None, suffix: str) -> tuple[int, str]:
    # Beside the target, so the rename stays within one file system; mkstemp creates the
    # file 0600 (private_files.FILE_MODE) whatever the umask.
    return tempfile.mkstemp(dir=path.parent, prefix=prefix or f".{path.name}.", suffix=suffix)


def _flush_to_disk(out: IO) -> None:
    out.flush()
    os.fsync(out.fileno())
