"""The cases of the independent triage set (see the package docstring), read from JSON and
checked: a malformed case is refused with a CaseError naming the case and the field, never
loaded half-right.

A file is named by ``ref``: the same ref in two cases is the same file (the same bytes, so the
same digests), which is how a re-post, a shared file and a viral meme are written. A known
file carries its catalogue classification; the loader puts its MD5 on a labelled hash list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.store.shared.vocabulary import FILE_ANNOTATIONS, INCIDENT_TYPES, is_classification

CASES_FILE = Path(__file__).with_name("cases.json")
LEVELS = (1, 2, 3, 4)
FILE_STATUSES = ("new", "known")
REPORT_TAGS = (
    "sextortion",
    "csamSolicitation",
    "minorToMinorInteraction",
    "spam",
    "sadisticOnlineExploitation",
)
ACCOUNT_FIELDS = ("esp_id", "screen_name", "email", "ip", "phone")
VICTIM_FIELDS = ("age", "screen_name", "esp_id")
# A batched (viral) report may carry none of these: the API refuses them (Appendix B.9),
# and each of its files must be annotated as one of MEME_ANNOTATIONS (Appendix E.1).
NOT_IN_BATCHED = ("escalation", "info", "chat", "victim")
MEME_ANNOTATIONS = frozenset({"viral", "potentialMeme"})
# Every pattern the issue names as misleading, and the plain kinds of case beside them.
# The misleading patterns issue 20 names: each must be in the set several times.
MISLEADING = (
    "reposted-by-linked-account",
    "linked-offenders-sharing",
    "truly-viral",
    "escalation-says-meme",
    "escalation-volume-or-repeat",
    "minor-peer-exchange",
    "coerced-teen-now-safe",
    "ended-months-ago-supplemental",
    "new-material-no-context",
    "new-with-child-now-free-text",
    "negation",
)
PATTERNS = (
    *MISLEADING,
    "imminent-contact",
    "known-catalogued",
    "old-incident",
    "generative-ai",
    "ordinary",
)


class CaseError(ValueError):
    """A case that cannot be used, with the case id and the reason."""


@dataclass(frozen=True, slots=True)
class Account:
    esp_id: str | None = None
    screen_name: str | None = None
    email: str | None = None
    ip: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class VictimInfo:
    age: int | None = None
    screen_name: str | None = None
    esp_id: str | None = None


@dataclass(frozen=True, slots=True)
class CaseFile:
    ref: str
    status: str  # "new" (never catalogued) or "known"
    classification: str | None  # A1, A2, B1, B2 when known
    annotations: tuple[str, ...]
    supplemental: bool  # "Supplemental Reported": evidence beside the report, e.g. a chat
    note: str | None


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    level: int
    why: str
    patterns: tuple[str, ...]
    company: str
    incident_type: str
    hours_ago: float
    escalation: str | None
    info: str | None
    chat: str | None
    batched: bool
    tags: tuple[str, ...]
    reported: tuple[Account, ...]
    victim: VictimInfo | None
    files: tuple[CaseFile, ...]


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    """Every case of ``path``; raises CaseError for the first malformed one."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CaseError(f"{path.name} is not JSON: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("cases"), list):
        raise CaseError(f'{path.name} must hold {{"cases": [...]}}')
    return parse_cases(raw["cases"])


def parse_cases(raw: Sequence[Any]) -> list[Case]:
    """Each raw case checked, then the set as a whole (unique ids, one meaning per file)."""
    cases = [parse_case(item, index) for index, item in enumerate(raw)]
    _check_unique_ids(cases)
    _check_files_agree(cases)
    return cases


def parse_case(raw: Any, index: int = 0) -> Case:
    if not isinstance(raw, Mapping):
        raise CaseError(f"case #{index} is not an object")
    case_id = raw.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        raise CaseError(f"case #{index} has no id")
    where = _Where(case_id, raw)
    case = Case(
        id=case_id,
        level=where.level(),
        why=where.text("why", required=True) or "",
        patterns=where.names("patterns", PATTERNS, required=True),
        company=where.text("company", required=True) or "",
        incident_type=where.choice("type", INCIDENT_TYPES),
        hours_ago=where.hours_ago(),
        escalation=where.text("escalation"),
        info=where.text("info"),
        chat=where.text("chat"),
        batched=where.flag("batched"),
        tags=where.names("tags", REPORT_TAGS),
        reported=tuple(_account(case_id, item) for item in where.objects("reported")),
        victim=_victim(case_id, raw.get("victim")),
        files=tuple(_file(case_id, item) for item in where.objects("files")),
    )
    _check_batched(case, raw)
    return case


