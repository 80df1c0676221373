"""Which raw index hits a fingerprint reports: the pure part of matching.

Hits from disabled lists never count. A hit on an enabled allow-list (known benign content,
e.g. a stock image that collides with a listed hash) suppresses every other hit for the
content; the allow-list hits are kept so a reviewer can see why nothing was reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vigil.index.video_match import Segment
from vigil.screening.feed_changes import ListSettings


@dataclass(frozen=True, slots=True)
class Hit:
    entry_id: int
    list_id: int
    signal_type: str
    distance: int | None = None  # PDQ bit distance; None for digests and videos
    variant: str | None = None  # the query variant that came closest (photos)
    segments: tuple[Segment, ...] = ()  # where a video matches


@dataclass(frozen=True, slots=True)
class Verdict:
    hits: list[Hit] = field(default_factory=list)
    suppressed_by: list[Hit] = field(default_factory=list)  # allow-list hits, if any


def decide(hits: Iterable[Hit], lists: Mapping[int, ListSettings]) -> Verdict:
    live = [h for h in _distinct(hits) if h.list_id in lists and lists[h.list_id].enabled]
    allowed = [h for h in live if lists[h.list_id].is_allow_list]
    if allowed:
        return Verdict([], allowed)
    return Verdict(live, [])


def _distinct(hits: Iterable[Hit]) -> list[Hit]:
    """One hit per entry: a content's digest and PDQ may both hit one entry."""
    seen: dict[int, Hit] = {}
    for hit in hits:
        seen.setdefault(hit.entry_id, hit)
    return list(seen.values())
