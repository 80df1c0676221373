"""Matching one fingerprint against every enabled list: digests, PDQ with variants, video.

Each list is searched with its own PDQ distance, and a photo hash of lower quality than a
list's ``min_quality`` is not looked up in that list (weak hashes of flat images match
unrelated content). Entry metadata and provenance (exchange, entry id, member,
classification, tags) come from the database, one query per fingerprint.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from vigil.core.settings import FloodGuardSettings
from vigil.fingerprint.record import Fingerprint
from vigil.index.changes import Kind
from vigil.index.distances import ListDistances
from vigil.index.video_match import Segment
from vigil.screening.feed_changes import ListSettings
from vigil.screening.held_scan import HeldCatalogue, HeldMatch, held_query
from vigil.screening.live_index import LiveIndex
from vigil.screening.verdict import Hit, Verdict, decide
from vigil.store.exchanges.provenance import EntryProvenance, entry_provenance
from vigil.store.lists.flood_guard import RaisedSuspicion, enforce_flood_guard
from vigil.store.lists.match_counts import record_matches
from vigil.store.lists.suspicions import suspect_entry_ids
from vigil.store.models import utcnow

log = logging.getLogger(__name__)

ORIGINAL = "original"


@dataclass(frozen=True, slots=True)
class ListMatch:
    list: str
    entry_id: int
    external_id: str | None
    signal_type: str
    distance: int | None
    variant: str | None
    classification: str | None
    segments: tuple[Segment, ...] = ()
    # the flood guard saw this entry's matches surge: a person must look before any action
    suspect: bool = False
    # Provenance (vigil.store.exchanges.provenance): who shared the entry, with which tags;
    # ``exchange`` is None for an entry from a file or added by hand (see ``source``).
    member: str | None = None
    tags: tuple[str, ...] = ()
    exchange: str | None = None
    exchange_kind: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Screening:
    matches: list[ListMatch]
    suppressed_by: list[ListMatch]  # allow-list entries that silenced the matches
    # entries this screening pushed over the flood guard: they match on, as suspects
    suspected: list[RaisedSuspicion] = field(default_factory=list)
    # the second stage: held pictures the upload's regions came within reach of
    held: list[HeldMatch] = field(default_factory=list)


class Matcher:
    def __init__(
        self,
        live: LiveIndex,
        *,
        only_lists: Collection[str] | None = None,
        skip_lists: Collection[str] = (),
        flood_guard: FloodGuardSettings | None = None,
        count_for_flood_guard: bool = False,
    ) -> None:
        """``only_lists``: names of the lists to match against (None: all). Allow-lists
        always take part, so narrowing a search never brings back a known false match.
        ``skip_lists``: lists that are not for this matcher (e.g. the clearinghouse's record
        of what it received, which says nothing about a platform's upload).
        ``count_for_flood_guard``: only the service screening live uploads counts matches
        for the flood guard; a backlog scan or the clearinghouse's intake would make any
        entry look like a surge."""
        self.live = live
        self.flood_guard = flood_guard or FloodGuardSettings()
        self.count_for_flood_guard = count_for_flood_guard
        self.only_lists = frozenset(only_lists) if only_lists is not None else None
        self.skip_lists = frozenset(skip_lists)
        self.held = HeldCatalogue(live.database)  # the second stage's pictures Vigil holds

    def match(self, fingerprint: Fingerprint) -> list[ListMatch]:
        return self.screen(fingerprint).matches

    def screen(self, fingerprint: Fingerprint, started: float | None = None) -> Screening:
        """Thread-safe, and current: every list change committed before ``started`` (a
        ``time.monotonic()`` value, default now) is applied first (the freshness contract of
        ``LiveIndex``). Only the index lookup holds the index's lock; the database work
        after it runs in parallel. After the list match, the upload's region hashes
        (Fingerprint.held_regions, when it has them) are compared with the pictures Vigil holds
        (vigil.screening.held_scan), outside the lock, as current as the lists."""
        with self.live.lock:
            self.live.ensure_current(started)
            verdict = decide(self.hits(fingerprint), self.live.lists)
            lists = self.live.lists
        screening = self._describe(verdict, lists)
        query = held_query(fingerprint)
        if fingerprint.ok and query:
            screening.held.extend(self.held.matches(query, started))
        return screening

    def hits(self, fingerprint: Fingerprint) -> Iterator[Hit]:
        if not fingerprint.ok:
            return
        enabled = [s for s in self.live.lists.values() if s.enabled and self._wanted(s)]
        yield from self._digest_hits(fingerprint, enabled)
        yield from self._photo_hits(fingerprint, enabled)
        yield from self._video_hits(fingerprint, enabled)

    def _wanted(self, settings: ListSettings) -> bool:
        if settings.name in self.skip_lists:
            return False
        return self.only_lists is None or settings.is_allow_list or settings.name in self.only_lists

    def _digest_hits(self, fingerprint: Fingerprint, enabled: list[ListSettings]) -> Iterator[Hit]:
        lists = [s.list_id for s in enabled]
        for kind, digest in (
            (Kind.MD5, fingerprint.md5),
            (Kind.SHA1, fingerprint.sha1),
            (Kind.SHA256, fingerprint.sha256),
        ):
            if digest is None or not lists:
                continue
            found = self.live.index.lookup_digests(kind, [digest], lists)
            for entry_id, list_id in zip(
                found.entry_id.tolist(), found.list_id.tolist(), strict=True
            ):
                yield Hit(int(entry_id), int(list_id), kind.value)

    def _photo_hits(self, fingerprint: Fingerprint, enabled: list[ListSettings]) -> Iterator[Hit]:
        if fingerprint.pdq is None:
            return
        quality = fingerprint.pdq_quality or 0
        distances = {s.list_id: s.pdq_distance for s in enabled if quality >= s.min_quality}
        if not distances:
            return
        variants = {ORIGINAL: fingerprint.pdq}
        variants.update((v.variant, v.pdq) for v in fingerprint.pdq_variants)
        for found in self.live.index.match_photo(variants, ListDistances.only(distances)):
            yield Hit(found.entry_id, found.list_id, Kind.PDQ.value, found.distance, found.variant)

    def _video_hits(self, fingerprint: Fingerprint, enabled: list[ListSettings]) -> Iterator[Hit]:
        if not fingerprint.frames or not enabled:
            return
        distances = ListDistances.only({s.list_id: s.pdq_distance for s in enabled})
        for found in self.live.index.match_video(fingerprint.frames, distances):
            if found.is_match:  # vPDQ's share rule (80% of the distinct query frames)
                yield Hit(found.entry_id, found.list_id, Kind.VIDEO.value, segments=found.segments)

    def _describe(self, verdict: Verdict, lists: Mapping[int, ListSettings]) -> Screening:
        wanted = [h.entry_id for h in (*verdict.hits, *verdict.suppressed_by)]
        if not wanted:
            return Screening([], [])
        counting = self.count_for_flood_guard and bool(verdict.hits)
        with self.live.database.transaction(write=counting) as session:
            # Counted first, so the match that tips an entry over is already flagged.
            suspected = self._count_matches(session, verdict.hits) if counting else []
            metadata = entry_provenance(session, wanted)
            suspects = suspect_entry_ids(session, [h.entry_id for h in verdict.hits])
        return Screening(
            self._named(verdict.hits, metadata, lists, suspects),
            self._named(verdict.suppressed_by, metadata, lists, suspects),
            suspected,
        )

    def _count_matches(self, session: Any, hits: list[Hit]) -> list[RaisedSuspicion]:
        """Feed the flood guard: a colliding or poisoned hash shows as a sudden surge."""
        if not hits:
            return []
        now = utcnow()
        entry_ids = sorted({hit.entry_id for hit in hits})
        for entry_id in entry_ids:
            record_matches(session, entry_id, now)
        suspected = enforce_flood_guard(session, self.flood_guard, now=now, entry_ids=entry_ids)
        for item in suspected:
            log.warning(
                "flood guard: entry %d of list %r is suspect, its matches go to review: %s",
                item.entry_id,
                item.list_name,
                item.verdict.explanation,
            )
        return suspected

    @staticmethod
    def _named(
        hits: list[Hit],
        metadata: Mapping[int, EntryProvenance],
        lists: Mapping[int, ListSettings],
        suspects: set[int],
    ) -> list[ListMatch]:
        named = []
        for hit in hits:
            origin = metadata.get(hit.entry_id)
            named.append(
                ListMatch(
                    lists[hit.list_id].name,
                    hit.entry_id,
                    origin.external_id if origin else None,
                    hit.signal_type,
                    hit.distance,
                    hit.variant,
                    origin.classification if origin else None,
                    hit.segments,
                    suspect=hit.entry_id in suspects,
                    **_provenance(origin),
                )
            )
        return named


def _provenance(origin: EntryProvenance | None) -> dict[str, Any]:
    if origin is None:
        return {}
    return {
        "member": origin.member,
        "tags": origin.tags,
        "exchange": origin.exchange,
        "exchange_kind": origin.exchange_kind,
        "source": origin.source,
    }
