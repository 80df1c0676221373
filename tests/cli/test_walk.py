"""Folder walking: order, hidden files, symlinks, loops, unreadable folders, special files."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import pytest

from tests import media_factory
from tests.cli.vigil_cli import records, run_hash
from vigil.cli.hash_command import fingerprint_walk
from vigil.fingerprint.errors import FailureReason, FingerprintError
from vigil.fingerprint.pipeline import FingerprintOptions
from vigil.fingerprint.record import Fingerprint
from vigil.fingerprint.walk import count_files, walk


def _names(items: list[Path | Fingerprint], root: Path) -> list[str]:
    return [
        Path(str(item) if isinstance(item, Path) else item.path).relative_to(root).as_posix()
        for item in items
    ]


def test_hidden_files_are_kept(tmp_path: Path) -> None:
    for name in (".DS_Store", ".hidden.jpg", "shown.jpg"):
        (tmp_path / name).write_bytes(b"x")
    assert _names(list(walk([tmp_path], recursive=False)), tmp_path) == [
        ".DS_Store",
        ".hidden.jpg",
        "shown.jpg",
    ]


def test_symlink_loop_is_walked_once(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "file.bin").write_bytes(b"x")
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "zz_again").symlink_to(tmp_path / "sub", target_is_directory=True)
    found = _names(list(walk([tmp_path], recursive=True)), tmp_path)
    assert found == ["sub/file.bin"]


def test_symlinked_file_is_hashed_and_dangling_link_reported(tmp_path: Path) -> None:
    media_factory.save(media_factory.gradient(40, 30), tmp_path / "real.png")
    (tmp_path / "link.png").symlink_to(tmp_path / "real.png")
    (tmp_path / "dangling.png").symlink_to(tmp_path / "gone.png")
    result = run_hash(tmp_path, "-w", "1")
    assert result.exit_code == 1
    by_name = {Path(r["path"]).name: r for r in records(result.stdout)}
    assert by_name["link.png"]["pdq"] == by_name["real.png"]["pdq"] is not None
    assert by_name["dangling.png"]["error_reason"] == "unreadable"


def test_unreadable_folder_is_a_per_file_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests may run as root, where chmod 000 does not stop listing: fake the refusal.
    media_factory.save(media_factory.gradient(40, 30), tmp_path / "a.png")
    (tmp_path / "locked").mkdir()
    media_factory.save(media_factory.gradient(40, 30), tmp_path / "z.png")
    real_listdir = os.listdir

    def listdir(folder: Path) -> list[str]:
        if Path(folder).name == "locked":
            raise PermissionError(13, "Permission denied", str(folder))
        return real_listdir(folder)

    monkeypatch.setattr("vigil.fingerprint.walk.os.listdir", listdir)
    result = run_hash(tmp_path, "--recursive", "-w", "1")
    assert result.exit_code == 1
    rows = records(result.stdout)
    assert [Path(r["path"]).name for r in rows] == ["a.png", "locked", "z.png"]
    assert rows[1]["error_reason"] == "unreadable"
    assert "Permission denied" in rows[1]["error"]
    assert rows[0]["pdq"] and rows[2]["pdq"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_reported_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")  # opening it to read would block forever
    [item] = list(walk([tmp_path], recursive=False))
    assert isinstance(item, Fingerprint)
    assert item.error_reason == "unreadable"
    assert "named pipe" in (item.error or "")


def test_deep_tree_has_no_recursion_limit(tmp_path: Path) -> None:
    # Deeper than the recursion limit allows, with the limit lowered rather than the tree
    # made 1000+ deep (shutil.rmtree, which cleans pytest's temp dirs, recurses too).
    deep = tmp_path.joinpath(*["d"] * 150)
    deep.mkdir(parents=True)
    (deep / "bottom.bin").write_bytes(b"x")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(traceback.extract_stack()) + 60)  # 60 frames to spare < 150
    try:
        found = count_files([tmp_path], recursive=True)
    finally:
        sys.setrecursionlimit(limit)
    assert found == 1


def test_missing_path_passes_through_for_the_pipeline(tmp_path: Path) -> None:
    assert list(walk([tmp_path / "missing"], recursive=True)) == [tmp_path / "missing"]


@pytest.mark.parametrize("workers", [1, 2])
def test_walk_failures_keep_their_place(tmp_path: Path, workers: int) -> None:
    good = [
        media_factory.save(media_factory.gradient(40, 30, seed), tmp_path / f"{seed}.png")
        for seed in range(4)
    ]
    failure = Fingerprint(path="walk-failure").fail(
        FingerprintError(FailureReason.UNREADABLE, "cannot list folder")
    )
    items: list[Path | Fingerprint] = [
        failure,
        good[0],
        failure,
        failure,
        good[1],
        good[2],
        failure,
        good[3],
        failure,
    ]
    out = list(
        fingerprint_walk(iter(items), FingerprintOptions(variants=False), workers, timeout=60)
    )
    assert [r.path for r in out] == [
        item.path if isinstance(item, Fingerprint) else str(item) for item in items
    ]
    assert all(r.ok for r in out if r.path != "walk-failure")
