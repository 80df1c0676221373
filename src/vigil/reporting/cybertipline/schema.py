"""Validation against the CyberTipline schema, with problems in plain words. Documents from
outside are parsed with vigil.core.xml's ``safe_parse`` (re-exported here).

report.xsd beside this module is NCMEC's published CyberTipline Reporting API schema,
copied unchanged from the API documentation's /xsd (shared/reference/cybertipline/report.xsd);
replace it with a newer download when NCMEC publishes one.

Parsing never resolves entities, loads a DTD or touches the network, refuses any document
with a DOCTYPE and anything over core.xml.MAX_XML_BYTES. lxml's messages are turned into a
submitter's words; a traceback never reaches them.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Generic, TypeVar

from lxml import etree

from vigil.core.xml import UnsafeXml as UnsafeXml
from vigil.core.xml import hardened_parser, shortened
from vigil.core.xml import safe_parse as safe_parse
from vigil.store.shared.vocabulary import INCIDENT_TYPES

SCHEMA_FILE = "report.xsd"
INCIDENT_TYPE_MISSING = (
    "The incident type is missing: choose one of the eight CyberTipline incident types."
)

_VALIDATION_LOCK = threading.Lock()  # an XMLSchema's error log is shared state
# The smallest report the schema and the documented rules accept: what start-up and
# /health/ready check the loaded schema against.
KNOWN_GOOD_REPORT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<report><incidentSummary><incidentType>Child '
    b"Pornography (possession, manufacture, and distribution)</incidentType>"
    b"<incidentDateTime>2020-01-01T00:00:00Z</incidentDateTime></incidentSummary>"
    b"<reporter><reportingPerson><email>readiness@example.org</email></reportingPerson>"
    b"</reporter></report>"
)

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    message: str  # for the submitter
    path: str | None = None  # e.g. "/report/incidentSummary/incidentType"
    line: int | None = None

    def __str__(self) -> str:
        return self.message if self.line is None else f"{self.message} (line {self.line})"


class SchemaUnavailable(RuntimeError):
    """report.xsd could not be loaded or compiled into a working schema (logged)."""


class _LoadedOnce(Generic[T]):
    """A value built on first use by one thread while the others wait, then kept. A failure
    is logged and NOT kept: the next use tries again. (issue 14: a first compile that failed
    under a lazy, lock-free cache left every later submit answering 500 until a restart.)"""

    def __init__(self, what: str, build: Callable[[], T]) -> None:
        self._what, self._build = what, build
        self._lock = threading.Lock()
        self._value: T | None = None

    def __call__(self) -> T:
        value = self._value
        if value is not None:
            return value
        with self._lock:
            if self._value is None:
                try:
                    self._value = self._build()
                except Exception as exc:
                    log.error(
                        "loading %s failed (%s: %s); the next use tries again",
                        self._what,
                        type(exc).__name__,
                        exc,
                    )
                    raise SchemaUnavailable(f"{self._what} is not available") from exc
            return self._value


def _read_schema_document() -> etree._Element:
    data = resources.files(__package__).joinpath(SCHEMA_FILE).read_bytes()
    return etree.fromstring(data, parser=hardened_parser())


def _compile_schema() -> etree.XMLSchema:
    """report.xsd compiled, and proven to accept a document known to be valid: a schema that
    compiled wrongly would otherwise refuse every report while looking loaded."""
    schema = etree.XMLSchema(_schema_document())
    with _VALIDATION_LOCK:
        if not schema.validate(safe_parse(KNOWN_GOOD_REPORT).getroottree()):
            raise SchemaUnavailable("the compiled schema refuses a known-good report")
    return schema


# The parsed report.xsd and the compiled schema, each built once, under a lock, on first use.
_schema_document = _LoadedOnce("report.xsd", _read_schema_document)
report_schema = _LoadedOnce("the report schema", _compile_schema)


@functools.cache
def enumeration(type_name: str) -> frozenset[str]:
    """The non-empty values report.xsd enumerates for the simple type ``type_name``."""
    xs = "{http://www.w3.org/2001/XMLSchema}"
    return frozenset(
        value
        for node in _schema_document().iter(f"{xs}simpleType")
        if node.get("name") == type_name
        for value in (e.get("value") for e in node.iter(f"{xs}enumeration"))
        if value
    )


@functools.cache
def required_elements() -> frozenset[str]:
    """Names of the elements some sequence in report.xsd requires (minOccurs 1)."""
    xs = "{http://www.w3.org/2001/XMLSchema}"
    return frozenset(
        node.get("name") or node.get("ref") or ""
        for node in _schema_document().iter(f"{xs}element")
        if node.getparent() is not None
        and node.getparent().tag == f"{xs}sequence"
        and node.get("minOccurs", "1") != "0"
    )


def validate(xml: bytes, *, root: str | None = None) -> list[Problem]:
    """Problems with a document, empty when it is valid against report.xsd. ``root``
    ("report" or "fileDetails") also checks which document it is. Raises nothing."""
    try:
        document = safe_parse(xml)
    except UnsafeXml as exc:
        return [Problem(f"The document cannot be read: {exc}")]
    if root is not None and document.tag != root:
        return [
            Problem(
                f"Expected a <{root}> document, got <{_name(document.tag)}>.",
                f"/{_name(document.tag)}",
                document.sourceline,
            )
        ]
    schema = report_schema()
    with _VALIDATION_LOCK:
        if schema.validate(document.getroottree()):
            return []
        entries = list(schema.error_log)
    return _unique([Problem(plain_message(e.message, e.path), e.path, e.line) for e in entries])


# --- turning libxml2's messages into a submitter's words -----------------------------------

_ELEMENT = re.compile(r"^Element '(?P<name>[^']+)'(?:, attribute '(?P<attr>[^']+)')?: ")
_EXPECTED = re.compile(r"Expected is(?: one of)? \( (?P<names>[^)]+) \)")
_VALUE = re.compile(r"(?:The value |^)'(?P<value>.*?)' is not")
_TYPE = re.compile(r"atomic type '(?:xs:)?(?P<type>\w+)'")
_MISSING_ATTRIBUTE = re.compile(r"The attribute '(?P<attr>[^']+)' is required")

_TYPE_HINTS = {
    "dateTime": "a date and time with a time zone, e.g. 2024-05-01T12:00:00Z",
    "date": "a date, e.g. 2010-01-31",
    "boolean": "true or false",
    "int": "a whole number",
    "long": "a whole number (a CyberTipline report id)",
    "double": "a number",
    "token": "an identifier without line breaks",
}


def plain_message(message: str, path: str | None) -> str:
    """One lxml/libxml2 validation message in plain words, where it applies named."""
    where = _where(path)
    found = _ELEMENT.match(message)
    element = found["name"] if found else None
    attribute = found["attr"] if found else None
    rest = message[found.end() :] if found else message
    expected = _expected(rest)
    if "incidentType" in expected or (element == "incidentType" and "enumeration" in rest):
        return _incident_type(rest, expected)
    if "Missing child element" in rest:
        return f"{where}: {_joined(expected)} is required."
    if "This element is not expected" in rest:
        return _unexpected(where, element, expected)
    if (missing := _MISSING_ATTRIBUTE.search(rest)) is not None:
        return f"{where}: the {missing['attr']} attribute is required."
    if "fixed value constraint" in rest:
        return (
            f"{where}: this annotation can only be present (true); leave it out "
            "instead of setting it to false."
        )
    if "is not allowed" in rest and attribute:
        return f"{where}: the attribute {attribute} is not part of the schema."
    if "[facet 'enumeration']" in rest:
        return f"{where}: {_value(rest)} is not one of the accepted values: {_choices(rest)}."
    if "[facet 'pattern']" in rest:
        return f"{where}: {_value(rest)} does not have the required form."
    if (atomic := _TYPE.search(rest)) is not None:
        hint = _TYPE_HINTS.get(atomic["type"], f"a valid {atomic['type']}")
        target = f"the attribute {attribute}" if attribute else "the value"
        return f"{where}: {target} {_value(rest)} is not valid; it must be {hint}."
    if "No matching global declaration" in rest:
        return (
            f"<{element}> is not a CyberTipline document: the root must be <report> or "
            "<fileDetails>."
        )
    if "Character content other than whitespace is not allowed" in rest:
        return f"{where}: text is not allowed here, only the child elements."
    return f"{where}: {shortened(rest)}"


def _incident_type(rest: str, expected: list[str]) -> str:
    if "Missing child element" in rest or expected:
        return INCIDENT_TYPE_MISSING
    return (
        f"The incident type {_value(rest)} is not one of the eight CyberTipline incident "
        f"types: {'; '.join(INCIDENT_TYPES)}."
    )


def _unexpected(where: str, element: str | None, expected: list[str]) -> str:
    if len(expected) == 1 and expected[0] in required_elements():
        parent = where.rsplit("/", 1)[0] if "/" in where else where
        return f"{parent}: {expected[0]} is required (found <{element}> where it belongs)."
    if not expected:
        return f"{where}: <{element}> is not allowed here (not in the schema, or repeated)."
    return (
        f"{where}: <{element}> is not allowed here; expected {_joined(expected, 'or')} "
        "(elements must follow the schema's order, and required ones come first)."
    )


def _where(path: str | None) -> str:
    """ "/report/incidentSummary[1]/x" -> "report/incidentSummary/x"."""
    if not path:
        return "The document"
    return re.sub(r"\[\d+\]", "", path).strip("/") or "The document"


def _expected(rest: str) -> list[str]:
    found = _EXPECTED.search(rest)
    if found is None:
        return []
    return [name.strip() for name in found["names"].split(",") if name.strip()]


def _joined(names: list[str], word: str = "and") -> str:
    if len(names) <= 1:
        return names[0] if names else "an element"
    return f"{', '.join(names[:-1])} {word} {names[-1]}"


def _value(rest: str) -> str:
    found = _VALUE.search(rest)
    return f"'{shortened(found['value'], 60)}'" if found else "the value"


def _choices(rest: str) -> str:
    found = re.search(r"\{(?P<set>.*)\}", rest)
    return shortened(found["set"], 300) if found else "see the schema"


def _name(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1][:60]


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, int | None]] = set()
    kept = []
    for problem in problems:
        if (problem.message, problem.line) not in seen:
            seen.add((problem.message, problem.line))
            kept.append(problem)
    return kept
