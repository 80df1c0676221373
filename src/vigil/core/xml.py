"""The one hardened way to read XML, for every document Vigil reads: reports and answers
from outside, hash-list pages, and its own stored documents.

The parser never resolves entities, loads a DTD or touches the network, keeps libxml2's
size and depth limits (no ``huge_tree``) and drops comments and processing instructions.
``safe_parse`` also refuses anything over a size limit and any document with a DOCTYPE: no
report, answer or list page needs one, and it is how entity bombs arrive.
"""

from __future__ import annotations

from typing import Any, Protocol

from lxml import etree

MAX_XML_BYTES = 8 * 1024 * 1024  # a report or answer is kilobytes; this is generous
HARDENED_OPTIONS: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}
_REFUSED_DECLARATION = "the document declares a DOCTYPE or entities, which are not accepted"


class ByteStream(Protocol):
    """What iterparse pulls bytes from: a binary file, or a reader that caps its input."""

    def read(self, size: int, /) -> bytes: ...


class UnsafeXml(ValueError):
    """The bytes were refused before or while parsing; the message is safe to show."""


def hardened_parser() -> etree.XMLParser:
    """A new parser (lxml parsers are not thread-safe) with the hardened options."""
    return etree.XMLParser(**HARDENED_OPTIONS)


def hardened_iterparse(source: ByteStream, events: tuple[str, ...]) -> Any:
    """``etree.iterparse`` with the hardened options, for documents read as a stream; the
    caller refuses a DOCTYPE with :func:`declares_doctype` on the first element."""
    return etree.iterparse(source, events=events, **HARDENED_OPTIONS)


def declares_doctype(element: etree._Element) -> bool:
    """Whether the document of ``element`` has a DOCTYPE, an internal subset or not."""
    info = element.getroottree().docinfo
    return bool(info.doctype) or info.internalDTD is not None


def safe_parse(data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """The root of an untrusted document. Raises UnsafeXml (a ValueError) when the bytes
    are not bytes, too large, carry a DOCTYPE or are not well-formed XML."""
    if not isinstance(data, bytes | bytearray):
        raise UnsafeXml("the document must be bytes (UTF-8 XML)")
    if len(data) > max_bytes:
        raise UnsafeXml(f"the document is larger than {max_bytes // (1024 * 1024)} MiB")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise UnsafeXml(_REFUSED_DECLARATION)
    try:
        root = etree.fromstring(bytes(data), parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise UnsafeXml(
            f"the document is not well-formed XML (line {line}): {shortened(str(exc.msg))}"
        ) from None
    if root is None:
        raise UnsafeXml("the document is empty")
    # Belt and braces: a DOCTYPE that slipped past the byte check (another encoding).
    if declares_doctype(root):
        raise UnsafeXml(_REFUSED_DECLARATION)
    return root


def shortened(text: str, limit: int = 200) -> str:
    """``text`` on one line and at most ``limit`` characters: parser messages quote input."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
