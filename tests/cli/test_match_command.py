"""`vigil match` end to end on SQLite and PostgreSQL, with benign corpus images."""

from __future__ import annotations

import json
from pathlib import Path

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


def _match(tmp_path: Path, url: str, *paths: Path) -> Result:
    result = CliRunner().invoke(
        app, ["match", *map(str, paths)], env=cli_env(tmp_path, url), catch_exceptions=False
    )
    assert "Traceback" not in result.output + result.stderr
    return result


def test_match_reports_entries_variants_and_failures(
    database: Database, database_url: str, tmp_path: Path, corpus_images: list[Path]
) -> None:
    listed = fingerprint(corpus_images[0])
    make_list(database, "bank", [("pdq", listed.pdq, "case-7")], tmp_path)
    rotated = rotated_copy(corpus_images[0], tmp_path / "rotated.jpg")
    missing = tmp_path / "missing.jpg"
    result = _match(tmp_path, database_url, rotated, corpus_images[1], missing)
    assert result.exit_code == 1  # one file could not be hashed
    lines = {Path(r["path"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    [match] = lines["rotated.jpg"]["matches"]
    assert match["list"] == "bank" and match["external_id"] == "case-7"
    assert match["classification"] == "A1" and match["signal_type"] == "pdq"
    assert match["variant"] != "original" and match["segments"] == []
    assert lines[corpus_images[1].name]["matches"] == []
    assert lines["missing.jpg"]["error"]


def test_match_without_database_fails_clearly(tmp_path: Path, corpus_images: list[Path]) -> None:
    result = _match(tmp_path, UNREACHABLE_DATABASE, corpus_images[0])
    assert result.exit_code == 2
    assert result.stderr.startswith("error:") and result.stdout == ""


def test_match_with_damaged_index_fails_clearly(
    database_url: str, tmp_path: Path, corpus_images: list[Path]
) -> None:
    index = tmp_path / "data" / "index"
    index.mkdir(parents=True)
    (index / "CURRENT").write_text("../elsewhere\n")
    result = _match(tmp_path, database_url, corpus_images[0])
    assert result.exit_code == 2
    assert "match index unusable" in result.stderr and "rebuild" in result.stderr


def test_match_against_unknown_list_fails_clearly(
    database: Database, database_url: str, tmp_path: Path, corpus_images: list[Path]
) -> None:
    make_list(database, "bank", [("md5", fingerprint(corpus_images[0]).md5, "1")], tmp_path)
    result = _match(tmp_path, database_url, "--list", "bnak", corpus_images[0])
    assert result.exit_code == 2
    assert "no hash list named 'bnak' (lists: bank)" in result.stderr


def test_a_file_that_cannot_be_decoded_still_matches_by_digest(
    database: Database, database_url: str, tmp_path: Path, corpus_images: list[Path]
) -> None:
    """Like the service: the decode error is reported beside the digest match, exit code 1."""
    broken = undecodable_files(corpus_images[0], tmp_path / "broken")
    make_list(
        database,
        "bank",
        [("sha256", fingerprint_path(p).sha256, reason) for reason, p in broken.items()],
        tmp_path,
    )
    result = _match(tmp_path, database_url, *broken.values())
    assert result.exit_code == 1  # not fully hashed, whatever matched
    lines = {Path(r["path"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    for reason, path in broken.items():
        line = lines[path.name]
        assert line["error"], line
        [match] = line["matches"]
        assert (match["signal_type"], match["external_id"]) == ("sha256", reason)
