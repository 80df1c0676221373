"""The versioned weights file: which reasons count and how much, the score thresholds of the
priority levels, and the disposition rules. Read strictly: an unknown key, a wrong type, a
negative or huge number or a missing version is refused with a plain message, because a typo
here silently reorders the queue of reports about children."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from vigil.store.errors import StoreError

MAX_FILE_BYTES = 64 * 1024  # a weights file is a page of text
MAX_WEIGHT = 1000.0
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_FILE = "default_weights.toml"

# Every reason the scorer knows; +1 adds its weight, -1 subtracts it (docs/triage.md).
REASON_DIRECTIONS: Mapping[str, int] = MappingProxyType(
    {
        "escalation": 1,
        "contact": 1,
        "danger_now": 1,
        "serious": 1,
        "infant": 1,
        "prepubescent": 1,
        "pubescent": 1,
        "new_material": 1,
        "live_streaming": 1,
        "physical_harm": 1,
        "self_production": 1,
        "linked_reports": 1,
        "other_companies": 1,
        "file_count": 1,
        "recent_incident": 1,
        "analyst_note": 1,
        "known_only": -1,
        "viral_bundle": -1,
        "generative_ai": -1,
        "old_material": -1,
        "peer_minors": -1,
        "resolved": -1,
    }
)
LEVEL_ONE_REASONS = frozenset(REASON_DIRECTIONS)

Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)]
Cap = Annotated[int, Field(ge=1, le=100_000, strict=True)]
Word = Annotated[str, Field(min_length=3, max_length=60)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class WeightsRefused(StoreError, ValueError):
    """The weights file cannot be used; the message says why in one line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Scales(_Strict):
    linked_reports_cap: Cap = 5
    other_companies_cap: Cap = 3
    file_count_cap: Cap = 100
    recent_incident_days: Cap = 30
    recency_half_life_days: Cap = 7
    contact_half_life_days: Cap = 14
    contact_floor: Fraction = 0.3
    urgent_contact: Fraction = 0.5
    viral_reports_cap: Cap = 10
    viral_companies_min: Cap = 2


class _Priority(_Strict):
    level_1: Weight
    level_2: Weight
    level_1_needs: list[str] = Field(default_factory=list, max_length=len(REASON_DIRECTIONS))

    @field_validator("level_1_needs")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        unknown = sorted(set(names) - LEVEL_ONE_REASONS)
        if unknown:
            raise ValueError(f"unknown reason {unknown[0]!r}")
        return names


class _Disposition(_Strict):
    viral_without_new_is_informational: StrictBool = True
    viral_informational_value: Fraction = 0.5
    known_only_best_level: Annotated[int, Field(ge=1, le=3, strict=True)] = 3


class _Notes(_Strict):
    imminent_words: list[Word] = Field(default_factory=list, max_length=50)


class _File(_Strict):
    version: Annotated[str, Field(min_length=1, max_length=64)]
    description: Annotated[str, Field(max_length=500)] = ""
    weights: dict[str, Weight]
    scales: _Scales = _Scales()
    priority: _Priority
    disposition: _Disposition = _Disposition()
    notes: _Notes = _Notes()

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not VERSION_PATTERN.match(value):
            raise ValueError("use letters, digits, '.', '_' or '-' (at most 64)")
        return value

    @field_validator("weights")
    @classmethod
    def _reasons(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(weights) - set(REASON_DIRECTIONS))
        if unknown:
            raise ValueError(f"unknown reason {unknown[0][:40]!r}")
        missing = sorted(set(REASON_DIRECTIONS) - set(weights))
        if missing:
            raise ValueError(f"missing reason {missing[0]!r}")
        return weights


@dataclass(frozen=True)
class Weights:
    """One parsed weights file, with its exact bytes and their SHA-256."""

    version: str
    description: str
    weights: Mapping[str, float]
    linked_reports_cap: int
    other_companies_cap: int
    file_count_cap: int
    recent_incident_days: int
    recency_half_life_days: int
    contact_half_life_days: int
    contact_floor: float
    urgent_contact: float
    viral_reports_cap: int
    viral_companies_min: int
    level_1: float
    level_2: float
    level_1_needs: frozenset[str]
    viral_without_new_is_informational: bool
    viral_informational_value: float
    known_only_best_level: int
    imminent_words: tuple[str, ...]
    content: bytes
    sha256: str

    def signed(self, reason: str) -> float:
        """The reason's weight with its direction: negative for reasons that lower."""
        return self.weights[reason] * REASON_DIRECTIONS[reason]


def load_weights(path: Path | None = None) -> Weights:
    """The weights in ``path``; None: the packaged default."""
    if path is None:
        content = resources.files("vigil.triage").joinpath(DEFAULT_FILE).read_bytes()
        return parse_weights(content)
    try:
        with Path(path).open("rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise WeightsRefused(
            f"cannot read the weights file {path}: {exc.strerror or exc}"
        ) from None
    return parse_weights(content)


def parse_weights(content: bytes) -> Weights:
    """The weights in a file's bytes, or WeightsRefused with the first problem."""
    if len(content) > MAX_FILE_BYTES:
        raise WeightsRefused(f"the weights file is larger than {MAX_FILE_BYTES} bytes")
    try:
        document = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise WeightsRefused("the weights file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise WeightsRefused(f"the weights file is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per nested array or table
        raise WeightsRefused("the weights file nests too deeply") from None
    if "version" not in document:
        raise WeightsRefused(
            'the weights file has no version: add version = "..." and '
            "change it whenever a weight changes"
        )
    try:
        parsed = _File.model_validate(document)
    except ValidationError as exc:
        raise WeightsRefused(f"weights file: {_first_problem(exc)}") from None
    if parsed.priority.level_2 > parsed.priority.level_1:
        raise WeightsRefused("weights file: priority.level_2 must not exceed priority.level_1")
    return _weights(parsed, content)


def _weights(parsed: _File, content: bytes) -> Weights:
    return Weights(
        version=parsed.version,
        description=parsed.description,
        weights=MappingProxyType(dict(parsed.weights)),
        linked_reports_cap=parsed.scales.linked_reports_cap,
        other_companies_cap=parsed.scales.other_companies_cap,
        file_count_cap=parsed.scales.file_count_cap,
        recent_incident_days=parsed.scales.recent_incident_days,
        recency_half_life_days=parsed.scales.recency_half_life_days,
        contact_half_life_days=parsed.scales.contact_half_life_days,
        contact_floor=parsed.scales.contact_floor,
        urgent_contact=parsed.scales.urgent_contact,
        viral_reports_cap=parsed.scales.viral_reports_cap,
        viral_companies_min=parsed.scales.viral_companies_min,
        level_1=parsed.priority.level_1,
        level_2=parsed.priority.level_2,
        level_1_needs=frozenset(parsed.priority.level_1_needs),
        viral_without_new_is_informational=parsed.disposition.viral_without_new_is_informational,
        viral_informational_value=parsed.disposition.viral_informational_value,
        known_only_best_level=parsed.disposition.known_only_best_level,
        imminent_words=tuple(word.casefold() for word in parsed.notes.imminent_words),
        content=bytes(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part)[:40] for part in error["loc"]) or "the file"
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{where}: {message}"
