"""Entities in reports (emails, screen names, ESP user ids, IPs with time, phones, URLs,
device ids), normalised so that the same identifier from two companies is one row, and the
links that let an analyst see every other report sharing one, or a new file, with theirs.

Where they come from: the <report> (personOrUserReported, intendedRecipient, victim and their
associatedAccounts, internetDetails) and each file's <fileDetails> (ipCaptureEvent, deviceId).
The <reporter> and <lawEnforcement> sections are skipped: they name the company's own staff
and the police, who would otherwise link every report a company ever sent.

Decisions:
* ESP user ids are only unique per platform, so the value is ``<platform>|<id>``: the
  platform is the sibling espService (or an associatedAccount's platform), else the reporting
  company's name; casefolded, so "Instagram" and "instagram" agree. Ids are casefolded too.
* Screen names are casefolded and global (a leading "@" dropped): the same handle on two
  platforms links, which is the point across companies, at the cost of common handles.
* Phones: digits with "+country code" when the number or its countryCallingCode gives one
  (a leading 00 counts; a national trunk 0 is dropped after a calling code); without one, the
  bare digits, which will not link to the international form. 5 to 15 digits (E.164).
* A value too long for the column (500) is dropped, never truncated: truncation would link
  unrelated reports. Documents are read by the typed reader
  (vigil.reporting.cybertipline.received: ``safe_parse``, no DTDs or entities, only the
  schema's elements, a bounded number of each), and yield at most MAX_ENTITIES entities.
* Each entity carries its role (EntityRole: reported person, victim, recipient...), the
  section it was found in; the link's context keeps the path, which starts with that
  section, so routing can tell the reported person's addresses from the victim's.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.reporting.cybertipline.model import DeviceId, Email, IpCaptureEvent, Phone
from vigil.reporting.cybertipline.received import (
    EntityRole,
    Node,
    ReceivedFileDetails,
    ReceivedReport,
    nodes,
    read_document,
    read_file_details,
    read_report,
    role_of,
)
from vigil.store.models import (
    EntityKind,
    IntakeEntity,
    IntakeEntityLink,
    IntakeReport,
    ReportingCompany,
)
from vigil.store.shared.report_links import Shared, shared_with

MAX_VALUE_CHARS = 500  # IntakeEntity.value
MAX_ENTITIES = 2000  # per document: a report names a handful
MAX_CLUSTER_DEPTH = 4
SKIPPED_ROLES = frozenset({EntityRole.REPORTER, EntityRole.LAW_ENFORCEMENT})
_CHUNK = 500
_T = TypeVar("_T")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060\ufeff]")
_SPACE = re.compile(r"\s+")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}


class FoundEntity(NamedTuple):
    kind: EntityKind
    value: str
    seen_at: datetime | None
    context: str  # where in the document, e.g. "report/personOrUserReported/ipCaptureEvent"
    role: EntityRole  # whose it is: the section it was found in


# --- normalisation -------------------------------------------------------------------------


def _clean(raw: object) -> str | None:
    """NFKC, trimmed text without control or invisible characters; None when empty/too long."""
    if not isinstance(raw, str) or len(raw) > 4 * MAX_VALUE_CHARS:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or _CONTROL.search(text):
        return None
    return text


def _bounded(value: str | None) -> str | None:
    return value if value and len(value) <= MAX_VALUE_CHARS else None


def normalise_email(raw: object) -> str | None:
    text = _clean(raw)
    if text is None:
        return None
    text = text.lower().removeprefix("mailto:")
    local, at, domain = text.rpartition("@")
    domain = domain.rstrip(".")
    if not at or not local or "." not in domain or _SPACE.search(text) or "@" in local:
        return None
    return _bounded(f"{local}@{domain}")


def normalise_screen_name(raw: object) -> str | None:
    text = _clean(raw)
    return _bounded(_SPACE.sub(" ", text.removeprefix("@")).casefold()) if text else None


def _label(raw: object) -> str | None:
    text = _clean(raw)
    return _SPACE.sub(" ", text).casefold().replace("|", "/") if text else None


def esp_user_value(platform: object, user_id: object) -> str | None:
    """``platform|id``: ids are unique only within a platform."""
    name, ident = _label(platform), _clean(user_id)
    if not name or not ident:
        return None
    return _bounded(f"{name}|{ident.casefold()}")


def device_value(id_type: object, id_value: object) -> str | None:
    kind, ident = _label(id_type), _clean(id_value)
    if not kind or not ident:
        return None
    return _bounded(f"{kind}|{_SPACE.sub('', ident).casefold()}")


def normalise_ip(raw: object) -> str | None:
    text = _clean(raw)
    if text is None or len(text) > 64:
        return None
    text = text.strip("[]")
    if text.count(":") == 1 and "." in text:  # 192.0.2.1:443
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.compressed


def normalise_phone(raw: object, country_code: object = None) -> str | None:
    text = _clean(raw)
    if text is None:
        return None
    number = re.split(r"(?i)\s*(?:ext\.?|x|#)\s*\d*$", text)[0]  # extensions never link
    digits = "".join(str(unicodedata.decimal(c)) for c in number if c.isdecimal())
    code = "".join(c for c in (_clean(country_code) or "") if c.isdecimal())
    if number.startswith("+"):
        full = "+" + digits
    elif digits.startswith("00"):
        full = "+" + digits[2:]
    elif code:
        full = "+" + code + digits.lstrip("0")
    else:
        full = digits
    count = len(full.lstrip("+"))
    return full if 5 <= count <= 15 else None


def normalise_url(raw: object) -> str | None:
    text = _clean(raw)
    if text is None or _SPACE.search(text):
        return None
    if "://" not in text:
        text = "http://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or not parts.scheme.isascii():
        return None
    host = _idna(host.rstrip("."))
    scheme = parts.scheme.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return _bounded(urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")))


def _idna(host: str) -> str:
    """One spelling for internationalised hosts (punycode), so both forms link."""
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host.lower()


# --- reading a document --------------------------------------------------------------------
# The typed reader (vigil.reporting.cybertipline.received) reads the document; here its
# values are picked by the XML name they were found under, so an identifier counts wherever
# the schema allows it, and its role says whose it is.

Document = ReceivedReport | ReceivedFileDetails
_EMAILS = frozenset({"email", "emailAddress"})
_PHONES = frozenset({"phone", "phoneNumber"})
_URLS = frozenset({"url", "profileUrl"})


def extract_entities(
    source: bytes | str | Mapping[str, Any] | Document, *, platform: str | None = None
) -> list[FoundEntity]:
    """The normalised entities of a <report> or <fileDetails> (typed, raw XML, or its parsed
    form), in document order, without repeats. ``platform`` names the ESP for ids that come
    without an espService (the reporting company). Raises UnsafeXml for XML safe_parse
    refuses."""
    document = source if isinstance(source, Document) else read_document(source)
    found: dict[FoundEntity, None] = {}
    for node in nodes(document):
        role = role_of(node.path)
        if role in SKIPPED_ROLES:
            continue
        for entity in _entities_of(node, role, platform):
            found.setdefault(entity, None)
            if len(found) >= MAX_ENTITIES:
                return list(found)
    return list(found)


def _entities_of(
    node: Node, role: EntityRole | None, platform: str | None
) -> Iterator[FoundEntity]:
    context = "/".join(node.path[-4:])[:200]
    tag, value = node.path[-1], node.value
    found: tuple[EntityKind, str | None, datetime | None] | None = None
    if tag in _EMAILS and isinstance(value, Email):
        found = EntityKind.EMAIL, normalise_email(value.address), None
    elif tag == "screenName" and isinstance(value, str):
        found = EntityKind.SCREEN_NAME, normalise_screen_name(value), None
    elif isinstance(value, IpCaptureEvent):
        found = EntityKind.IP, normalise_ip(value.ip_address), value.date_time
    elif tag in _PHONES and isinstance(value, Phone):
        found = EntityKind.PHONE, normalise_phone(value.number, value.country_calling_code), None
    elif tag in _URLS and isinstance(value, str):
        found = EntityKind.URL, normalise_url(value), None
    elif isinstance(value, DeviceId):
        found = EntityKind.DEVICE, device_value(value.id_type, value.id_value), value.date_time
    if found is not None and found[1] and role is not None:
        yield FoundEntity(found[0], found[1], found[2], context, role)
    yield from _esp_user(node, role, platform)


def _esp_user(node: Node, role: EntityRole | None, platform: str | None) -> Iterator[FoundEntity]:
    """An espIdentifier, with the platform it is unique on: the account's own platform or
    espService, else the reporting company."""
    ident = getattr(node.value, "esp_identifier", None)
    if not ident or role is None:
        return
    named = getattr(node.value, "platform", None)
    service = (named.name if named is not None else "") or node.value.esp_service
    value = esp_user_value(service or platform, ident)
    if value:
        context = "/".join((*node.path, "espIdentifier")[-4:])[:200]
        yield FoundEntity(EntityKind.ESP_USER, value, None, context, role)


# --- linking -------------------------------------------------------------------------------


def report_entities(session: Session, report: IntakeReport) -> list[FoundEntity]:
    """Entities of the report document and its files' details, as the typed reader reads
    them (the parsed form, or the raw XML for a row without one)."""
    company = session.get(ReportingCompany, report.company_id)
    platform = company.name if company is not None else None
    found = extract_entities(read_report(report.parsed, report.raw_xml), platform=platform)
    for file in report.files:
        details = read_file_details(file.details, file.details_xml)
        found += [
            e._replace(context=f"fileDetails:{file.public_id}/{e.context}"[:200])
            for e in extract_entities(details, platform=platform)
        ]
    return found


def link_report(session: Session, report: IntakeReport) -> int:
    """Upsert the report's entities and link them to it (idempotent, race-safe: INSERT ...
    ON CONFLICT DO NOTHING). Returns the number of entities linked."""
    first: dict[tuple[str, str], FoundEntity] = {}
    for entity in report_entities(session, report):
        kept = first.get((entity.kind, entity.value))
        if kept is None or (kept.seen_at is None and entity.seen_at is not None):
            first[(entity.kind, entity.value)] = entity
    if not first:
        return 0
    ids = _entity_ids(session, list(first))
    rows = [
        {
            "entity_id": ids[key],
            "report_id": report.id,
            "seen_at": entity.seen_at,
            "context": entity.context,
        }
        for key, entity in first.items()
        if key in ids
    ]
    for chunk in _chunks(rows):
        session.execute(
            _insert(session, IntakeEntityLink)
            .values(chunk)
            .on_conflict_do_nothing(index_elements=["entity_id", "report_id"])
        )
    return len(rows)


def _insert(session: Session, table: type[Any]) -> Any:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _entity_ids(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    ids: dict[tuple[str, str], int] = {}
    for chunk in _chunks(keys):
        session.execute(
            _insert(session, IntakeEntity)
            .values([{"kind": k, "value": v} for k, v in chunk])
            .on_conflict_do_nothing(index_elements=["kind", "value"])
        )
        rows = session.execute(
            select(IntakeEntity.id, IntakeEntity.kind, IntakeEntity.value).where(
                tuple_(IntakeEntity.kind, IntakeEntity.value).in_(list(chunk))
            )
        )
        ids.update({(row.kind, row.value): row.id for row in rows})
    return ids


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# --- reading links -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkedReport:
    report_id: int
    company_id: int
    company: str
    opened_at: datetime
    incident_id: int | None
    shared: tuple[Shared, ...]


def linked_reports(session: Session, report_id: int, *, limit: int = 200) -> list[LinkedReport]:
    """Other live reports, from any company, sharing an entity or a new/seen file (or a near
    copy) with the report; oldest first, at most ``limit``."""
    shared = shared_with(session, report_id)
    if not shared:
        return []
    rows = session.execute(
        select(
            IntakeReport.id,
            IntakeReport.company_id,
            IntakeReport.opened_at,
            IntakeReport.incident_id,
            ReportingCompany.name,
        )
        .join(ReportingCompany, ReportingCompany.id == IntakeReport.company_id)
        .where(IntakeReport.id.in_(list(shared)))
        .order_by(IntakeReport.id)
        .limit(limit)
    )
    return [
        LinkedReport(
            row.id, row.company_id, row.name, row.opened_at, row.incident_id, tuple(shared[row.id])
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class ClusterNode:
    report_id: int
    company: str
    depth: int  # links away from the report the analyst opened


@dataclass(frozen=True, slots=True)
class ClusterEdge:
    source: int
    target: int
    shared: tuple[Shared, ...]


@dataclass(frozen=True, slots=True)
class Cluster:
    nodes: list[ClusterNode]
    edges: list[ClusterEdge]
    truncated: bool  # the limit cut the graph short


def cluster(session: Session, report_id: int, depth: int = 2, limit: int = 200) -> Cluster:
    """Reports within ``depth`` links of the report (at most ``limit`` of them, depth at
    most MAX_CLUSTER_DEPTH) and the links between them, for a graph view."""
    depth, limit = max(0, min(depth, MAX_CLUSTER_DEPTH)), max(1, limit)
    start = session.get(IntakeReport, report_id)
    if start is None:
        return Cluster([], [], False)
    company = session.get(ReportingCompany, start.company_id)
    nodes = {report_id: ClusterNode(report_id, company.name if company else "", 0)}
    edges: dict[tuple[int, int], ClusterEdge] = {}
    frontier, truncated = [report_id], False
    for level in range(1, depth + 1):
        following: list[int] = []
        for current in frontier:
            for linked in linked_reports(session, current, limit=limit):
                if linked.report_id not in nodes:
                    if len(nodes) >= limit:
                        truncated = True
                        continue
                    nodes[linked.report_id] = ClusterNode(linked.report_id, linked.company, level)
                    following.append(linked.report_id)
                pair = (min(current, linked.report_id), max(current, linked.report_id))
                edges.setdefault(pair, ClusterEdge(*pair, linked.shared))
        frontier = following
    return Cluster(list(nodes.values()), list(edges.values()), truncated)
