"""The clearinghouse's reading of a received CyberTipline document: the reverse of the XML
writer (xml_writer.py), driven by the same field metadata (model.py), so that triage, the
agency queue, the console and entity extraction read one typed report and cannot disagree.

Where a document comes from: the intake keeps each one twice, byte for byte (``raw_xml``,
``details_xml``) and in its parsed form (``parsed``, ``details``: ``as_dict`` below, taken
once at receipt from the hardened parser's tree). The reader reads the parsed form, and the
raw XML (parsed with ``safe_parse``) only for a row that has none; both give the same report
because the parsed form is made from the raw bytes by ``as_dict`` and nothing else.

Decisions:
* Lenient where the writer is strict. The intake validated every document against
  report.xsd, but older rows, synthetic rows and hostile input must still read: a value
  that is missing or does not parse as its type (a date that is not a date, a number that is
  not a number, a word outside its enumeration) is absent (``None``, or left out of a tuple);
  a required text is ``""``; an object whose required non-text value is missing is left out.
* Unknown elements and attributes are ignored: only what model.py declares is read.
* The types bound the walk (no recursion deeper than the schema) and each repeated element
  is read at most MAX_REPEATED times.
* A document that cannot be read at all (hostile or malformed XML) reads as an empty report,
  and the reason is logged: there is nothing in it to score, route or show.
* Datetimes are timezone-aware and in UTC (a time without a zone is taken as UTC).
"""

# The field helpers of model.py return dataclasses.field(...), which RUF009 cannot see through.
# ruff: noqa: RUF009

from __future__ import annotations

