"""GET /v1/lists/{list}/entries/{entry} (issue 16): one entry, asked for by id or by hash,
with its provenance (exchange, entry id there, member, tags, classification) and the feedback
reviewers' verdicts left on it, never its hash; a file's entry has no exchange; unknown lists
and entries and oversized or odd references are 404 or 422, never 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import add_key, running
from tests.exchanges.memory_exchange import md5
from tests.exchanges.shared_entries import feed_list
from tests.screening.listed import CSV_HEADER
from vigil.core.settings import Settings
from vigil.lists.sources import LocalFileSource
from vigil.store import Database
from vigil.store.exchanges.entry_feedback import queue_verdicts
from vigil.store.exchanges.feedback_queue import mark_feedback_failed, mark_feedback_sent
from vigil.store.lists.importing import import_file
from vigil.store.models import FeedbackVerdict, ListEntry

LIST = "known/eu"  # a "/" in the list's name: the path up to /entries/ is the name


@pytest.fixture
def entries(database: Database, tmp_path: Path) -> dict[str, int]:
    """Two entries NCMEC shared (one with a sent and a failed verdict) and one from a file."""
    feed_list(
        database,
        "ncmec/esp",
        LIST,
        [("md5", md5(1), "ncmec-1"), ("md5", md5(2), "ncmec-2")],
    )
    listed = tmp_path / "extra.csv"
    listed.write_text(CSV_HEADER + f"md5,{md5(3)},file-3,A1\n")
    assert import_file(database, LIST, LocalFileSource(listed), actor="test").error_count == 0
    with database.transaction(write=True) as session:
        ids = {
            str(key): value
            for key, value in session.execute(select(ListEntry.external_id, ListEntry.id)).all()
        }
        [sent] = queue_verdicts(session, [ids["ncmec-1"]], FeedbackVerdict.AFFIRMATIVE, actor="r")
        mark_feedback_sent(session, sent)
        [failed] = queue_verdicts(
            session,
            [ids["ncmec-1"]],
            FeedbackVerdict.NEGATIVE,
            actor="r",
            reason="not the content described",
        )
        mark_feedback_failed(session, failed, error="refused: unknown entry", retryable=False)
    return ids


@pytest.fixture
def reader(settings: Settings, database: Database) -> Iterator[TestClient]:
    token = add_key(database, "platform", ["lists:read"])
    for client in running(settings):
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def _path(reference: object, list_name: str = LIST) -> str:
    return f"/v1/lists/{list_name}/entries/{reference}"


def test_an_exchange_entry_shows_its_origin_and_feedback_by_id_or_hash(
    reader: TestClient, entries: dict[str, int]
) -> None:
    entry_id = entries["ncmec-1"]
    by_id = reader.get(_path(entry_id))
    assert by_id.status_code == 200, by_id.text
    shown = by_id.json()
    assert {key: shown[key] for key in ("list", "entry_id", "exchange", "exchange_kind")} == {
        "list": LIST,
        "entry_id": entry_id,
        "exchange": "ncmec/esp",
        "exchange_kind": "ncmec",
    }
    assert (shown["external_id"], shown["member"], shown["tags"]) == (
        "ncmec-1",
        "member-7",
        ["csam", "verified"],
    )
    assert (shown["classification"], shown["status"], shown["signal_type"]) == (
        "A1",
        "active",
        "md5",
    )
    assert shown["source"] == "exchange:ncmec/esp" and shown["takes_feedback"] is True
    assert shown["feedback"] == [
        {
            "verdict": "affirmative",
            "state": "sent",
            "reason": None,
            "text": "affirmative feedback: sent",
        },
        {
            "verdict": "negative",
            "state": "failed",
            "reason": "refused: unknown entry",
            "text": "negative feedback: failed (refused: unknown entry)",
        },
    ]
    assert md5(1) not in by_id.text  # the hash is not served
    assert reader.get(_path(md5(1))).json() == shown
    assert reader.get(_path(md5(1).upper())).json() == shown
    assert reader.get(_path(entries["ncmec-2"])).json()["feedback"] == []


def test_a_file_entry_has_no_exchange(reader: TestClient, entries: dict[str, int]) -> None:
    shown = reader.get(_path(md5(3))).json()
    assert (shown["entry_id"], shown["exchange"], shown["source"]) == (
        entries["file-3"],
        None,
        "extra.csv",
    )
    assert shown["takes_feedback"] is False and shown["feedback"] == []


@pytest.mark.parametrize(
    ("path", "status", "said"),
    [
        (_path(1, "nope"), 404, "no hash list named 'nope'"),
        (_path(10**9), 404, "no entry 1000000000 in list 'known/eu'"),
        (_path("9" * 31), 404, "no entry"),  # beyond any id the database can hold
        (_path(md5(9)), 404, "no entry with hash"),
        (_path("not-a-hash"), 404, "no entry with hash"),
        (_path("%20"), 404, "no entry"),
        (_path("x" * 10_000), 422, ""),
        (_path(1, "l" * 10_000), 422, ""),
        ("/v1/lists/known%2Feu/entries/", 404, ""),
    ],
)
def test_unknown_or_hostile_references_are_404_or_422(
    reader: TestClient, entries: dict[str, int], path: str, status: int, said: str
) -> None:
    answer = reader.get(path)
    assert answer.status_code == status, answer.text
    assert said in answer.text and len(answer.text) < 2000


def test_an_entry_of_another_list_is_not_found_through_this_one(
    reader: TestClient, database: Database, entries: dict[str, int]
) -> None:
    feed_list(database, "other-exchange", "other", [("md5", md5(4), "other-4")])
    with database.transaction() as session:
        other = session.scalar(select(ListEntry.id).where(ListEntry.external_id == "other-4"))
    assert reader.get(_path(other)).status_code == 404
    assert reader.get(_path(other, "other")).status_code == 200


def test_reading_an_entry_needs_lists_read(
    settings: Settings, database: Database, entries: dict[str, int]
) -> None:
    token = add_key(database, "screening-only", ["screen"])
    for client in running(settings):
        assert client.get(_path(entries["ncmec-1"])).status_code == 401
        keyed = client.get(_path(entries["ncmec-1"]), headers={"Authorization": f"Bearer {token}"})
        assert keyed.status_code == 403
