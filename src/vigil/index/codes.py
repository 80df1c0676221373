"""PDQ hashes as rows of four 64-bit words, and Hamming distance between rows.

Sixty-four hex characters become 32 bytes read as four little-endian words; the bit order
inside the hash does not matter for Hamming distance as long as it is the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from vigil.index.errors import InvalidHashError

HASH_BITS = 256
HASH_BYTES = 32
WORDS = 4
PDQ_HEX = 64

Words = npt.NDArray[np.uint64]  # shape (n, 4)
PdqInput = str | bytes | Sequence[str] | Sequence[bytes] | npt.NDArray[np.generic]


def pdq_words(hashes: PdqInput) -> Words:
    """Rows of words from hex strings, 32-byte strings, (n, 32) uint8 or (n, 4) uint64."""
    if isinstance(hashes, np.ndarray):
        return _array_words(hashes)
    items: list[str | bytes] = [hashes] if isinstance(hashes, str | bytes) else list(hashes)
    if not items:
        return np.empty((0, WORDS), dtype=np.uint64)
    if isinstance(items[0], str):
        return _hex_words([str(h) for h in items])
    return _bytes_words([raw_bytes(h) for h in items])


def raw_bytes(item: str | bytes) -> bytes:
    """One raw hash of a sequence of raw ones; a str among them is refused, as bytes() does."""
    if isinstance(item, str):
        raise TypeError(f"a string among raw byte hashes: {item!r}")
    return bytes(item)


def _array_words(array: npt.NDArray[np.generic]) -> Words:
    if array.dtype == np.uint64 and array.ndim == 2 and array.shape[1] == WORDS:
        return np.ascontiguousarray(array)
    if array.dtype == np.uint8 and array.ndim == 2 and array.shape[1] == HASH_BYTES:
        return np.ascontiguousarray(array).view("<u8").astype(np.uint64, copy=False)
    raise InvalidHashError(
        f"expected (n, 32) uint8 or (n, 4) uint64, got {array.dtype} {array.shape}"
    )


def _hex_words(items: list[str]) -> Words:
    if any(len(h) != PDQ_HEX for h in items):
        bad = next(h for h in items if len(h) != PDQ_HEX)
        raise InvalidHashError(f"PDQ hash must be {PDQ_HEX} hex characters: {bad!r}")
    try:
        raw = bytes.fromhex("".join(items))
    except ValueError as exc:
        raise InvalidHashError(f"PDQ hash is not hex: {exc}") from None
    return np.frombuffer(raw, dtype="<u8").reshape(-1, WORDS).astype(np.uint64)


def _bytes_words(items: list[bytes]) -> Words:
    if any(len(h) != HASH_BYTES for h in items):
        raise InvalidHashError(f"PDQ hash must be {HASH_BYTES} bytes")
    return np.frombuffer(b"".join(items), dtype="<u8").reshape(-1, WORDS).astype(np.uint64)


def words_hex(words: Words) -> list[str]:
    raw = np.ascontiguousarray(words).astype("<u8", copy=False).tobytes().hex()
    return [raw[i : i + PDQ_HEX] for i in range(0, len(raw), PDQ_HEX)]


def row_distances(xored: Words) -> npt.NDArray[np.uint16]:
    """Popcount of each row of XORed words (0-256)."""
    counts = np.bitwise_count(xored)
    # Pairwise sums fit in uint8 (<= 128); only the final sum needs 16 bits.
    return np.add(counts[:, 0] + counts[:, 1], counts[:, 2] + counts[:, 3], dtype=np.uint16)


def distances_to(
    words: Words, rows: npt.NDArray[np.integer], queries: Words, query_rows: npt.NDArray[np.intp]
) -> npt.NDArray[np.uint16]:
    """Distance between ``words[rows[i]]`` and ``queries[query_rows[i]]`` for every i."""
    gathered = words.take(rows, axis=0)
    gathered ^= queries.take(query_rows, axis=0)
    return row_distances(gathered)
