"""NCMEC hash-sharing API v2 entry pages (``queryResult`` XML), parsed defensively.

Layout as understood from public client code, not from NCMEC's specification:
queryResult > images|videos > image|video|deletedImage|deletedVideo, each holding id,
member (``id`` attribute), optional classification and fingerprints (md5, sha1, pdq, ...).
One record is yielded per supported fingerprint; a deleted entry without fingerprints
yields one deletion record carrying only its id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from lxml import etree

from vigil.core.xml import declares_doctype, hardened_iterparse
from vigil.lists.formats.bounded_input import CappedReader, InputTooLarge
from vigil.lists.formats.fields import FieldError, identifier, normalise_classification
from vigil.lists.formats.records import (
    FormatWarning,
    ListRecord,
    ReadItem,
    RecordError,
    SignalType,
    excerpt,
)
from vigil.lists.formats.signals import SignalError, normalise_hex


@dataclass(frozen=True, slots=True)
class EntryKind:
    deleted: bool
    video: bool


MAX_XML_BYTES = 64 * 1024 * 1024  # a page holds ~1,000 entries, well under 10 MB
MAX_ENTRY_ELEMENTS = 10_000  # feedback member lists are the largest legitimate subtree
ROOT = "queryResult"
ENTRY_DEPTH = 3  # queryResult > images > image
ENTRY_KINDS: dict[str, EntryKind] = {
    "image": EntryKind(deleted=False, video=False),
    "video": EntryKind(deleted=False, video=True),
    "deletedImage": EntryKind(deleted=True, video=False),
    "deletedVideo": EntryKind(deleted=True, video=True),
}
CONTAINERS = frozenset({"images", "videos"})
FINGERPRINTS: dict[str, SignalType] = {
    "md5": SignalType.MD5,
    "sha1": SignalType.SHA1,
    "pdq": SignalType.PDQ,
}
_MAX_WARNED_NAMES = 32


class _Refused(Exception):
    def __init__(self, error: RecordError) -> None:
        super().__init__(error.message)
        self.error = error


def read_ncmec_xml(stream: BinaryIO, *, max_bytes: int = MAX_XML_BYTES) -> Iterator[ReadItem]:
    """Records in document order; a document-level problem ends the page with one error."""
    source = CappedReader(stream, max_total=max_bytes)
    walker = _PageWalker()
    try:
        # No entity expansion, no DTD or network fetches, libxml2's size and depth limits.
        for event, element in hardened_iterparse(source, events=("start", "end")):
            yield from walker.step(event, element)
    except _Refused as refused:
        yield refused.error
    except etree.XMLSyntaxError as exc:
        yield RecordError(exc.lineno or 0, f"malformed XML: {excerpt(exc.msg or str(exc))}")
    except InputTooLarge as exc:
        yield RecordError(walker.line, str(exc))


class _PageWalker:
    """Tracks depth so that entries are handled, then freed, as soon as each one closes."""

    def __init__(self) -> None:
        self.depth = 0
        self.line = 0
        self._entry_elements = 0
        self._warned: set[str] = set()

    def step(self, event: str, element: etree._Element) -> Iterator[ReadItem]:
        self.line = element.sourceline or self.line
        if event == "start":
            self._open(element)
            return
        if self.depth == ENTRY_DEPTH:
            yield from self._entry(element)
        if self.depth <= ENTRY_DEPTH:
            _release(element)
        self.depth -= 1

    def _open(self, element: etree._Element) -> None:
        self.depth += 1
        if self.depth == 1:
            _check_root(element)
        elif self.depth == ENTRY_DEPTH:
            self._entry_elements = 0
        elif self.depth > ENTRY_DEPTH:
            self._entry_elements += 1
            if self._entry_elements > MAX_ENTRY_ELEMENTS:
                message = f"entry has more than {MAX_ENTRY_ELEMENTS} elements"
                raise _Refused(RecordError(self.line, message))

    def _entry(self, element: etree._Element) -> Iterator[ReadItem]:
        kind = ENTRY_KINDS.get(_local_name(element))
        parent = element.getparent()
        if kind is None or parent is None or _local_name(parent) not in CONTAINERS:
            return  # paging links and anything unknown
        position = element.sourceline or self.line
        try:
            fingerprints = _child(element, "fingerprints")
            entry = _Entry(
                external_id=_external_id(element),
                classification=normalise_classification(_child_text(element, "classification")),
                deleted=kind.deleted,
                is_video=kind.video,
                position=position,
            )
        except FieldError as exc:
            yield RecordError(position, str(exc))
            return
        yield from self._fingerprints(fingerprints, entry)

    def _fingerprints(
        self, fingerprints: etree._Element | None, entry: _Entry
    ) -> Iterator[ReadItem]:
        found = False
        for child in [] if fingerprints is None else fingerprints:
            name = _local_name(child)
            signal_type = FINGERPRINTS.get(name)
            # A PDQ on a video entry has no defined meaning (PDQ hashes one image).
            if signal_type is None or (signal_type is SignalType.PDQ and entry.is_video):
                yield from self._warn_once(name, child)
                continue
            found = True
            yield entry.record(signal_type, child)
        if not found:
            yield entry.without_fingerprints()

    def _warn_once(self, name: str, child: etree._Element) -> Iterator[FormatWarning]:
        if name not in self._warned and len(self._warned) < _MAX_WARNED_NAMES:
            self._warned.add(name)
            message = f"fingerprint type {excerpt(name)!r} is not supported; ignored"
            yield FormatWarning(child.sourceline or self.line, message)


@dataclass(frozen=True, slots=True)
class _Entry:
    external_id: str
    classification: str | None
    deleted: bool
    is_video: bool
    position: int

    def record(self, signal_type: SignalType, child: etree._Element) -> ListRecord | RecordError:
        text = child.text or ""
        try:
            signal = normalise_hex(signal_type, text)
        except SignalError as exc:
            return RecordError(child.sourceline or self.position, str(exc), excerpt(text))
        return ListRecord(
            signal_type,
            signal,
            self.external_id,
            self.classification,
            deleted=self.deleted,
            position=self.position,
        )

    def without_fingerprints(self) -> ListRecord | RecordError:
        if self.deleted:
            # NCMEC deletes by entry id and sends no hashes.
            return ListRecord(
                None,
                None,
                self.external_id,
                self.classification,
                deleted=True,
                position=self.position,
            )
        message = "entry has no supported fingerprint (md5, sha1 or pdq)"
        return RecordError(self.position, message, excerpt(self.external_id))


def _check_root(element: etree._Element) -> None:
    line = element.sourceline or 1
    if declares_doctype(element):
        # Hash pages never carry a DTD; refusing it shuts out entity expansion attacks.
        raise _Refused(RecordError(line, "DOCTYPE declarations are refused"))
    if _local_name(element) != ROOT:
        name = excerpt(_local_name(element))
        raise _Refused(RecordError(line, f"root element is {name!r}, expected {ROOT!r}"))


def _external_id(element: etree._Element) -> str:
    """``<member id>-<entry id>``: entry ids are only unique within one member's uploads."""
    entry_id = identifier(_child_text(element, "id"), "id")
    if entry_id is None:
        raise FieldError("entry has no id")
    member = _child(element, "member")
    member_id = identifier(member.get("id") if member is not None else None, "member id")
    return f"{member_id}-{entry_id}" if member_id else entry_id


def _child(element: etree._Element, name: str) -> etree._Element | None:
    """The one child called ``name``: two ids or two member tags make an entry ambiguous."""
    found = [child for child in element if _local_name(child) == name]
    if len(found) > 1:
        raise FieldError(f"entry has {len(found)} <{name}> elements")
    return found[0] if found else None


def _child_text(element: etree._Element, name: str) -> str | None:
    child = _child(element, name)
    return None if child is None else child.text


def _local_name(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _release(element: etree._Element) -> None:
    # iterparse keeps the whole tree; dropping finished siblings keeps memory flat.
    element.clear()
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]
