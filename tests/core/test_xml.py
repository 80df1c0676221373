"""The one hardened XML set-up: entities never expand, DTDs and the network are never
fetched, a DOCTYPE is refused in any encoding, and size is bounded before parsing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from vigil.core.xml import (
    UnsafeXml,
    declares_doctype,
    hardened_iterparse,
    hardened_parser,
    safe_parse,
    shortened,
)

SECRET = "the-file-that-must-stay-unread"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def _external_entity(secret_file: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret_file.as_uri()}">]><r>&x;</r>'
    ).encode()


def test_a_plain_document_parses() -> None:
    root = safe_parse(b"<report><id>7</id><!-- a note --><?pi x?></report>")
    assert root.findtext("id") == "7"
    assert len(root) == 1  # comments and processing instructions are dropped


@pytest.mark.parametrize(
    "hostile",
    [
        b'<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><r>&b;</r>',
        b'<!doctype r SYSTEM "http://192.0.2.1/evil.dtd"><r/>',
        b'<?xml version="1.0"?><!ENTITY a "x"><r/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r SYSTEM "x.dtd"><r/>'.encode("utf-16"),
    ],
)
def test_a_doctype_is_refused_in_any_spelling_or_encoding(hostile: bytes) -> None:
    with pytest.raises(UnsafeXml):
        safe_parse(hostile)


def test_an_external_entity_stays_unread_even_past_the_byte_check(secret_file: Path) -> None:
    root = etree.fromstring(_external_entity(secret_file), parser=hardened_parser())
    assert SECRET not in "".join(root.itertext())
    assert declares_doctype(root)


def test_size_is_refused_before_parsing() -> None:
    with pytest.raises(UnsafeXml, match="larger than 1 MiB"):
        safe_parse(b"<r>" + b"a" * (1 << 20) + b"</r>", max_bytes=1 << 20)


@pytest.mark.parametrize("broken", [b"", b"<r>", b"not xml at all", b"<a></b>"])
def test_malformed_bytes_are_refused_not_raised_raw(broken: bytes) -> None:
    with pytest.raises(UnsafeXml, match="not well-formed"):
        safe_parse(broken)


def test_text_instead_of_bytes_is_refused() -> None:
    with pytest.raises(UnsafeXml):
        safe_parse("<r/>")  # type: ignore[arg-type]


def test_deep_nesting_is_refused_not_crashing() -> None:
    with pytest.raises(UnsafeXml):
        safe_parse(b"<a>" * 100_000 + b"</a>" * 100_000)


def test_a_stream_never_expands_entities(secret_file: Path) -> None:
    events = hardened_iterparse(io.BytesIO(_external_entity(secret_file)), events=("end",))
    texts = [element.text or "" for _, element in events]
    assert SECRET not in "".join(texts)


def test_a_document_without_doctype_declares_none() -> None:
    assert not declares_doctype(safe_parse(b"<r/>"))


def test_messages_are_one_bounded_line() -> None:
    assert shortened("a\n  b\tc") == "a b c"
    assert len(shortened("x" * 500, 20)) == 20
