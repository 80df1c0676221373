"""The documentation's example documents (section 6 of api-documentation.txt), read from the
documentation itself so that the tests replay exactly what it shows; callout markers such as
"(1)" are removed, as a reader copying the example would."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from lxml import etree

DOCUMENTATION = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "reference"
    / "cybertipline"
    / "api-documentation.txt"
)
EXAMPLE_REPORT_ID = "4564654"
EXAMPLE_FILE_ID = "b0754af766b426f2928a02c651ed4b99"
EXAMPLE_HASH = "fafa5efeaf3cbe3b23b2748d13e629a1"
_CALLOUT = re.compile(r" \(\d\)")


@functools.cache
def _text() -> str:
    return DOCUMENTATION.read_text(encoding="utf-8")


def _after(heading: str, root: str) -> str:
    """The first <root> document after ``heading`` (with its XML declaration)."""
    text = _text()
    start = text.index(heading)
    begin = text.index("<?xml", start)
    end = text.index(f"</{root}>", begin) + len(f"</{root}>")
    return _CALLOUT.sub("", text[begin:end])


def report_xml() -> bytes:
    return _after("/home/me/report.xml\n", "report").encode()


def file_details_xml(report_id: str, file_id: str) -> bytes:
    document = _after("/home/me/file-details.xml\n", "fileDetails")
    return document.replace(EXAMPLE_REPORT_ID, report_id).replace(EXAMPLE_FILE_ID, file_id).encode()


def response(heading: str, root: str = "reportResponse", **values: str) -> str:
    """A documented response with its example values replaced by ``values`` (report_id,
    file_id, hash, username, ip)."""
    document = _after(heading, root)
    for example, key in (
        (EXAMPLE_REPORT_ID, "report_id"),
        (EXAMPLE_FILE_ID, "file_id"),
        (EXAMPLE_HASH, "hash"),
        ("{username}", "username"),
        ("{ip address}", "ip"),
    ):
        if key in values:
            document = document.replace(example, values[key])
    return canonical(document.encode())


def canonical(xml: bytes) -> str:
    """Element structure and text, without the indentation between elements."""
    root = etree.fromstring(xml, etree.XMLParser(remove_blank_text=True, resolve_entities=False))
    return etree.tostring(root, encoding="unicode")
