"""The labels file: people's decisions as labelled reports for the next calibration, one JSON
object a line. The first line is the header (format, version, the weights that scored the
reports, what was left out and why); every other line is one report. Read strictly and
bounded, since the file comes back from outside the database: a garbage line, an unknown
version, a level out of range or an oversized file is refused with the line that broke it
(docs/triage-calibration.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.store.errors import StoreError
from vigil.triage.calibration import Example

FORMAT = "vigil-triage-labels"
VERSION = 1
MAX_EXAMPLES = 100_000
MAX_LINE_BYTES = 4096  # a report line is about 150 bytes; the header a few hundred
MAX_FILE_BYTES = MAX_EXAMPLES * 256 + MAX_LINE_BYTES
# Who said the true level: an analyst's override, an agency's decline reason or outcome
# note, or several agency statements that agree.
Source = Literal["override", "declined", "outcome", "agency"]
SOURCES: tuple[str, ...] = get_args(Source)
LEVEL_FIELDS = frozenset({"level", "best_level", "true_level"})

Level = Annotated[int, Field(ge=1, le=4, strict=True)]
Count = Annotated[int, Field(ge=0, le=10_000_000, strict=True)]


class LabelsRefused(StoreError, ValueError):
    """The labels file cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class LabelledReport:
    """One report with a decision: its score and levels under the exporting weights, and the
    level the decision implies (``source``: who said so)."""

    report_id: int
    score: float
    level: int  # computed by the scorer
    best_level: int  # the best level the rules allow it (the scorer with thresholds at 0)
    true_level: int
    source: str

    def example(self) -> Example:
        return Example(self.score, self.best_level, self.true_level)


@dataclass(frozen=True)
class Labels:
    weights_version: str
    weights_sha256: str
    reports: tuple[LabelledReport, ...]
    left_out: Mapping[str, int]  # why a decided report has no label -> how many

    def examples(self) -> list[Example]:
        return [report.example() for report in self.reports]


_Model = TypeVar("_Model", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Header(_Strict):
    format: Literal["vigil-triage-labels"]
    version: Literal[1]
    weights_version: Annotated[str, Field(min_length=1, max_length=64)]
    weights_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    reports: Count
    left_out: dict[Annotated[str, Field(max_length=100)], Count] = Field(max_length=20)


class _Line(_Strict):
    report_id: Annotated[int, Field(ge=1, le=2**63 - 1, strict=True)]
    score: Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
    level: Level
    best_level: Level
    true_level: Level
    source: Source


# --- writing -------------------------------------------------------------------------------


def labels_lines(labels: Labels) -> bytes:
    """The file's bytes: the header line, then one line per report."""
    header = {
        "format": FORMAT,
        "version": VERSION,
        "weights_version": labels.weights_version,
        "weights_sha256": labels.weights_sha256,
        "reports": len(labels.reports),
        "left_out": dict(sorted(labels.left_out.items())),
    }
    lines = [json.dumps(header)] + [json.dumps(asdict(report)) for report in labels.reports]
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- reading -------------------------------------------------------------------------------


def read_labels(path: Path) -> Labels:
    """The labels in ``path``, or LabelsRefused naming the first problem."""
    try:
        with Path(path).open("rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LabelsRefused(f"cannot read the labels file {path}: {exc.strerror or exc}") from None
    return parse_labels(content)


def parse_labels(content: bytes) -> Labels:
    if len(content) > MAX_FILE_BYTES:
        raise LabelsRefused(
            f"the labels file is larger than {MAX_FILE_BYTES} bytes "
            f"(at most {MAX_EXAMPLES} reports)"
        )
    lines = [line for line in content.split(b"\n") if line.strip()]
    if not lines:
        raise LabelsRefused("the labels file is empty")
    if len(lines) > MAX_EXAMPLES + 1:
        raise LabelsRefused(f"the labels file has more than {MAX_EXAMPLES} reports")
    header = _header(lines[0])
    reports = tuple(_report(number, line) for number, line in enumerate(lines[1:], start=2))
    if len(reports) != header.reports:
        raise LabelsRefused(
            f"the labels file has {len(reports)} reports but its header says "
            f"{header.reports}: it was cut short or joined with another"
        )
    _unique(reports)
    return Labels(header.weights_version, header.weights_sha256, reports, header.left_out)


def _header(line: bytes) -> _Header:
    document = _object(1, line)
    if document.get("format") != FORMAT:
        raise LabelsRefused(f'line 1: not a labels file (no "format": "{FORMAT}" header)')
    version = document.get("version")
    if version != VERSION:
        raise LabelsRefused(
            f"line 1: unknown labels version {str(version)[:20]!r}: "
            f"this Vigil reads version {VERSION}; export the labels again"
        )
    return _validated(_Header, 1, document)


def _report(number: int, line: bytes) -> LabelledReport:
    parsed = _validated(_Line, number, _object(number, line))
    return LabelledReport(
        parsed.report_id,
        float(parsed.score),
        parsed.level,
        parsed.best_level,
        parsed.true_level,
        parsed.source,
    )


def _object(number: int, line: bytes) -> dict[str, object]:
    if len(line) > MAX_LINE_BYTES:
        raise LabelsRefused(f"line {number}: longer than {MAX_LINE_BYTES} bytes")
    try:
        document = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise LabelsRefused(f"line {number}: not a JSON object") from None
    if not isinstance(document, dict):
        raise LabelsRefused(f"line {number}: not a JSON object")
    return document


def _validated(model: type[_Model], number: int, document: dict[str, object]) -> _Model:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part)[:40] for part in error["loc"]) or "the line"
        message = "unknown key" if error["type"] == "extra_forbidden" else str(error["msg"])
        if where in LEVEL_FIELDS:
            message = "a level is 1, 2, 3 or 4 (a whole number)"
        raise LabelsRefused(f"line {number}: {where}: {message}") from None


def _unique(reports: Sequence[LabelledReport]) -> None:
    seen: set[int] = set()
    for number, report in enumerate(reports, start=2):
        if report.report_id in seen:
            raise LabelsRefused(f"line {number}: report {report.report_id} is labelled twice")
        seen.add(report.report_id)
