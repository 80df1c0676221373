"""Files and folders only Vigil's own user may read: the database, the index, evidence,
reports. Created 0600 and 0700 explicitly (a process umask cannot loosen that), and the CLI
also narrows its umask (:func:`restrict_umask`) so that files other code creates on our
behalf - SQLite's ``-wal``/``-shm``, temporary files - are private too."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Literal

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
UMASK = 0o077  # group and others get nothing


def restrict_umask() -> int:
    """Make everything this process creates from now on private; returns the old umask."""
    return os.umask(UMASK)


def private_directory(path: Path) -> Path:
    """``path`` and any missing parents, created 0700. An existing directory is left as it
    is: it may be shared on purpose (e.g. a parent such as /srv)."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:
            continue  # another process created it meanwhile
        os.chmod(folder, DIRECTORY_MODE)  # mkdir's mode is masked by the umask
    return path


def tighten_directory(path: Path) -> Path:
    """Create ``path`` 0700, or narrow it to 0700 when it is ours and readable by others:
    Vigil's data directory held the database and index 0755 before, and once the directory
    is closed nothing inside can be reached, whatever the files' own modes."""
    private_directory(path)
    status = path.stat()
    if (
        os.name == "posix"
        and status.st_uid == os.getuid()
        and status.st_mode & 0o077
        and not _shared_on_purpose(path, status)
    ):
        os.chmod(path, DIRECTORY_MODE)
    return path


def _shared_on_purpose(path: Path, status: os.stat_result) -> bool:
    """A folder others must keep reaching: a sticky one such as /tmp (which root owns, so
    narrowing it as root would break the machine), the root or the user's home."""
    resolved = path.resolve()
    return bool(status.st_mode & stat.S_ISVTX) or resolved in {Path("/"), Path.home().resolve()}


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 if it does not exist (e.g. before SQLite opens it, so
    the database and the ``-wal``/``-shm`` files SQLite gives the database's mode are
    private). An existing file keeps its content and mode."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.fchmod(descriptor, FILE_MODE)
    os.close(descriptor)
    return path


def open_private(
    path: Path,
    mode: Literal["wb", "ab", "w"] = "wb",
    encoding: str | None = None,
    newline: str | None = None,
) -> IO:
    """``open(path, mode)``, but a file it creates is 0600 from its first byte."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "ab" else os.O_TRUNC)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        _narrow(descriptor)
        if "b" in mode:
            return os.fdopen(descriptor, mode)
        return os.fdopen(descriptor, mode, encoding=encoding, newline=newline)
    except BaseException:
        os.close(descriptor)
        raise


def _narrow(descriptor: int) -> None:
    """0600 for an existing regular file of ours being rewritten; a device (``--output
    /dev/stdout``) or someone else's file keeps its mode."""
    status = os.fstat(descriptor)
    if stat.S_ISREG(status.st_mode) and status.st_uid == os.getuid():
        os.fchmod(descriptor, FILE_MODE)
