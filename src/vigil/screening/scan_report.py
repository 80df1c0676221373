"""Scan reports: one JSON line per file, or CSV with one row per match.

Files that matched nothing are left out unless ``every_file`` is set; files that failed are
always reported, because a reviewer must know what was not looked at.
"""

from __future__ import annotations

import csv
import json
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Protocol

from vigil.screening.scan import PROVENANCE_FIELDS, REPORTED_FIELDS

CSV_COLUMNS = ("path", *REPORTED_FIELDS, "error", *PROVENANCE_FIELDS)


class ReportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"

    @classmethod
    def of(cls, path: Path | None) -> ReportFormat:
        """From the file name; stdout gets JSON lines."""
        return cls.CSV if path is not None and path.suffix.lower() == ".csv" else cls.JSONL


class ScanReport(Protocol):
    def write(self, line: dict[str, Any]) -> None: ...


def wanted(line: dict[str, Any], every_file: bool) -> bool:
    return every_file or bool(line["matches"]) or line["error"] is not None


class JsonlReport:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, line: dict[str, Any]) -> None:
        self.stream.write(json.dumps(line, ensure_ascii=False) + "\n")


class CsvReport:
    def __init__(self, stream: IO[str]) -> None:
        self.rows = csv.writer(stream)
        self.rows.writerow(CSV_COLUMNS)

    def write(self, line: dict[str, Any]) -> None:
        for match in line["matches"] or [{}]:
            self.rows.writerow(
                [
                    line["path"],
                    *(_cell(match.get(f)) for f in REPORTED_FIELDS),
                    _cell(line["error"]),
                    *(_cell(match.get(f)) for f in PROVENANCE_FIELDS),
                ]
            )


def _cell(value: object) -> str:
    if isinstance(value, list | tuple):  # tags
        return ";".join(str(each) for each in value)
    return "" if value is None else str(value)


def open_report(report_format: ReportFormat, stream: IO[str]) -> ScanReport:
    return CsvReport(stream) if report_format is ReportFormat.CSV else JsonlReport(stream)
