"""Atomic writes: the target holds the old content or the whole new content, never a part;
files are private; nothing temporary is left behind, whatever fails."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vigil.core.files import create_atomically, replacing, write_atomically


class Interrupted(Exception):
    pass


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_creates_a_private_file(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        target = write_atomically(tmp_path / "report.xml", b"<report/>")
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"<report/>"
    if os.name == "posix":
        assert _mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xml"]


def test_write_replaces_the_whole_content(tmp_path: Path) -> None:
    target = tmp_path / "CURRENT"
    target.write_bytes(b"a much longer old content\n")
    write_atomically(target, b"new\n")
    assert target.read_bytes() == b"new\n"


def test_an_interrupted_replacement_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    target.write_text("old,complete\n")
    with pytest.raises(Interrupted), replacing(target, text=True) as out:
        out.write("new,half")
        raise Interrupted
    assert target.read_text() == "old,complete\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]


def test_the_target_does_not_exist_until_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "list.csv"
    with replacing(target, text=True, temporary_suffix=".partial") as out:
        out.write("a\r\nb\n")
        assert not target.exists()
        assert [p.name.endswith(".partial") for p in tmp_path.iterdir()] == [True]
    assert target.read_bytes() == b"a\r\nb\n"  # newlines exactly as written


def test_the_temporary_name_is_the_callers(tmp_path: Path) -> None:
    with replacing(tmp_path / "blob", temporary_prefix=".incoming-") as out:
        out.write(b"\x00")
        assert [p.name.startswith(".incoming-") for p in tmp_path.iterdir()] == [True]


def test_a_missing_folder_fails_without_leaving_anything(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "absent" / "file", b"x")
    assert list(tmp_path.iterdir()) == []


def test_create_refuses_to_replace(tmp_path: Path) -> None:
    key = tmp_path / "master.key"
    key.write_bytes(b"the key everything is sealed under\n")
    with pytest.raises(FileExistsError):
        create_atomically(key, b"another key\n", temporary_prefix=".master-key-")
    assert key.read_bytes() == b"the key everything is sealed under\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]


def test_create_writes_a_new_private_file(tmp_path: Path) -> None:
    key = create_atomically(tmp_path / "signing.pem", b"PEM")
    assert key.read_bytes() == b"PEM"
    if os.name == "posix":
        assert _mode(key) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signing.pem"]
