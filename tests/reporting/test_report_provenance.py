"""The CyberTipline report says where each hash list match came from: one fileDetails
``<details type="HASH">`` per matched entry (Appendix C.3), naming the list and entry, the
exchange that shared it with its member, classification and tags, or the file it was
imported from; valid against the XSD. On SQLite and PostgreSQL, from a case opened by the
real screening service and confirmed through the review decisions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exchanges.shared_entries import feed_list
from tests.reporting.test_from_case import REPORTER
from tests.review.review_env import ReviewEnv, review_env
from vigil.core.settings import ReviewSettings
from vigil.reporting.cybertipline.from_case import build_case_report
from vigil.reporting.cybertipline.schema import safe_parse, validate
from vigil.review.decisions import decide, set_incident_type
from vigil.store import Database
from vigil.store.shared.vocabulary import INCIDENT_TYPES

SHARED = 2  # shared by the exchange; image 0 is on a file's list


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[ReviewEnv]:
    with review_env(database, tmp_path, corpus_images) as made:
        sha256 = made.fingerprint(SHARED).sha256
        assert sha256 is not None
        feed_list(database, "hub", "shared", [("sha256", sha256, "hub-entry-2")])
        yield made


def confirmed(env: ReviewEnv) -> tuple[str, dict[int, int]]:
    """A confirmed case of two files by one account; the item id of each image."""
    items = {}
    for image in (SHARED, 0):
        case_id, items[image] = env.case_of(env.upload(image, "acct-9", f"c-{image}").record_id)
    settings = ReviewSettings()
    with env.database.transaction(write=True) as session:
        for item_id in items.values():
            decide(
                session, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=settings
            )
        set_incident_type(session, case_id, INCIDENT_TYPES[0], actor=env.alice.actor)
    return case_id, items


def hash_details(xml: bytes) -> list[dict[str, str]]:
    return [
        {pair.findtext("name"): pair.findtext("value") for pair in details.findall("nameValuePair")}
        for details in safe_parse(xml).findall("details")
        if details.get("type") == "HASH" and details.find("nameValuePair/name").text != "PDQ"
    ]


def test_each_file_names_the_exchange_entry_or_the_file_it_matched(env: ReviewEnv) -> None:
    case_id, items = confirmed(env)
    with env.database.transaction() as session:
        document = build_case_report(session, case_id, reporter=REPORTER)
    assert validate(document.report_xml, root="report") == []
    files = {each.item_id: each.details_xml(4564654, f"f{each.item_id}") for each in document.files}
    for xml in files.values():
        assert validate(xml, root="fileDetails") == []

    assert hash_details(files[items[SHARED]]) == [
        {
            "Hash list": "shared",
            "Hash list entry": "hub-entry-2",
            "Matched by": "sha256",
            "Hash exchange": "hub",
            "Hash exchange type": "ncmec",
            "Hash exchange member": "member-7",
            "Entry classification": "A1",
            "Entry tags": "csam, verified",
        }
    ]
    assert hash_details(files[items[0]]) == [
        {
            "Hash list": "ncmec",
            "Hash list entry": "case-1",
            "Matched by": "sha256",
            "Entry classification": "A1",
            "Entry source": "ncmec.csv",
        }
    ]
