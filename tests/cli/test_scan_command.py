"""`vigil scan` end to end on SQLite and PostgreSQL: report contents (JSON lines and CSV),
--all, resuming an interrupted scan without hashing finished files again, bad input."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.screening.listed import (
    UNREACHABLE_DATABASE,
    cli_env,
    fingerprint,
    make_list,
    rotated_copy,
)
from tests.screening.undecodable import undecodable_files
from vigil.cli.app import app
from vigil.fingerprint.pipeline import fingerprint_path
from vigil.store import Database
from vigil.store.models import ScanItem, ScanItemStatus, ScanRun, ScanStatus


@pytest.fixture
def tree(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Path:
    """Five corpus images, two of them listed (one by digest, one by PDQ, stored rotated)."""
    root = tmp_path / "seized"
    (root / "sub").mkdir(parents=True)
    for image in corpus_images[:4]:
        shutil.copy(image, root / image.name)
    rotated_copy(corpus_images[4], root / "sub" / "turned.jpg")
    make_list(
        database,
        "bank",
        [
            ("sha1", fingerprint(corpus_images[0]).sha1, "d-1"),
            ("pdq", fingerprint(corpus_images[4]).pdq, "p-1"),
        ],
        tmp_path,
    )
    return root


def _scan(tmp_path: Path, url: str, *args: str | Path) -> Result:
    result = CliRunner().invoke(
        app, ["scan", *map(str, args)], env=cli_env(tmp_path, url), catch_exceptions=False
    )
    assert "Traceback" not in result.output + result.stderr
    return result


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_report_lists_matched_files(
    tree: Path, database_url: str, tmp_path: Path, corpus_images: list[Path]
) -> None:
    report = tmp_path / "report.jsonl"
    result = _scan(tmp_path, database_url, tree, "--output", report, "--workers", "1")
    assert result.exit_code == 0, result.stderr
    lines = {Path(line["path"]).name: line for line in _lines(report)}
    assert set(lines) == {corpus_images[0].name, "turned.jpg"}
    [digest] = lines[corpus_images[0].name]["matches"]
    assert digest == {
        "list": "bank",
        "entry_id": digest["entry_id"],
        "external_id": "d-1",
        "signal_type": "sha1",
        "distance": None,
        "variant": None,
        # provenance: a file's entry, so no exchange
        "classification": "A1",
        "exchange": None,
        "exchange_kind": None,
        "member": None,
        "tags": [],
        "source": "bank.csv",
    }
    [photo] = lines["turned.jpg"]["matches"]
    assert photo["external_id"] == "p-1" and photo["variant"] != "original"
    assert all(line["error"] is None for line in lines.values())


def test_csv_report_with_every_file(tree: Path, database_url: str, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    result = _scan(tmp_path, database_url, tree, "--output", report, "--all", "-w", "2")
    assert result.exit_code == 0, result.stderr
    with report.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 5
    assert sorted(r["external_id"] for r in rows if r["list"]) == ["d-1", "p-1"]
    assert all(r["error"] == "" for r in rows)
    assert {r["source"] for r in rows if r["list"]} == {"bank.csv"}
    assert all(r["exchange"] == "" for r in rows)


def test_report_inside_the_scanned_tree_is_not_scanned(
    tree: Path, database_url: str, tmp_path: Path
) -> None:
    report = tree / "report.jsonl"
    result = _scan(tmp_path, database_url, tree, "--output", report, "--all", "-w", "1")
    assert result.exit_code == 0, result.stderr
    assert report.name not in {Path(line["path"]).name for line in _lines(report)}
    assert len(_lines(report)) == 5


def test_resume_skips_finished_files(
    tree: Path, database: Database, database_url: str, tmp_path: Path
) -> None:
    report = tmp_path / "report.jsonl"
    stopped = _scan(
        tmp_path, database_url, tree, "-o", report, "--all", "-w", "1", "--stop-after", "2"
    )
    assert stopped.exit_code == 2 and "resume" in stopped.stderr
    with database.transaction() as session:
        assert session.scalar(select(ScanRun.status)) is ScanStatus.INTERRUPTED
        first = {i.path: i.scanned_at for i in session.scalars(select(ScanItem))}
    assert len(first) == 2

    resumed = _scan(tmp_path, database_url, tree, "-o", report, "--all", "-w", "1")
    assert resumed.exit_code == 0, resumed.stderr
    assert "3 files hashed, 2 from an earlier attempt" in resumed.stderr
    assert len(_lines(report)) == 5  # the finished files are in the new report too
    assert sum(bool(line["matches"]) for line in _lines(report)) == 2
    with database.transaction() as session:
        runs = session.scalars(select(ScanRun)).all()
        items = {i.path: i for i in session.scalars(select(ScanItem))}
    assert [r.status for r in runs] == [ScanStatus.COMPLETED]
    assert all(items[path].scanned_at == at for path, at in first.items())  # not redone
    assert {i.status for i in items.values()} == {ScanItemStatus.DONE}

    fresh = _scan(tmp_path, database_url, tree, "--no-resume", "-w", "1")
    assert "5 files hashed, 0 from an earlier attempt" in fresh.stderr


def test_file_list_with_missing_file_exits_1(tree: Path, database_url: str, tmp_path: Path) -> None:
    listing = tmp_path / "files.txt"
    listing.write_text(f"{sorted(tree.glob('*.jpg'))[0]}\n{tree / 'gone.jpg'}\n")
    result = _scan(tmp_path, database_url, "--from-file", listing, "-w", "1")
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(line["path"]).name for line in lines if line["error"]] == ["gone.jpg"]


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("{tree}", "--from-file", "{tree}/x"),
        ("{tmp}/not-a-folder",),
        ("--from-file", "{tmp}/none.txt"),
    ],
)
def test_bad_arguments_exit_2(
    tree: Path, database_url: str, tmp_path: Path, args: tuple[str, ...]
) -> None:
    argv = [a.format(tree=tree, tmp=tmp_path) for a in args]
    result = _scan(tmp_path, database_url, *argv)
    assert result.exit_code == 2
    assert result.stderr.startswith("error:")


def test_unavailable_database_exits_2(tmp_path: Path, corpus_images: list[Path]) -> None:
    result = _scan(tmp_path, UNREACHABLE_DATABASE, corpus_images[0].parent)
    assert result.exit_code == 2
    assert "error:" in result.stderr and result.stdout == ""


def test_list_filter_and_resume_only_with_the_same_lists(
    tree: Path, database: Database, database_url: str, tmp_path: Path, corpus_images: list[Path]
) -> None:
    make_list(database, "other", [("md5", fingerprint(corpus_images[1]).md5, "o-1")], tmp_path)
    stopped = _scan(tmp_path, database_url, tree, "--list", "other", "-w", "1", "--stop-after", "1")
    assert stopped.exit_code == 2
    widened = _scan(tmp_path, database_url, tree, "-w", "1")  # other lists: a new run
    assert "5 files hashed, 0 from an earlier attempt" in widened.stderr
    assert len(widened.stdout.splitlines()) == 3
    narrowed = _scan(tmp_path, database_url, tree, "--list", "other", "-w", "1")
    assert "4 files hashed, 1 from an earlier attempt" in narrowed.stderr
    assert [
        m["list"] for line in map(json.loads, narrowed.stdout.splitlines()) for m in line["matches"]
    ] == ["other"]


def test_unknown_list_exits_2(tree: Path, database_url: str, tmp_path: Path) -> None:
    result = _scan(tmp_path, database_url, tree, "--list", "nope")
    assert result.exit_code == 2
    assert "no hash list named 'nope'" in result.stderr


def test_resume_across_lookup_chunks_and_item_batches(database_url: str, tmp_path: Path) -> None:
    """More files than one lookup chunk (256) and one item batch (200)."""
    root = tmp_path / "many"
    root.mkdir()
    rng = np.random.default_rng(1)
    for n in range(300):
        pixels = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"{n:03d}.png")
    stopped = _scan(tmp_path, database_url, root, "--all", "-w", "1", "--stop-after", "260")
    assert "260 files hashed" in stopped.stderr
    resumed = _scan(tmp_path, database_url, root, "--all", "-w", "1")
    assert "40 files hashed, 260 from an earlier attempt" in resumed.stderr
    paths = [json.loads(line)["path"] for line in resumed.stdout.splitlines()]
    assert sorted(paths) == sorted(str(p) for p in root.iterdir())


@pytest.mark.parametrize("workers", ["1", "2"])  # in this process, and through hashing workers
def test_files_that_cannot_be_decoded_still_match_by_digest(
    database: Database, database_url: str, tmp_path: Path, corpus_images: list[Path], workers: str
) -> None:
    broken = undecodable_files(corpus_images[0], tmp_path / "broken")
    make_list(
        database,
        "bank",
        [("sha256", fingerprint_path(p).sha256, reason) for reason, p in broken.items()],
        tmp_path,
    )
    report = tmp_path / "report.csv"
    result = _scan(tmp_path, database_url, tmp_path / "broken", "-o", report, "-w", workers)
    assert result.exit_code == 1, result.stderr  # matched, but not fully hashed
    assert f"{len(broken)} matched, {len(broken)} failed" in result.stderr
    with report.open(newline="") as rows:
        found = {Path(row["path"]).name: row for row in csv.DictReader(rows)}
    for reason, path in broken.items():
        row = found[path.name]
        assert (row["signal_type"], row["external_id"]) == ("sha256", reason)
        assert row["error"], row
