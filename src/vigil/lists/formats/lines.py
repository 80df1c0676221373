"""Bounded, numbered UTF-8 lines from a binary stream: the base of every line-based format."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from vigil.lists.formats.records import RecordError, excerpt

# Room for a video_pdq frame set of ~14,000 frames; hash-only lines are far shorter.
MAX_LINE_BYTES = 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SKIP_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class TextLine:
    number: int
    text: str  # without its line ending


def text_lines(
    stream: BinaryIO, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[TextLine | RecordError]:
    """Lines ending in LF or CRLF; an overlong or undecodable line becomes an error.

    At most ``max_line_bytes + 1`` bytes are held at once, whatever the input.
    """
    number = 0
    while chunk := stream.readline(max_line_bytes + 1):
        number += 1
        if number == 1:
            if chunk.startswith(UTF16_BOMS):
                yield RecordError(1, "UTF-16 is not supported: convert the file to UTF-8")
                return
            chunk = chunk.removeprefix(UTF8_BOM)
        if not chunk.endswith(b"\n") and len(chunk) > max_line_bytes:
            _skip_rest_of_line(stream)
            yield RecordError(number, f"line longer than {max_line_bytes} bytes", excerpt(chunk))
            continue
        yield _decode(number, chunk.removesuffix(b"\n").removesuffix(b"\r"))


def _decode(number: int, raw: bytes) -> TextLine | RecordError:
    if b"\x00" in raw:
        return RecordError(number, "NUL byte in line (binary or UTF-16 data?)", excerpt(raw))
    try:
        return TextLine(number, raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return RecordError(number, f"not UTF-8 at byte {exc.start}", excerpt(raw))


def _skip_rest_of_line(stream: BinaryIO) -> None:
    while chunk := stream.readline(_SKIP_CHUNK):
        if chunk.endswith(b"\n"):
            return
