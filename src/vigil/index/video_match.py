"""vPDQ video matching: does a query video match a listed video, and where.

Semantics follow vPDQ (ThreatExchange): frames below a quality threshold are dropped, query
frames are deduplicated by exact hash, and a listed video matches when at least
``min_query_share`` (default 80%) of the DISTINCT query hashes are within the PDQ distance of
some frame of it (and, optionally, a share of its own frames is matched). On top of that,
segments: runs of query frames that line up with the listed video at a steady time offset, so
a clip cut from a listed video, or a listed clip inside a longer upload, says where it sits
in each. Pure functions over arrays; the frame lookups come from the PDQ index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vigil.fingerprint.video import FrameHash

DEFAULT_MIN_QUALITY = 50  # vPDQ's quality threshold, on both sides
DEFAULT_QUERY_SHARE = 0.8  # vPDQ's query match threshold
DEFAULT_OFFSET_TOLERANCE = 2.0  # seconds: 1 fps sampling jitters each side by up to 1 s
DEFAULT_MAX_SKIP = 2  # unmatched query frames a segment may bridge (a noisy frame or two)
DEFAULT_MIN_PARTIAL_FRAMES = 3  # a video under the share rule is reported from this run on

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class QueryFrames:
    """Kept query frames in time order, and the distinct hashes they use."""

    hashes: tuple[str, ...]  # distinct, first-seen order: what gets looked up
    frame_hash: IntArray  # per kept frame: index into ``hashes``
    times: FloatArray  # per kept frame, ascending

    @classmethod
    def of(cls, frames: Sequence[FrameHash], min_quality: int = DEFAULT_MIN_QUALITY) -> QueryFrames:
        kept = sorted((f for f in frames if f.quality >= min_quality), key=lambda f: f.t)
        index: dict[str, int] = {}
        frame_hash = [index.setdefault(f.pdq.lower(), len(index)) for f in kept]
        return cls(
            tuple(index),
            np.array(frame_hash, dtype=np.intp),
            np.array([f.t for f in kept], dtype=np.float64),
        )


@dataclass(frozen=True, slots=True)
class FrameHits:
    """Listed frames near each distinct query hash, as parallel arrays (one per pair)."""

    query: IntArray  # index into QueryFrames.hashes
    entry_id: npt.NDArray[np.uint64]  # the listed video
    list_id: npt.NDArray[np.uint16]
    time: FloatArray  # the listed frame's time


@dataclass(frozen=True, slots=True)
class Segment:
    query_start: float
    query_end: float
    listed_start: float
    listed_end: float
    frames: int  # query frames in the run that matched


@dataclass(frozen=True, slots=True)
class VideoMatch:
    entry_id: int
    list_id: int
    query_share: float  # distinct query hashes matching this video / distinct query hashes
    listed_share: float  # frames of this video matched / its frames
    is_match: bool  # the share rule holds
    segments: tuple[Segment, ...]


def match_videos(
    query: QueryFrames,
    hits: FrameHits,
    listed_frames: Mapping[int, int],
    *,
    min_query_share: float = DEFAULT_QUERY_SHARE,
    min_listed_share: float = 0.0,
    offset_tolerance: float = DEFAULT_OFFSET_TOLERANCE,
    max_skip: int = DEFAULT_MAX_SKIP,
    min_partial_frames: int = DEFAULT_MIN_PARTIAL_FRAMES,
) -> list[VideoMatch]:
    """One result per listed video that passes the share rule or shares a segment of at
    least ``min_partial_frames`` frames; matches first, then by query share."""
    if not query.hashes:
        return []
    results = []
    for entry_id in np.unique(hits.entry_id).tolist():
        mine = np.flatnonzero(hits.entry_id == entry_id)
        query_share = len(np.unique(hits.query[mine])) / len(query.hashes)
        listed_share = min(
            1.0, len(np.unique(hits.time[mine])) / max(1, listed_frames.get(entry_id, 1))
        )
        is_match = query_share >= min_query_share and listed_share >= min_listed_share
        segments = find_segments(
            query,
            hits.query[mine],
            hits.time[mine],
            offset_tolerance=offset_tolerance,
            max_skip=max_skip,
        )
        if is_match or any(s.frames >= min_partial_frames for s in segments):
            results.append(
                VideoMatch(
                    int(entry_id),
                    int(hits.list_id[mine[0]]),
                    query_share,
                    listed_share,
                    is_match,
                    segments,
                )
            )
    return sorted(results, key=lambda m: (not m.is_match, -m.query_share, m.entry_id))


def find_segments(
    query: QueryFrames,
    hash_index: IntArray,
    listed_time: FloatArray,
    *,
    offset_tolerance: float = DEFAULT_OFFSET_TOLERANCE,
    max_skip: int = DEFAULT_MAX_SKIP,
) -> tuple[Segment, ...]:
    """Non-overlapping runs of query frames matching one listed video at a steady offset."""
    frame, listed = _frame_pairs(query, hash_index, listed_time)
    if not len(frame):
        return ()
    offset = listed - query.times[frame]
    order = np.argsort(offset, kind="stable")
    frame, listed, offset = frame[order], listed[order], offset[order]
    cluster_breaks = np.flatnonzero(np.diff(offset) > offset_tolerance) + 1
    candidates = [
        run
        for cluster in np.split(np.arange(len(frame)), cluster_breaks)
        for run in _runs(query, frame[cluster], listed[cluster], max_skip)
    ]
    return _disjoint(candidates)


def _frame_pairs(
    query: QueryFrames, hash_index: IntArray, listed_time: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Every (query frame, listed time) pair: a distinct hash stands for all its frames."""
    by_hash = np.argsort(query.frame_hash, kind="stable")
    counts = np.bincount(query.frame_hash, minlength=len(query.hashes))
    starts = np.cumsum(counts) - counts
    per_pair = counts[hash_index]
    first = np.repeat(starts[hash_index] - (np.cumsum(per_pair) - per_pair), per_pair)
    frames = by_hash[first + np.arange(per_pair.sum())]
    return frames, np.repeat(listed_time, per_pair).astype(np.float64)


@dataclass(frozen=True, slots=True)
class _Run:
    first: int  # rank of the first and last query frame
    last: int
    segment: Segment


def _runs(query: QueryFrames, frame: IntArray, listed: FloatArray, max_skip: int) -> list[_Run]:
    order = np.lexsort((listed, frame))
    frame, listed = frame[order], listed[order]
    breaks = np.flatnonzero(np.diff(frame) > max_skip + 1) + 1
    runs = []
    for part in np.split(np.arange(len(frame)), breaks):
        frames, times = frame[part], listed[part]
        segment = Segment(
            float(query.times[frames[0]]),
            float(query.times[frames[-1]]),
            float(times.min()),
            float(times.max()),
            len(np.unique(frames)),
        )
        runs.append(_Run(int(frames[0]), int(frames[-1]), segment))
    return runs


def _disjoint(runs: list[_Run]) -> tuple[Segment, ...]:
    """Longest runs first; a run overlapping a kept one in the query is dropped (static
    scenes match many listed frames at spurious offsets)."""
    kept: list[_Run] = []
    for run in sorted(runs, key=lambda r: (-r.segment.frames, r.first)):
        if all(run.last < k.first or run.first > k.last for k in kept):
            kept.append(run)
    return tuple(r.segment for r in sorted(kept, key=lambda r: r.first))