import logging
import math
import re
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import (
    Any,
    Literal,
    NamedTuple,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from lxml import etree

from vigil.core.xml import UnsafeXml, safe_parse
from vigil.reporting.cybertipline.model import (
    BatchedReport,
    FileDetailsModel,
    IntendedRecipient,
    InternetDetails,
    LawEnforcement,
    PersonOrUserReported,
    ReportAnnotations,
    Reporter,
    Victim,
    optional,
    repeated,
)
from vigil.reporting.cybertipline.xml_writer import xml_value

log = logging.getLogger(__name__)

REPORT = "report"  # the root elements of the two documents a reporter sends
FILE_DETAILS = "fileDetails"
MAX_REPEATED = 1000  # of one element in one place: a report names a handful
MAX_SCALAR_CHARS = 40  # for numbers, booleans and dates; text is kept whole
_INTEGER = re.compile(r"[+-]?\d{1,19}")
_Flags = TypeVar("_Flags")
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


class EntityRole(StrEnum):
    """Whose an identifier in a received document is: the section it was found in."""

    REPORTED_PERSON = "personOrUserReported"
    INTENDED_RECIPIENT = "intendedRecipient"
    VICTIM = "victim"
    INTERNET_DETAILS = "internetDetails"  # where the incident happened (a page, a chat...)
    REPORTER = "reporter"  # the company's own staff
    LAW_ENFORCEMENT = "lawEnforcement"  # the police the company told
    FILE = "fileDetails"  # a file's upload event or device


# --- the received report: the writer's model, lenient where a received one may be short ----


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedIncidentSummary:
    """model.IncidentSummary with its required values optional."""

    incident_type: str | None = optional("incidentType")
    platform: str | None = optional("platform")
    escalate_to_high_priority: str | None = optional("escalateToHighPriority")  # the reason
    report_annotations: ReportAnnotations | None = optional("reportAnnotations")
    incident_date_time: datetime | None = optional("incidentDateTime")
    incident_date_time_description: str | None = optional("incidentDateTimeDescription")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedReport:
    """model.ReportModel as received: every section may be missing."""

    batched_report: BatchedReport | None = optional("batchedReport")
    incident_summary: ReceivedIncidentSummary = field(
        default_factory=ReceivedIncidentSummary, metadata={"element": "incidentSummary"}
    )
    internet_details: tuple[InternetDetails, ...] = repeated("internetDetails")
    law_enforcement: LawEnforcement | None = optional("lawEnforcement")
    reporter: Reporter | None = optional("reporter")
    person_or_user_reported: tuple[PersonOrUserReported, ...] = repeated("personOrUserReported")
    intended_recipient: tuple[IntendedRecipient, ...] = repeated("intendedRecipient")
    victim: tuple[Victim, ...] = repeated("victim")
    additional_info: str | None = optional("additionalInfo")


# model.FileDetailsModel has no required value: a received <fileDetails> reads as one.
ReceivedFileDetails = FileDetailsModel

EMPTY_REPORT = ReceivedReport()
EMPTY_FILE_DETAILS = ReceivedFileDetails()


def _xml_name(cls: type, name: str) -> str:
    return next(f.metadata["element"] for f in fields(cls) if f.name == name)


# The incident type's place in the stored parsed form, for the one query that reads it in SQL:
# the statistics count a period's reports by incident type without loading each report.
INCIDENT_TYPE_PATH = (
    REPORT,
    _xml_name(ReceivedReport, "incident_summary"),
    _xml_name(ReceivedIncidentSummary, "incident_type"),
)


# --- reading -------------------------------------------------------------------------------

Stored = Mapping[str, Any] | bytes | None


def read_report(parsed: Stored, raw_xml: bytes | None = None) -> ReceivedReport:
    """A received <report>: from its parsed form, or from the raw XML when there is none."""
    content = _document(parsed, raw_xml, REPORT)
    return _read(ReceivedReport, content) or EMPTY_REPORT


def read_file_details(parsed: Stored, raw_xml: bytes | None = None) -> ReceivedFileDetails:
    """A received <fileDetails>: from its parsed form, or from the raw XML when there is none."""
    content = _document(parsed, raw_xml, FILE_DETAILS)
    return _read(ReceivedFileDetails, content) or EMPTY_FILE_DETAILS


def read_document(source: Mapping[str, Any] | bytes | str) -> ReceivedReport | ReceivedFileDetails:
    """A <report> or <fileDetails>, by its root element. Unlike read_report, raises UnsafeXml
    for XML that safe_parse refuses, for callers that must tell such a document apart."""
    if isinstance(source, str):
        source = source.encode("utf-8")
    parsed = as_dict(safe_parse(source)) if isinstance(source, bytes | bytearray) else source
    if FILE_DETAILS in parsed:
        return read_file_details(parsed)
    return read_report(parsed)


def stored_form(raw_xml: bytes) -> dict[str, Any]:
    """The parsed form the intake stores beside a document's raw bytes (for rows written
    without the intake: synthetic reports). Raises UnsafeXml for refused XML."""
    return as_dict(safe_parse(raw_xml))


def as_dict(element: etree._Element) -> dict[str, Any]:
    """The parsed form the intake stores: {tag: content}; content is the text, or a dict of
    children (repeated ones as lists) with attributes under "@name" and text under "#text"."""
    return {_local(element.tag): _content(element)}


def _document(parsed: Stored, raw_xml: bytes | None, root: str) -> Any:
    if isinstance(parsed, bytes | bytearray):
        raw_xml = bytes(parsed)
        parsed = None
    if not parsed and raw_xml:
        parsed = _parsed_xml(raw_xml)
    if not isinstance(parsed, Mapping) or not parsed:
        return {}
    return parsed.get(root, next(iter(parsed.values())))


def _parsed_xml(raw_xml: bytes) -> dict[str, Any]:
    try:
        return as_dict(safe_parse(raw_xml))
    except UnsafeXml as exc:
        log.warning("a received document cannot be read: %s", exc)
        return {}


def _content(element: etree._Element) -> Any:
    children = [child for child in element if isinstance(child.tag, str)]
    if not children and not element.attrib:
        return (element.text or "").strip()
    content: dict[str, Any] = {
        f"@{_local(k)}": v
        for k, v in element.attrib.items()
        if not str(k).startswith("{http://www.w3.org/2001/XMLSchema")
    }
    for child in children:
        name, value = _local(child.tag), _content(child)
        if name not in content:
            content[name] = value
        elif isinstance(content[name], list):
            content[name].append(value)
        else:
            content[name] = [content[name], value]
    text = (element.text or "").strip()
    if text:
        content["#text"] = text
    return content


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


# --- the metadata, reversed ----------------------------------------------------------------


class _Spec(NamedTuple):
    name: str  # the dataclass field
    kind: str  # "element", "attribute", "text", "flag" or "choice" (model.py's metadata)
    xml: Any  # the XML name; for a choice, {class: element name}
    hint: Any  # the value's type, without None and without the tuple
    repeated: bool
    required: bool


_ABSENT: Any = object()
_KINDS = ("element", "attribute", "text", "flag", "choice")


_SPECS: dict[type, tuple[_Spec, ...]] = {}  # by class, made on first use


def _specs(cls: type) -> tuple[_Spec, ...]:
    known = _SPECS.get(cls)
    if known is None:
        known = _SPECS[cls] = _specs_of(cls)
    return known


def _specs_of(cls: type) -> tuple[_Spec, ...]:
    hints = get_type_hints(cls)
    specs = []
    for spec in fields(cls):
        kind = next(k for k in _KINDS if k in spec.metadata)
        hint, many = _unwrapped(hints[spec.name])
        required = spec.default is MISSING and spec.default_factory is MISSING
        specs.append(_Spec(spec.name, kind, spec.metadata[kind], hint, many, required))
    return tuple(specs)


def _unwrapped(hint: Any) -> tuple[Any, bool]:
    """(the type of one value, whether the field repeats) for ``X | None``/``tuple[X, ...]``."""
    if get_origin(hint) in (Union, types.UnionType):
        present = [arg for arg in get_args(hint) if arg is not type(None)]
        hint = present[0] if len(present) == 1 else hint  # a choice's union stays whole
    if get_origin(hint) is tuple:
        return get_args(hint)[0], True
    return hint, False


def _read(cls: type, content: Any) -> Any:
    """An instance of ``cls`` from an element's parsed content; None when a required
    non-text value is missing."""
    if not isinstance(content, Mapping):
        content = {"#text": content} if isinstance(content, str) else {}
    values: dict[str, Any] = {}
    for spec in _specs(cls):
        value = _field(spec, content)
        if value is _ABSENT and spec.required:
            value = _fallback(spec)
            if value is _ABSENT:
                return None
        if value is not _ABSENT:
            values[spec.name] = value
    return cls(**values)


def _fallback(spec: _Spec) -> Any:
    if spec.hint is str:
        return ""
    if is_dataclass(spec.hint):
        found = _read(spec.hint, {})  # type: ignore[arg-type]
        return _ABSENT if found is None else found
    return _ABSENT


def _field(spec: _Spec, content: Mapping[str, Any]) -> Any:
    if spec.kind == "text":
        return _value(spec.hint, content.get("#text"))
    if spec.kind == "attribute":
        return _value(spec.hint, content.get(f"@{spec.xml}"))
    if spec.kind == "flag":
        found = _first(content.get(spec.xml))
        return _ABSENT if found is None else _scalar_text(found).lower() not in _FALSE
    if spec.kind == "choice":
        return _choice(spec.xml, content)
    raw = content.get(spec.xml)
    if raw is None:
        return _ABSENT
    if spec.repeated:
        items = raw if isinstance(raw, list) else [raw]
        read = (_value(spec.hint, item) for item in items[:MAX_REPEATED])
        return tuple(value for value in read if value is not _ABSENT)
    return _value(spec.hint, _first(raw))


def _choice(elements: Mapping[type, str], content: Mapping[str, Any]) -> Any:
    for cls, name in elements.items():
        if name in content:
            return _value(cls, _first(content[name]))
    return _ABSENT


def _first(raw: Any) -> Any:
    """Where the schema says once, the first of repeated elements."""
    if isinstance(raw, list):
        return raw[0] if raw else None
    return raw


def _value(hint: Any, raw: Any) -> Any:
    if raw is None:
        return _ABSENT
    if is_dataclass(hint):
        found = _read(hint, raw)  # type: ignore[arg-type]
        return _ABSENT if found is None else found
    return _parsed_scalar(hint, _scalar_text(raw))


def _scalar_text(raw: Any) -> str:
    if isinstance(raw, Mapping):
        raw = raw.get("#text", "")
    return raw.strip() if isinstance(raw, str) else ""


def _parsed_scalar(hint: Any, text: str) -> Any:
    if hint is str:
        return text
    if get_origin(hint) is Literal:
        return text if text in get_args(hint) else _ABSENT
    if not text or len(text) > MAX_SCALAR_CHARS:
        return _ABSENT
    try:
        return _SCALARS[hint](text)
    except (KeyError, ValueError, OverflowError):
        return _ABSENT


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in _TRUE | _FALSE:
        raise ValueError(text)
    return lowered in _TRUE


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ValueError(text)
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_SCALARS: dict[Any, Any] = {
    bool: _boolean,
    int: _integer,
    float: _number,
    datetime: _moment,
    date: date.fromisoformat,
}


# --- walking a typed document --------------------------------------------------------------


class Node(NamedTuple):
    """One element, attribute or text of a typed document: its XML path from the root
    (an attribute's last step is "@name") and its value (a model object or a scalar)."""

    path: tuple[str, ...]
    value: Any


def nodes(document: ReceivedReport | ReceivedFileDetails) -> Iterator[Node]:
    """Every value of the document in the schema's (so the document's) order, depth first."""
    root = REPORT if isinstance(document, ReceivedReport) else FILE_DETAILS
    yield from _nodes((root,), document)


def _nodes(path: tuple[str, ...], value: Any) -> Iterator[Node]:
    yield Node(path, value)
    if not is_dataclass(value):
        return
    for spec in _specs(type(value)):
        field_value = getattr(value, spec.name)
        if spec.kind == "text":
            yield Node(path, field_value)
        elif spec.kind == "attribute" and field_value is not None:
            yield Node((*path, f"@{spec.xml}"), field_value)
        elif spec.kind == "flag" and field_value:
            yield Node((*path, spec.xml), True)
        elif spec.kind == "choice":
            yield from _nodes((*path, spec.xml[type(field_value)]), field_value)
        elif spec.kind == "element":
            for each in field_value if spec.repeated else (field_value,):
                if each is not None:
                    yield from _nodes((*path, spec.xml), each)


def leaves(document: ReceivedReport | ReceivedFileDetails) -> Iterator[tuple[str, str]]:
    """("section / element / @attribute", text) for every value an analyst may read, in
    document order, written as the writer writes them."""
    for node in nodes(document):
        if not is_dataclass(node.value) and node.value not in (None, ""):
            yield " / ".join(node.path[1:]), xml_value(node.value)


def role_of(path: tuple[str, ...]) -> EntityRole | None:
    """The role of a value found at ``path`` (a Node's), None outside the people's sections."""
    if path and path[0] == FILE_DETAILS:
        return EntityRole.FILE
    return _ROLES.get(path[1]) if len(path) > 1 else None


def role_of_context(context: str | None) -> EntityRole | None:
    """The role recorded in an entity link's context ("report/victim/...", or
    "fileDetails:<file id>/..." for a file's)."""
    text = context or ""
    if text.startswith(f"{FILE_DETAILS}:"):
        return EntityRole.FILE
    return next((_ROLES[step] for step in text.split("/") if step in _ROLES), None)


_ROLES = {role.value: role for role in EntityRole if role is not EntityRole.FILE}


def flag_names(flags: Any) -> list[str]:
    """The schema names of the set flags of ReportAnnotations or FileAnnotations."""
    if flags is None:
        return []
    return [
        spec.xml
        for spec in _specs(type(flags))
        if spec.kind == "flag" and getattr(flags, spec.name)
    ]


def flags_of(cls: type[_Flags], names: Iterable[str]) -> _Flags:
    """ReportAnnotations or FileAnnotations with the named flags set (unknown names ignored):
    the reverse of flag_names."""
    chosen = set(names)
    return cls(
        **{spec.name: True for spec in _specs(cls) if spec.kind == "flag" and spec.xml in chosen}
    )


def batched_reason(report: ReceivedReport) -> str | None:
    return report.batched_report.reason if report.batched_report else None
