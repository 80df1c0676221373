"""Expand paths (command-line arguments, a backlog tree) into the files to fingerprint: lazily, in a
stable order.

Folders are listed in sorted name order, depth first, so output order does not depend on
the filesystem. Hidden files are kept: junk such as ``.DS_Store`` is reported like any
other non-media file rather than silently skipped, because a reviewer must be able to see
that everything on a seized disk was looked at. Problems met while walking (a folder that
cannot be listed, a FIFO that would block a reader forever) come out as failed
Fingerprints in the same stream, in the place the file would have been.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from vigil.fingerprint.errors import FailureReason, FingerprintError
from vigil.fingerprint.record import Fingerprint

WalkItem = Path | Fingerprint  # a file to fingerprint, or a failure found while walking

_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def walk(paths: Iterable[Path], recursive: bool) -> Iterator[WalkItem]:
    """Files named directly, and the files inside named folders (all levels if recursive)."""
    for path in paths:
        yield from _walk_one(Path(path), recursive)


def count_files(paths: Iterable[Path], recursive: bool) -> int:
    return sum(1 for _ in walk(paths, recursive))


def _walk_one(root: Path, recursive: bool) -> Iterator[WalkItem]:
    # Directories already entered, by identity: a symlink back up the tree (or a second
    # link to the same tree) would otherwise be walked again, forever in the loop case.
    seen: set[tuple[int, int]] = set()
    pending: list[Iterator[Path]] = [iter([root])]  # explicit stack: no recursion limit
    while pending:
        path = next(pending[-1], None)
        if path is None:
            pending.pop()
            continue
        try:
            info = path.stat()
        except OSError:
            yield path  # missing or dangling: the pipeline reports it with the OS's words
            continue
        if stat.S_ISDIR(info.st_mode):
            if path is root or recursive:
                yield from _enter(path, info, seen, pending)
        elif stat.S_ISREG(info.st_mode):
            yield path
        else:
            yield _failure(
                path, FailureReason.UNREADABLE, f"not a regular file: {_special_kind(info.st_mode)}"
            )


def _enter(
    folder: Path, info: os.stat_result, seen: set[tuple[int, int]], pending: list[Iterator[Path]]
) -> Iterator[WalkItem]:
    identity = (info.st_dev, info.st_ino)
    if identity in seen:
        return
    seen.add(identity)
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        yield _failure(folder, FailureReason.UNREADABLE, f"cannot list folder: {exc}")
        return
    pending.append(folder / name for name in names)


def _special_kind(mode: int) -> str:
    return next((name for test, name in _SPECIAL_KINDS if test(mode)), "unknown file type")


def _failure(path: Path, reason: FailureReason, detail: str) -> Fingerprint:
    return Fingerprint(path=str(path)).fail(FingerprintError(reason, detail))
