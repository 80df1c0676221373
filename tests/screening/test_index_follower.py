"""A process that finds another one writing the index follows it read-only; when that writer
has only just taken the lock and has not written its first snapshot yet (two backlog workers
starting together), the follower waits for it within a bound instead of failing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from vigil.index.match_index import MatchIndex
from vigil.screening import live_index


def test_a_follower_waits_for_the_writer_s_first_snapshot(tmp_path: Path) -> None:
    root = tmp_path / "index"
    writer = threading.Timer(0.5, lambda: MatchIndex.from_changes([]).write_snapshot(root))
    writer.start()
    try:
        followed = live_index._follow(root)
    finally:
        writer.join()
    followed.close()


def test_a_follower_gives_up_when_no_snapshot_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_index, "FIRST_SNAPSHOT_WAIT_SECONDS", 0.3)
    with pytest.raises(FileNotFoundError):
        live_index._follow(tmp_path / "index")
