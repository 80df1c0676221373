"""Measuring a queue against ground truth: how many of the most urgent reports are at the
top, and how often any two reports of different urgency are in the right order. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Ordering:
    """How well one ordering of reports follows their ground-truth levels (1 most urgent)."""

    top_k: int  # K: the number of level-1 reports
    precision_at_k: float  # share of the first K that are level 1 (= recall at K here)
    recall_at_2k: float  # share of level-1 reports within the first 2K
    pairwise: float  # pairs of different levels in the right order; ties in a level excluded
    gamma: float  # Goodman-Kruskal gamma: (right - wrong) / (right + wrong), -1 .. 1


def measure(order: Sequence[int], levels: Mapping[int, int]) -> Ordering:
    """``order``: report ids, first read first; ``levels``: report id -> true level."""
    truth = [levels[report_id] for report_id in order]
    urgent = sum(1 for level in truth if level == 1)
    k = max(1, urgent)
    precision = sum(1 for level in truth[:k] if level == 1) / k
    recall = sum(1 for level in truth[: 2 * k] if level == 1) / k if urgent else 0.0
    right, wrong = _pairs(truth)
    judged = right + wrong
    return Ordering(
        k,
        precision,
        min(1.0, recall),
        right / judged if judged else 1.0,
        (right - wrong) / judged if judged else 1.0,
    )


def _pairs(truth: Sequence[int]) -> tuple[int, int]:
    """(pairs in the right order, pairs in the wrong order), counted in one pass."""
    seen: dict[int, int] = {}
    right = wrong = 0
    for level in truth:
        for earlier, count in seen.items():
            if earlier < level:
                right += count
            elif earlier > level:
                wrong += count
        seen[level] = seen.get(level, 0) + 1
    return right, wrong