class _Where:
    """Field readers for one raw case, each refusing with the case id and field name."""

    def __init__(self, case_id: str, raw: Mapping[str, Any]) -> None:
        self.case_id, self.raw = case_id, raw

    def fail(self, field: str, reason: str) -> CaseError:
        return CaseError(f"case {self.case_id}: {field} {reason}")

    def level(self) -> int:
        value = self.raw.get("level")
        if isinstance(value, bool) or value not in LEVELS:
            raise self.fail("level", f"must be one of {LEVELS}, not {value!r}")
        return int(value)

    def text(self, field: str, *, required: bool = False) -> str | None:
        value = self.raw.get(field)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, "must be a non-empty string")
        return value

    def choice(self, field: str, allowed: Sequence[str]) -> str:
        value = self.raw.get(field)
        if value not in allowed:
            raise self.fail(field, f"must be one of the schema's values, not {value!r}")
        return str(value)

    def names(
        self, field: str, allowed: Sequence[str], *, required: bool = False
    ) -> tuple[str, ...]:
        value = self.raw.get(field, [])
        if not isinstance(value, list) or (required and not value):
            raise self.fail(
                field, "must be a list" + (" with at least one name" if required else "")
            )
        unknown = [name for name in value if name not in allowed]
        if unknown:
            raise self.fail(field, f"has unknown names {unknown}")
        return tuple(value)

    def hours_ago(self) -> float:
        value = self.raw.get("hours_ago")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value < 24 * 3650
        ):
            raise self.fail("hours_ago", "must be a number of hours in the past (0 < h < 10 years)")
        return float(value)

    def flag(self, field: str) -> bool:
        value = self.raw.get(field, False)
        if not isinstance(value, bool):
            raise self.fail(field, "must be true or false")
        return value

    def objects(self, field: str) -> list[Mapping[str, Any]]:
        value = self.raw.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(field, "must be a list of objects")
        return list(value)


def _account(case_id: str, raw: Mapping[str, Any]) -> Account:
    values = _strings(case_id, "reported", raw, ACCOUNT_FIELDS)
    if not values:
        raise CaseError(f"case {case_id}: a reported account needs at least one identifier")
    return Account(**values)


def _victim(case_id: str, raw: Any) -> VictimInfo | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise CaseError(f"case {case_id}: victim must be an object")
    age = raw.get("age")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int) or not 0 <= age < 18):
        raise CaseError(f"case {case_id}: victim age must be a whole number under 18")
    names = _strings(case_id, "victim", {k: v for k, v in raw.items() if k != "age"}, VICTIM_FIELDS)
    return VictimInfo(age=age, **names)


def _strings(
    case_id: str, where: str, raw: Mapping[str, Any], allowed: Sequence[str]
) -> dict[str, str]:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise CaseError(f"case {case_id}: {where} has unknown fields {unknown}")
    if not all(isinstance(v, str) and v.strip() for v in raw.values()):
        raise CaseError(f"case {case_id}: {where} values must be non-empty strings")
    return dict(raw)


def _file(case_id: str, raw: Mapping[str, Any]) -> CaseFile:
    where = _Where(case_id, raw)
    ref = where.text("ref", required=True) or ""
    status = where.choice("status", FILE_STATUSES)
    classification = raw.get("class")
    if status == "known" and not is_classification(classification):
        raise where.fail(f"file {ref}", "is known and needs a class: A1, A2, B1 or B2")
    if status == "new" and classification is not None:
        raise where.fail(f"file {ref}", "is new: a catalogue class makes no sense for it")
    return CaseFile(
        ref=ref,
        status=status,
        classification=classification,
        annotations=where.names("annotations", tuple(FILE_ANNOTATIONS)),
        supplemental=where.flag("supplemental"),
        note=where.text("note"),
    )


def _check_batched(case: Case, raw: Mapping[str, Any]) -> None:
    """Appendix B.5 and E.1: one reported account in an ordinary report; a batched viral
    report is one meme-annotated file reported by bare account ids, and nothing else."""
    if not case.batched:
        if len(case.reported) > 1:
            raise CaseError(f"case {case.id}: an ordinary report names at most one account")
        return
    present = [field for field in NOT_IN_BATCHED if raw.get(field) is not None]
    if present:
        raise CaseError(f"case {case.id}: a batched viral report may not carry {present}")
    if len(case.files) != 1:
        raise CaseError(f"case {case.id}: a batched viral report holds exactly one file")
    file = case.files[0]
    if file.note or file.supplemental or not MEME_ANNOTATIONS & set(file.annotations):
        raise CaseError(
            f"case {case.id}: the file of a batched viral report is reported (not supplemental),"
            " has no note and is annotated viral or potentialMeme"
        )
    if set(file.annotations) - MEME_ANNOTATIONS:
        raise CaseError(f"case {case.id}: a batched viral file carries only meme annotations")
    if any(account != Account(esp_id=account.esp_id) for account in case.reported):
        raise CaseError(f"case {case.id}: a batched viral report names accounts by esp_id only")


def _check_unique_ids(cases: Sequence[Case]) -> None:
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise CaseError(f"case {case.id}: the id is used twice")
        seen.add(case.id)


def _check_files_agree(cases: Sequence[Case]) -> None:
    """One ref is one file: it is known with one class everywhere, or new everywhere."""
    meaning: dict[str, tuple[str, str | None]] = {}
    for case in cases:
        for file in case.files:
            kept = meaning.setdefault(file.ref, (file.status, file.classification))
            if kept != (file.status, file.classification):
                raise CaseError(
                    f"case {case.id}: file {file.ref} is {file.status} {file.classification}"
                    f" here but {kept[0]} {kept[1]} in an earlier case"
                )
