"""Readers stream: the first record arrives after reading a small prefix of a huge input.

Each input below is a generator of ten million generated entries that is never
materialised; a reader that loaded its input whole would hang or exhaust memory here.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from tests.lists.format_samples import buffered, endless, md5_of, pdq_of
from vigil.lists.formats import (
    ListRecord,
    ReadItem,
    read_csv,
    read_json_lines,
    read_list,
    read_ncmec_xml,
    read_plain_text,
    read_threatexchange_csv,
    read_vics_json,
)

PREFIX_LIMIT = 1024 * 1024  # bytes a reader may take before its first record


def _ncmec_entry(n: int) -> bytes:
    return (
        f"<image><member id='1'/><id>e{n}</id>"
        f"<fingerprints><md5>{md5_of(n)}</md5></fingerprints></image>\n"
    ).encode()


def _vics_item(n: int) -> bytes:
    return (json.dumps({"MediaID": n, "MD5": md5_of(n), "Category": 1}) + ",\n").encode()


CASES: dict[str, tuple[Callable[..., Iterator[ReadItem]], bytes, Callable[[int], bytes]]] = {
    "csv": (read_csv, b"signal_type,signal\n", lambda n: f"md5,{md5_of(n)}\n".encode()),
    "plain": (read_plain_text, b"# list\n", lambda n: f"{md5_of(n)}\n".encode()),
    "jsonl": (
        read_json_lines,
        b"",
        lambda n: (json.dumps({"signal_type": "md5", "signal": md5_of(n)}) + "\n").encode(),
    ),
    "threatexchange": (
        read_threatexchange_csv,
        b"signal_type,signal_str,collab,category,tags\n",
        lambda n: f"pdq,{pdq_of(n)},C,POSITIVE_CLASS,\n".encode(),
    ),
    "ncmec": (read_ncmec_xml, b"<queryResult><images>\n", _ncmec_entry),
    "vics": (read_vics_json, b'{"@odata.context": "x#Media", "value": [\n', _vics_item),
    "detected": (read_list, b"signal_type,signal\n", lambda n: f"md5,{md5_of(n)}\n".encode()),
}


@pytest.mark.parametrize("name", CASES)
def test_first_record_comes_from_a_small_prefix(name: str) -> None:
    reader, head, line = CASES[name]
    stream, raw = buffered(endless(head, line))
    first = next(item for item in reader(stream) if isinstance(item, ListRecord))
    assert first.signal in (md5_of(0), pdq_of(0))
    assert raw.consumed < PREFIX_LIMIT


def test_memory_stays_flat_over_a_long_file() -> None:
    lines = 30_000
    stream, _ = buffered(
        (f"{md5_of(n)}\n".encode() for n in range(lines)),
    )
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_plain_text(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == lines
    assert peak < 256 * 1024  # the file is ~1 MB of text and ~5 MB as record objects
