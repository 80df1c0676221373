"""The list catalogue, and the enumeration the match index is built from."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.store.samples import add_entry, add_list, fake_hex
from vigil.core.settings import MatchingSettings
from vigil.store.lists.active_entries import enabled_lists, iter_active_entries
from vigil.store.lists.catalogue import (
    create_list,
    get_list,
    list_summaries,
    list_summary,
    set_list_enabled,
    update_list_settings,
)
from vigil.store.lists.change_feed import read_changes
from vigil.store.lists.errors import DuplicateList, InvalidListSetting, UnknownList
from vigil.store.models import EntryFrame, EntryStatus, ListEntry, SignalType, frame_set_signal


def test_new_lists_take_the_matching_defaults(session: Session) -> None:
    default = create_list(session, "  plain  ", actor="alice", description=" benign ")
    tuned = create_list(
        session, "tuned", actor="alice", defaults=MatchingSettings(pdq_distance=20, min_quality=70)
    )
    explicit = create_list(
        session,
        "explicit",
        actor="alice",
        pdq_distance=0,
        min_quality=100,
        is_allow_list=True,
        defaults=MatchingSettings(pdq_distance=20),
    )
    session.commit()
    assert (default.name, default.description, default.enabled) == ("plain", "benign", True)
    assert (default.pdq_distance, default.min_quality) == (31, 50)
    assert (tuned.pdq_distance, tuned.min_quality) == (20, 70)
    assert (explicit.pdq_distance, explicit.min_quality, explicit.is_allow_list) == (0, 100, True)


def test_names_are_unique_and_checked(session: Session) -> None:
    create_list(session, "bank", actor="alice")
    with pytest.raises(DuplicateList, match="already exists"):
        create_list(session, " bank ", actor="alice")
    for bad in ("", "   ", "x" * 201, "tab\there"):
        with pytest.raises(InvalidListSetting):
            create_list(session, bad, actor="alice")


@pytest.mark.parametrize(
    "field, value", [("pdq_distance", 257), ("pdq_distance", -1), ("min_quality", 101)]
)
def test_out_of_range_settings_are_refused(session: Session, field: str, value: int) -> None:
    with pytest.raises(InvalidListSetting, match="must be between"):
        create_list(session, "bank", actor="alice", **{field: value})  # type: ignore[arg-type]
    create_list(session, "bank", actor="alice")
    with pytest.raises(InvalidListSetting):
        update_list_settings(session, "bank", actor="alice", **{field: value})  # type: ignore[arg-type]


def test_unknown_list_names_the_lists_that_exist(session: Session) -> None:
    with pytest.raises(UnknownList, match="there are no lists yet"):
        get_list(session, "nope")
    create_list(session, "alpha", actor="alice")
    create_list(session, "beta", actor="alice")
    with pytest.raises(UnknownList, match=r"no hash list named 'nope' \(lists: alpha, beta\)"):
        get_list(session, "nope")


def test_setting_changes_reach_the_change_feed(session: Session) -> None:
    create_list(session, "bank", actor="alice")
    session.commit()
    cursor = read_changes(session, after=0).next_seq
    update_list_settings(
        session,
        "bank",
        actor="alice",
        pdq_distance=12,
        min_quality=80,
        is_allow_list=True,
        description="changed",
    )
    session.commit()
    [change] = read_changes(session, after=cursor).lists
    assert (change.pdq_distance, change.min_quality, change.is_allow_list) == (12, 80, True)


def test_enabling_and_disabling_report_whether_anything_changed(session: Session) -> None:
    create_list(session, "bank", actor="alice")
    session.commit()
    cursor = read_changes(session, after=0).next_seq
    assert set_list_enabled(session, "bank", False, actor="alice")
    assert not set_list_enabled(session, "bank", False, actor="alice")
    session.commit()
    [change] = read_changes(session, after=cursor).lists
    assert change.enabled is False
    assert set_list_enabled(session, "bank", True, actor="alice")


def test_summaries_count_entries_by_status(session: Session) -> None:
    bank, empty = add_list(session, "bank"), add_list(session, "empty")
    entries = [add_entry(session, bank, n) for n in range(4)]
    entries[0].set_status(EntryStatus.DISABLED, actor="tester", reason="false positives")
    entries[1].set_status(EntryStatus.QUARANTINED, actor="tester", reason="review")
    session.commit()
    summaries = {summary.name: summary for summary in list_summaries(session)}
    assert list(summaries) == ["bank", "empty"]
    counts = summaries["bank"].counts
    assert counts == {EntryStatus.ACTIVE: 2, EntryStatus.DISABLED: 1, EntryStatus.QUARANTINED: 1}
    assert summaries["bank"].total == 4 and summaries["empty"].total == 0
    assert list_summary(session, "empty").id == empty.id


def test_the_index_sees_active_entries_of_enabled_lists_only(session: Session) -> None:
    bank = add_list(session, "bank", pdq_distance=20)
    off = add_list(session, "off", enabled=False)
    allowed = add_list(session, "allowed", is_allow_list=True)
    active = add_entry(session, bank, 1)
    add_entry(session, bank, 2).set_status(EntryStatus.DISABLED, actor="t", reason="fp")
    add_entry(session, off, 3)
    kept = add_entry(session, allowed, 4, SignalType.PDQ)
    pdqs = [fake_hex(10), fake_hex(11)]
    video = ListEntry(
        hash_list=bank,
        signal_type=SignalType.VIDEO_PDQ,
        signal=frame_set_signal(pdqs),
        frames=[EntryFrame(position=i, pdq=p, quality=90) for i, p in enumerate(pdqs)],
    )
    session.add(video)
    session.commit()

    lists = enabled_lists(session)
    assert set(lists) == {bank.id, allowed.id}
    assert lists[bank.id].pdq_distance == 20 and lists[allowed.id].is_allow_list
    pages = list(iter_active_entries(session, page=2))
    assert [len(page) for page in pages] == [2, 1]
    entries = [entry for page in pages for entry in page]
    assert [entry.entry_id for entry in entries] == [active.id, kept.id, video.id]
    assert [frame.pdq for frame in entries[2].frames] == pdqs
    only_pdq = list(iter_active_entries(session, signal_types={SignalType.PDQ}))
    assert [entry.entry_id for page in only_pdq for entry in page] == [kept.id]
