"""NCMEC hash-sharing API v2 entry pages (``queryResult`` XML), parsed defensively.

Layout as understood from public client code, not from NCMEC's specification:
queryResult > images|videos > image|video|deletedImage|deletedVideo, each holding id,
member (``id`` attribute), optional classification and fingerprints (md5, sha1, pdq, ...).
One record is yielded per supported fingerprint; a deleted entry without fingerprints
yields one deletion record carrying only its id. Unsupported fingerprint types (PhotoDNA,
TMK, Videntifier, ...) are counted and reported in one warning per type at the end.

``read_ncmec_page`` is the same reader for the hash-sharing client (vigil.exchanges.ncmec):
it also returns the page's paging link, tells a page-level failure apart from per-entry
errors, and gives records their provenance (member name, entry kind as a tag). A page is
bounded (``max_bytes``) and held whole anyway, so it is parsed at once with the same hardened
parser and its entries read from the tree: a list file is streamed, as it may be any size,
but per-element events cost the page reader a quarter of a fetch (issue 16).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO

from lxml import etree

from vigil.core.xml import declares_doctype, hardened_iterparse, hardened_parser
from vigil.lists.formats.bounded_input import CappedReader, InputTooLarge
from vigil.lists.formats.fields import (
    MAX_LABEL_CHARS,
    FieldError,
    identifier,
    normalise_classification,
    optional_text,
)
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
PAGING_LINK = ("paging", "next")  # queryResult > paging > next, at the entries' depth
FINGERPRINTS: dict[str, SignalType] = {
    "md5": SignalType.MD5,
    "sha1": SignalType.SHA1,
    "pdq": SignalType.PDQ,
}
_MAX_WARNED_NAMES = 32
_READ_SIZE = 1024 * 1024
_MAX_LINK_CHARS = 4096


class _Refused(Exception):
    def __init__(self, error: RecordError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True, slots=True)
class NcmecPage:
    """One page of /v2/entries. ``failure``: the page as a whole could not be read (the
    items before it are not to be trusted either); ``next_link``: the ``paging/next`` link
    as given (a path below the service root), None on the last page of a window."""

    items: tuple[ReadItem, ...]
    next_link: str | None
    failure: RecordError | None


def read_ncmec_xml(stream: BinaryIO, *, max_bytes: int = MAX_XML_BYTES) -> Iterator[ReadItem]:
    """Records in document order; a document-level problem ends the page with one error."""
    walker = _PageWalker(provenance=False)
    try:
        yield from _walk(stream, walker, max_bytes)
    except _Refused as refused:
        yield refused.error


def read_ncmec_page(stream: BinaryIO, *, max_bytes: int = MAX_XML_BYTES) -> NcmecPage:
    """The whole page, its paging link, and whether it could be read at all."""
    walker = _PageWalker(provenance=True)
    try:
        items = tuple(_walk_tree(_page_root(stream, max_bytes), walker))
    except _Refused as refused:
        return NcmecPage((), None, refused.error)
    return NcmecPage(items, walker.next_link, None)


def _page_root(stream: BinaryIO, max_bytes: int) -> etree._Element:
    """The page parsed whole (no entities, DTD or network; libxml2's depth limits), its
    root checked; raises _Refused."""
    source = CappedReader(stream, max_total=max_bytes)
    chunks = []
    try:
        while chunk := source.read(_READ_SIZE):
            chunks.append(chunk)
        root = etree.fromstring(b"".join(chunks), parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        message = f"malformed XML: {excerpt(exc.msg or str(exc))}"
        raise _Refused(RecordError(exc.lineno or 0, message)) from None
    except InputTooLarge as exc:
        raise _Refused(RecordError(0, str(exc))) from None
    if root is None:  # lxml gives None for a document it recovered to nothing
        raise _Refused(RecordError(0, "malformed XML: the page is empty"))
    _check_root(root)
    return root


def _walk_tree(root: etree._Element, walker: _PageWalker) -> Iterator[ReadItem]:
    """Items in document order from a parsed page: the elements at the entries' depth, each
    checked against the element limit as the streaming walker checks it."""
    for container in root:
        for element in container:
            walker.line = element.sourceline or walker.line
            if next(islice(element.iter(), MAX_ENTRY_ELEMENTS + 1, None), None) is not None:
                message = f"entry has more than {MAX_ENTRY_ELEMENTS} elements"
                raise _Refused(RecordError(walker.line, message))
            yield from walker.entry(element)
    yield from walker.unsupported_summary()


def _walk(stream: BinaryIO, walker: _PageWalker, max_bytes: int) -> Iterator[ReadItem]:
    """Items in document order; raises _Refused for a document-level problem."""
    source = CappedReader(stream, max_total=max_bytes)
    try:
        # No entity expansion, no DTD or network fetches, libxml2's size and depth limits.
        for event, element in hardened_iterparse(source, events=("start", "end")):
            if event == "start":
                walker.open(element)
            elif walker.depth == ENTRY_DEPTH:
                yield from walker.close_entry(element)
            else:
                walker.close(element)
    except etree.XMLSyntaxError as exc:
        message = f"malformed XML: {excerpt(exc.msg or str(exc))}"
        raise _Refused(RecordError(exc.lineno or 0, message)) from None
    except InputTooLarge as exc:
        raise _Refused(RecordError(walker.line, str(exc))) from None
    yield from walker.unsupported_summary()


class _PageWalker:
    """Tracks depth so that entries are handled, then freed, as soon as each one closes."""

    def __init__(self, *, provenance: bool) -> None:
        self.depth = 0
        self.line = 0
        self.next_link: str | None = None
        self._provenance = provenance
        self._entry_elements = 0
        self._unsupported: dict[str, tuple[int, int]] = {}  # name -> (first line, count)

    def close_entry(self, element: etree._Element) -> Iterator[ReadItem]:
        """An element at the entries' depth has ended: read it, then free it."""
        yield from self.entry(element)
        self.close(element)

    def close(self, element: etree._Element) -> None:
        if self.depth <= ENTRY_DEPTH:
            _release(element)
        self.depth -= 1

    def open(self, element: etree._Element) -> None:
        self.line = element.sourceline or self.line
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

    def entry(self, element: etree._Element) -> Iterator[ReadItem]:
        """The records of one element at the entries' depth (the paging link is noted)."""
        kind = ENTRY_KINDS.get(_local_name(element))
        parent = element.getparent()
        if parent is not None and (_local_name(parent), _local_name(element)) == PAGING_LINK:
            self.next_link = _paging_link(element.text)
            return
        if kind is None or parent is None or _local_name(parent) not in CONTAINERS:
            return  # anything unknown
        position = element.sourceline or self.line
        children = _children(element)
        try:
            fingerprints = _child(children, "fingerprints")
            entry = _Entry(
                external_id=_external_id(children),
                classification=normalise_classification(_child_text(children, "classification")),
                deleted=kind.deleted,
                is_video=kind.video,
                position=position,
                member=_member_name(children) if self._provenance else None,
                tags=(("video" if kind.video else "image"),) if self._provenance else (),
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
                label = f"{name} on a video" if signal_type is SignalType.PDQ else name
                self._count_unsupported(label, child)
                continue
            found = True
            yield entry.record(signal_type, child)
        if not found:
            yield entry.without_fingerprints()

    def _count_unsupported(self, name: str, child: etree._Element) -> None:
        first, count = self._unsupported.get(name, (child.sourceline or self.line, 0))
        if count or len(self._unsupported) < _MAX_WARNED_NAMES:
            self._unsupported[name] = (first, count + 1)

    def unsupported_summary(self) -> Iterator[FormatWarning]:
        """One warning per unsupported fingerprint type, with how many were ignored."""
        for name, (first, count) in self._unsupported.items():
            noun = "fingerprint" if count == 1 else "fingerprints"
            message = f"fingerprint type {excerpt(name)!r} is not supported: {count} {noun} ignored"
            yield FormatWarning(first, message)


@dataclass(frozen=True, slots=True)
class _Entry:
    external_id: str
    classification: str | None
    deleted: bool
    is_video: bool
    position: int
    member: str | None = None
    tags: tuple[str, ...] = ()

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
            member=self.member,
            tags=self.tags,
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
                member=self.member,
                tags=self.tags,
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


def _external_id(children: _Children) -> str:
    """``<member id>-<entry id>``: entry ids are only unique within one member's uploads."""
    entry_id = identifier(_child_text(children, "id"), "id")
    if entry_id is None:
        raise FieldError("entry has no id")
    member = _child(children, "member")
    member_id = identifier(member.get("id") if member is not None else None, "member id")
    return f"{member_id}-{entry_id}" if member_id else entry_id


def _member_name(children: _Children) -> str | None:
    """The sharing member's name as the page gives it, else its id."""
    member = _child(children, "member")
    if member is None:
        return None
    name = optional_text(member.text, "member", MAX_LABEL_CHARS)
    return name or identifier(member.get("id"), "member id")


def _paging_link(text: str | None) -> str | None:
    link = (text or "").strip()
    if len(link) > _MAX_LINK_CHARS:
        raise _Refused(RecordError(0, f"paging link longer than {_MAX_LINK_CHARS} characters"))
    return link or None


_Children = dict[str, list[etree._Element]]


def _children(element: etree._Element) -> _Children:
    """An entry's children by local name, read once (an entry is looked into five times)."""
    found: _Children = {}
    for child in element:
        found.setdefault(_local_name(child), []).append(child)
    return found


def _child(children: _Children, name: str) -> etree._Element | None:
    """The one child called ``name``: two ids or two member tags make an entry ambiguous."""
    found = children.get(name, [])
    if len(found) > 1:
        raise FieldError(f"entry has {len(found)} <{name}> elements")
    return found[0] if found else None


def _child_text(children: _Children, name: str) -> str | None:
    child = _child(children, name)
    return None if child is None else child.text


def _local_name(element: etree._Element) -> str:
    """The name without its namespace; "" for comments and processing instructions."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rpartition("}")[2]
        if len(_LOCAL_NAMES) < _MAX_LOCAL_NAMES:  # a hostile page cannot grow it unbounded
            _LOCAL_NAMES[tag] = name
    return name


# Tag -> local name: a page asks about the same dozen tags ten times per entry.
_LOCAL_NAMES: dict[str, str] = {}
_MAX_LOCAL_NAMES = 256


def _release(element: etree._Element) -> None:
    # iterparse keeps the whole tree; dropping finished siblings keeps memory flat.
    element.clear()
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]
