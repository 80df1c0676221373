"""Data at rest is private to Vigil's user: the database with its -wal/-shm, the index, the
evidence and scan reports are created 0600 in 0700 folders, whatever the umask; the command
line also narrows its umask for files created on its behalf."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.screening.listed import cli_env, fingerprint, make_list
from vigil.cli import app as cli_app
from vigil.core.private_files import UMASK, open_private
from vigil.core.settings import load_settings
from vigil.index.match_index import MatchIndex
from vigil.store import Database, open_database
from vigil.store.evidence import LocalEvidenceBackend


@pytest.fixture(autouse=True)
def _lenient_umask() -> Iterator[None]:
    """The common default, which made everything 0644/0755 before."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_database_wal_and_shm_are_private(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    database = open_database(settings)
    try:
        with database.engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        files = [tmp_path / "data" / name for name in ("vigil.db", "vigil.db-wal", "vigil.db-shm")]
        assert [_mode(path) for path in files] == [0o600] * 3
        assert _mode(tmp_path / "data") == 0o700
    finally:
        database.dispose()


def test_an_existing_open_data_directory_is_closed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    open_database(load_settings(data_dir=data)).dispose()
    assert _mode(data) == 0o700


def test_a_sticky_shared_folder_as_data_directory_is_left_open(tmp_path: Path) -> None:
    """Like /tmp, which root owns: narrowing it would lock every other user out."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    open_database(load_settings(data_dir=shared)).dispose()
    assert _mode(shared) == 0o1777
    assert _mode(shared / "vigil.db") == 0o600


def test_index_files_are_private(tmp_path: Path) -> None:
    root = tmp_path / "index"
    index = MatchIndex.open(root, writable=True)
    index.close()
    everything = [root, *root.rglob("*")]
    assert {path.name for path in everything} >= {"LOCK", "CURRENT"}
    assert any(path.name.startswith("changes-") for path in everything)
    assert any(path.suffix == ".npy" for path in everything)
    for path in everything:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path


def test_evidence_folders_and_blobs_are_private(tmp_path: Path) -> None:
    backend = LocalEvidenceBackend(tmp_path / "evidence")
    backend.write("ab" + "0" * 30, b"ciphertext")
    evidence = tmp_path / "evidence"
    assert _mode(evidence) == _mode(evidence / "ab") == 0o700
    assert _mode(evidence / "ab" / ("ab" + "0" * 30)) == 0o600


def test_a_scan_report_is_private(
    database: Database, database_url: str, tmp_path: Path, corpus_images: list[Path]
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.jpg").write_bytes(corpus_images[0].read_bytes())
    make_list(database, "bank", [("sha1", fingerprint(corpus_images[0]).sha1, "d-1")], tmp_path)
    report = tmp_path / "report.jsonl"
    result = CliRunner().invoke(
        cli_app.app,
        ["scan", str(tree), "--output", str(report), "--workers", "1"],
        env=cli_env(tmp_path, database_url),
        catch_exceptions=False,
    )
    assert report.read_text().strip(), result.output
    assert _mode(report) == 0o600


def test_rewriting_an_existing_file_makes_it_private(tmp_path: Path) -> None:
    report = tmp_path / "old-report.csv"
    report.write_text("from before")
    os.chmod(report, 0o644)
    with open_private(report, "w", encoding="utf-8") as stream:
        stream.write("new")
    assert _mode(report) == 0o600 and report.read_text() == "new"


def test_the_command_line_narrows_its_umask_first(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def command() -> None:
        current = os.umask(0)
        os.umask(current)
        seen.append(current)

    monkeypatch.setattr(cli_app, "app", command)
    cli_app.main()
    assert seen == [UMASK]
