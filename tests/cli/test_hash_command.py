"""`vigil hash`: output formats and their values, folder walking, ordering, workers, exit codes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tests import media_factory
from tests.cli.vigil_cli import WIDE, hash_argv, records, run_hash, run_module
from vigil.cli import feedback
from vigil.cli.app import app
from vigil.cli.output import CSV_COLUMNS
from vigil.fingerprint.pdq import Dihedral

HEX64 = re.compile(r"^[0-9a-f]{64}$")
JSONL_FIELDS = {
    "path",
    "media_type",
    "size",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "pdq_weak",
    "pdq_variants",
    "frames",
    "width",
    "height",
    "duration",
    "error",
    "error_reason",
}
DIHEDRAL_VARIANTS = {d.value for d in Dihedral if d is not Dihedral.ORIGINAL}


@pytest.fixture()
def photos(corpus_images: list[Path], tmp_path: Path) -> list[Path]:
    """Three corpus images copied under names whose sorted order is known."""
    folder = tmp_path / "photos"
    folder.mkdir()
    return [
        Path(shutil.copy(source, folder / f"{n}_{source.name}"))
        for n, source in enumerate(corpus_images[:3])
    ]


def test_jsonl_fields_and_values(photos: list[Path]) -> None:
    result = run_hash(*photos, "--workers", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    rows = records(result.stdout)
    assert [row["path"] for row in rows] == [str(p) for p in photos]
    for row, path in zip(rows, photos, strict=True):
        data = path.read_bytes()
        assert row.keys() >= JSONL_FIELDS
        assert row["media_type"] == "photo"
        assert row["size"] == len(data)
        assert row["md5"] == hashlib.md5(data).hexdigest()
        assert row["sha1"] == hashlib.sha1(data).hexdigest()
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        assert HEX64.match(row["pdq"])
        assert isinstance(row["pdq_quality"], int) and 0 <= row["pdq_quality"] <= 100
        # Other variants (border-trimmed) may be added; the seven dihedral ones are fixed.
        assert {v["variant"] for v in row["pdq_variants"]} >= DIHEDRAL_VARIANTS
        assert all(HEX64.match(v["pdq"]) for v in row["pdq_variants"])
        assert row["frames"] is None
        assert row["error"] is None and row["error_reason"] is None


def test_no_variants_keeps_the_hash(photos: list[Path]) -> None:
    full = records(run_hash(*photos, "-w", "1").stdout)
    bare = records(run_hash(*photos, "-w", "1", "--no-variants").stdout)
    assert all(row["pdq_variants"] == [] for row in bare)
    assert [r["pdq"] for r in bare] == [r["pdq"] for r in full]


def test_csv_matches_jsonl(photos: list[Path], tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not an image")
    as_json = records(run_hash(*photos, junk, "-w", "1").stdout)
    result = run_hash(*photos, junk, "-w", "1", "--format", "csv")
    assert result.exit_code == 1
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert tuple(table[0]) == CSV_COLUMNS
    rows = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in table[1:]]
    assert len(rows) == len(as_json)
    for row, expected in zip(rows, as_json, strict=True):
        for column in ("path", "md5", "sha1", "sha256", "pdq", "error_reason", "error"):
            assert row[column] == (expected[column] or "")
        assert row["size"] == ("" if expected["size"] is None else str(expected["size"]))
        assert json.loads(row["pdq_variants"] or "[]") == expected["pdq_variants"]
        assert row["frame_count"] == ""
    assert rows[0]["pdq_weak"] in ("true", "false")
    assert rows[-1]["error_reason"] == "not_media"


def test_table_format(photos: list[Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.touch()
    result = run_hash(*photos, empty, "-w", "1", "--format", "table", env=WIDE)
    assert result.exit_code == 1
    pdq = records(run_hash(photos[0], "-w", "1").stdout)[0]["pdq"]
    assert pdq in result.stdout
    for path in photos:
        assert path.name in result.stdout
    assert re.search(r"\b\d+ variants\b", result.stdout)
    assert "empty_file" in result.stdout


def test_format_is_case_insensitive(photos: list[Path]) -> None:
    assert run_hash(photos[0], "-w", "1", "--format", "CSV").stdout.startswith("path,")


def test_folder_without_recursive_takes_only_its_files(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    flat = records(run_hash(tree, "-w", "1", "--no-variants").stdout)
    assert [Path(r["path"]).relative_to(tree).as_posix() for r in flat] == ["a.png", "c.png"]


def test_recursive_walks_depth_first_in_name_order(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    result = run_hash(tree, "--recursive", "-w", "1", "--no-variants")
    assert result.exit_code == 0
    found = [Path(r["path"]).relative_to(tree).as_posix() for r in records(result.stdout)]
    assert found == ["a.png", "b/d.png", "b/deeper/e.png", "c.png"]


def test_two_workers_match_one_worker(corpus_images: list[Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff" + bytes(100))
    paths = [*corpus_images[:6], bad, tmp_path / "missing.jpg", *corpus_images[6:12]]
    serial = run_hash(*paths, "--workers", "1")
    parallel = run_hash(*paths, "--workers", "2")
    assert serial.exit_code == parallel.exit_code == 1
    assert [r["path"] for r in records(parallel.stdout)] == [str(p) for p in paths]
    assert parallel.stdout == serial.stdout


def test_missing_path_is_a_per_file_error(photos: list[Path], tmp_path: Path) -> None:
    result = run_hash(photos[0], tmp_path / "nowhere.jpg", "-w", "1")
    assert result.exit_code == 1
    missing = records(result.stdout)[1]
    assert missing["error_reason"] == "unreadable"
    assert "No such file" in missing["error"]
    assert "1 of 2 files failed (unreadable 1)" in result.stderr


@pytest.mark.parametrize(
    "bad_args",
    [
        ["--format", "xml"],
        ["--workers", "0"],
        ["--max-pixels", "0"],
        ["--no-such-option"],
    ],
)
def test_usage_errors_exit_2(photos: list[Path], bad_args: list[str]) -> None:
    assert run_hash(photos[0], *bad_args).exit_code == 2


def test_no_paths_is_a_usage_error() -> None:
    assert run_hash().exit_code == 2


def test_empty_folder_hashes_nothing(tmp_path: Path) -> None:
    result = run_hash(tmp_path, "-w", "1")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no files found" in result.stderr


def test_undecodable_file_name(photos: list[Path], tmp_path: Path) -> None:
    # POSIX names are bytes; this one is not UTF-8.
    odd = Path(
        tmp_path.as_posix().encode().decode()
        + "/"
        + b"caf\xe9.jpg".decode("utf-8", "surrogateescape")
    )
    shutil.copy(photos[0], odd)
    jsonl = run_hash(odd, "-w", "1")
    assert jsonl.exit_code == 0
    assert records(jsonl.stdout)[0]["path"] == str(odd)
    as_csv = run_hash(odd, "-w", "1", "--format", "csv")
    assert as_csv.exit_code == 0
    assert "caf\\xe9.jpg" in as_csv.stdout


def test_python_dash_m_with_workers(photos: list[Path]) -> None:
    """The real entry point, spawning workers from a `-m` main module."""
    done = run_module(*photos, "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    rows = records(done.stdout)
    assert [r["sha256"] for r in rows] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in photos
    ]


def test_hash_is_a_subcommand(photos: list[Path]) -> None:
    result = CliRunner().invoke(app, ["hash", str(photos[0])])
    assert result.exit_code == 0
    assert len(records(result.stdout)) == 1


def test_hash_argv_helper() -> None:
    assert hash_argv("x")[-1] == "x"


def _tree(root: Path) -> Path:
    """tree/a.png, tree/b/d.png, tree/b/deeper/e.png, tree/c.png ("d.png" < "deeper")."""
    tree = root / "tree"
    (tree / "b" / "deeper").mkdir(parents=True)
    for seed, name in enumerate(("a.png", "b/d.png", "b/deeper/e.png", "c.png")):
        media_factory.save(media_factory.gradient(64, 48, seed), tree / name)
    return tree


def test_progress_only_on_a_terminal_with_many_files() -> None:
    piped = Console(file=io.StringIO(), force_terminal=False)
    assert feedback.wants_progress(piped, lambda: 1000) is None
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert feedback.wants_progress(terminal, lambda: feedback.PROGRESS_MIN_FILES) is None
    assert feedback.wants_progress(terminal, lambda: 21) == 21


def test_progress_bar_shows_count_rate_and_eta() -> None:
    screen = io.StringIO()
    with feedback.progress_bar(Console(file=screen, force_terminal=True, width=140), 30) as tick:
        for _ in range(30):
            tick()
    assert "30/30" in screen.getvalue()
    assert "files/s" in screen.getvalue()
    assert "ETA" in screen.getvalue()
