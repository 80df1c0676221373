"""Exact MD5 / SHA-1 / SHA-256 lookups."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from vigil.index.digest_index import DigestIndex
from vigil.index.errors import InvalidHashError

ALGORITHMS = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256}


def digests(algorithm: str, count: int, salt: str = "") -> list[str]:
    return [ALGORITHMS[algorithm](f"{salt}{i}".encode()).hexdigest() for i in range(count)]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_listed_digests_are_found_and_others_not(algorithm: str) -> None:
    listed = digests(algorithm, 5000)
    index = DigestIndex.build(algorithm, listed, np.arange(5000) + 1, np.arange(5000) % 7)
    queries = [listed[42], digests(algorithm, 1, "absent")[0], listed[4999].upper()]
    found = index.lookup([q.lower() for q in queries])
    assert found.query.tolist() == [0, 2]
    assert found.entry_id.tolist() == [43, 5000]
    assert found.list_id.tolist() == [42 % 7, 4999 % 7]


def test_one_digest_in_several_lists() -> None:
    value = digests("md5", 1)[0]
    index = DigestIndex.build("md5", [value] * 3, [1, 2, 3], [10, 11, 12])
    assert index.lookup(value).entry_id.tolist() == [1, 2, 3]
    assert index.lookup(value, lists={11}).entry_id.tolist() == [2]


def test_shared_prefix_does_not_confuse_lookup() -> None:
    a = "00" * 8 + "11" * 8
    b = "00" * 8 + "22" * 8
    index = DigestIndex.build("md5", [a, b], [1, 2], 0)
    assert index.lookup([b, a, "00" * 8 + "33" * 8]).entry_id.tolist() == [2, 1]


def test_changes_take_effect_and_compact() -> None:
    listed = digests("sha1", 1000)
    index = DigestIndex.build("sha1", listed, np.arange(1000), 1)
    fresh = digests("sha1", 2, "new")
    index.add(fresh, [5000, 5001], [3, 3])
    index.remove([10, 5001])
    assert index.lookup([listed[10], fresh[0], fresh[1]]).entry_id.tolist() == [5000]
    index.add([listed[11]], [11], [9])  # same entry again: replaces, no duplicate
    assert index.lookup(listed[11]).list_id.tolist() == [9]
    compact = index.compacted()
    assert len(compact) == len(index) == 1000
    assert compact.lookup([listed[10], fresh[0], listed[11]]).entry_id.tolist() == [5000, 11]


def test_malformed_digests_are_refused() -> None:
    index = DigestIndex("md5")
    with pytest.raises(InvalidHashError):
        index.lookup("ab" * 15)
    with pytest.raises(InvalidHashError):
        index.lookup("zz" * 16)
    assert len(index.lookup("ab" * 16)) == 0
