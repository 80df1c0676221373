"""Cutting a listing into numbered chunks and skipping what a resumed job finished."""

from __future__ import annotations

import pytest

from vigil.screening.backlog.chunks import ListingChanged, after_checkpoint, chunked
from vigil.screening.backlog.objects import ObjectError, ObjectRef


def _refs(count: int) -> list[ObjectRef | ObjectError]:
    return [ObjectRef("s3", "b", f"k{n:03d}", "v", 1) for n in range(count)]


def test_chunks_are_cut_in_listing_order_and_numbered_on() -> None:
    chunks = list(chunked(_refs(7), 3, first_number=5))
    assert [c.number for c in chunks] == [5, 6, 7]
    assert [len(c.items) for c in chunks] == [3, 3, 1]
    assert [c.last_key for c in chunks] == ["k002", "k005", "k006"]
    assert list(chunked([], 3)) == []
    with pytest.raises(ValueError, match="at least one"):
        list(chunked(_refs(1), 0))


def test_a_resumed_listing_starts_after_the_checkpoint() -> None:
    left = list(after_checkpoint(_refs(7), 3, "k002"))
    assert [item.key for item in left] == ["k003", "k004", "k005", "k006"]
    assert len(list(after_checkpoint(_refs(7), 0, None))) == 7
    assert list(after_checkpoint(_refs(3), 3, "k002")) == []


def test_an_error_row_counts_as_a_listed_item() -> None:
    listing = [*_refs(2), ObjectError("s3", "b", "bad", "malformed row"), *_refs(1)]
    assert [i.key for i in after_checkpoint(listing, 3, "bad")] == ["k000"]


@pytest.mark.parametrize(("done", "checkpoint"), [(3, "k001"), (9, "k008"), (2, None)])
def test_a_listing_that_changed_under_the_job_is_refused(done: int, checkpoint: str | None) -> None:
    with pytest.raises(ListingChanged, match="new job"):
        list(after_checkpoint(_refs(5), done, checkpoint))
