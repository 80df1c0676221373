"""`vigil hash`: fingerprint files and print one record per file."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import typer

from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_path


def hash_files(
    paths: list[Path] = typer.Argument(..., help="Files or folders to fingerprint."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into folders."),
    output_format: str = typer.Option("jsonl", "--format", help="jsonl, csv or table."),
    no_variants: bool = typer.Option(False, "--no-variants", help="Skip robust query variants."),
) -> None:
    """Fingerprint media: MD5/SHA-1/SHA-256, PDQ with variants, video frame hashes."""
    options = FingerprintOptions(variants=not no_variants)
    failed = False
    for path in _walk(paths, recursive):
        record = fingerprint_path(path, options)
        failed |= not record.ok
        sys.stdout.write(json.dumps(asdict(record)) + "\n")
    raise typer.Exit(1 if failed else 0)


def _walk(paths: list[Path], recursive: bool) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            pattern = path.rglob("*") if recursive else path.glob("*")
            found.extend(sorted(p for p in pattern if p.is_file()))
        else:
            found.append(path)
    return found
