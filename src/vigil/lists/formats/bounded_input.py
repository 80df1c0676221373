"""A byte stream wrapper that stops hostile input by size before a parser buffers it."""

from __future__ import annotations

from typing import BinaryIO

from vigil.lists.formats.lines import UTF8_BOM

_CHUNK = 64 * 1024


class InputTooLarge(Exception):
    """Raised from ``read`` so the parser unwinds; readers turn it into a RecordError."""


class CappedReader:
    """``read`` for parsers that pull bytes (lxml, ijson), with two optional limits.

    ``max_total`` caps the whole input. ``max_since_mark`` caps bytes read since the
    consumer last called ``mark()``: a streaming parser that has produced no event for
    that long is buffering one giant token, which would otherwise grow without bound.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        max_total: int | None = None,
        max_since_mark: int | None = None,
        strip_bom: bool = False,
    ) -> None:
        self._stream = stream
        self._max_total = max_total
        self._max_since_mark = max_since_mark
        self._strip_bom = strip_bom
        self.consumed = 0
        self._mark = 0

    def mark(self) -> None:
        self._mark = self.consumed

    def read(self, size: int | None = -1) -> bytes:
        # A read-everything call would buffer the whole input before any limit could act.
        data = self._stream.read(size if size is not None and size >= 0 else _CHUNK)
        if self._strip_bom and data:
            # ijson refuses a BOM; some VICS exporters write one.
            self._strip_bom = False
            data = data.removeprefix(UTF8_BOM)
        self.consumed += len(data)
        if self._max_total is not None and self.consumed > self._max_total:
            raise InputTooLarge(f"input larger than {self._max_total} bytes")
        if self._max_since_mark is not None and self.consumed - self._mark > self._max_since_mark:
            raise InputTooLarge(
                f"a single value or item spans more than {self._max_since_mark} bytes"
            )
        return data
