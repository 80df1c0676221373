"""The pure choice of what a fingerprint reports, given raw index hits and list settings."""

from __future__ import annotations

from vigil.screening.feed_changes import ListSettings
from vigil.screening.verdict import Hit, decide

LISTS = {
    1: ListSettings(1, "bank", True, 31, 50, False),
    2: ListSettings(2, "off", False, 31, 50, False),
    3: ListSettings(3, "stock", True, 31, 50, True),
    4: ListSettings(4, "stock-off", False, 31, 50, True),
}


def test_disabled_and_unknown_lists_are_ignored() -> None:
    verdict = decide([Hit(10, 1, "md5"), Hit(11, 2, "md5"), Hit(12, 9, "md5")], LISTS)
    assert [h.entry_id for h in verdict.hits] == [10] and verdict.suppressed_by == []


def test_one_hit_per_entry() -> None:
    verdict = decide([Hit(10, 1, "sha256"), Hit(10, 1, "sha256")], LISTS)
    assert len(verdict.hits) == 1


def test_enabled_allow_list_suppresses_everything_else() -> None:
    verdict = decide([Hit(10, 1, "pdq", 3, "original"), Hit(20, 3, "pdq", 5, "mirror")], LISTS)
    assert verdict.hits == [] and [h.entry_id for h in verdict.suppressed_by] == [20]


def test_disabled_allow_list_suppresses_nothing() -> None:
    verdict = decide([Hit(10, 1, "md5"), Hit(21, 4, "md5")], LISTS)
    assert [h.entry_id for h in verdict.hits] == [10] and verdict.suppressed_by == []
