"""A local tree as a backlog source: the files ``vigil scan`` would walk, as objects.

Walking follows :mod:`vigil.fingerprint.walk` (sorted, depth first, symlink loops entered once,
special files reported): what it reports as a failure is an :class:`ObjectError` here. A file's
version is its size and modification time, so a file rewritten since it was listed is refused
as ``changed`` rather than fingerprinted under the old identity.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from vigil.fingerprint.walk import walk
from vigil.screening.backlog.objects import (
    FILE_SOURCE,
    ObjectError,
    ObjectReadError,
    ObjectRef,
    ReadProblem,
    SourceError,
    check_listed_size,
    read_bounded,
    too_large,
)
from vigil.screening.backlog.throttle import Throttle


class LocalSource:
    def __init__(self, root: Path, *, throttle: Throttle | None = None) -> None:
        self.root = Path(os.path.abspath(root))  # absolute, symlinks kept as the user named them
        self.throttle = throttle

    def describe(self) -> str:
        return str(self.root)

    def objects(self) -> Iterator[ObjectRef | ObjectError]:
        if not self.root.exists():
            raise SourceError(f"{self.root}: no such file or folder")
        for item in walk([self.root], recursive=True):
            if isinstance(item, Path):
                yield _listed(item)
            else:
                yield ObjectError(FILE_SOURCE, "", item.path, item.error or "unreadable")

    def read(self, ref: ObjectRef, max_bytes: int) -> bytes:
        if ref.source != FILE_SOURCE:
            raise ValueError(f"not a local file: {ref.identity}")
        check_listed_size(ref, max_bytes)
        if self.throttle is not None:
            self.throttle.acquire(request=1)
        try:
            # O_NONBLOCK: a file swapped for a named pipe since listing must not block the read.
            fd = os.open(ref.key, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            raise ObjectReadError(ReadProblem.MISSING, "the file is gone") from None
        except PermissionError:
            raise ObjectReadError(ReadProblem.DENIED, "permission denied") from None
        except OSError as exc:
            raise ObjectReadError(ReadProblem.UNREADABLE, exc.strerror or str(exc)) from None
        with os.fdopen(fd, "rb", buffering=0) as file:
            _check_current(os.fstat(fd), ref, max_bytes)
            try:
                return read_bounded(file.read, max_bytes, self.throttle)
            except OSError as exc:
                raise ObjectReadError(ReadProblem.UNREADABLE, exc.strerror or str(exc)) from None


def _listed(path: Path) -> ObjectRef | ObjectError:
    try:
        info = path.stat()
    except OSError as exc:  # gone or a dangling link since the walk saw it
        return ObjectError(FILE_SOURCE, "", str(path), exc.strerror or "cannot stat the file")
    return ObjectRef(FILE_SOURCE, "", str(path), _version(info), info.st_size)


def _version(info: os.stat_result) -> str:
    return f"{info.st_size}:{info.st_mtime_ns}"


def _check_current(info: os.stat_result, ref: ObjectRef, max_bytes: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ObjectReadError(ReadProblem.UNREADABLE, "no longer a regular file")
    if _version(info) != ref.version:
        raise ObjectReadError(ReadProblem.CHANGED, "the file changed since it was listed")
    if info.st_size > max_bytes:
        raise too_large(info.st_size, max_bytes)
