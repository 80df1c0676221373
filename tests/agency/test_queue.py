"""The agency's queue and a referral's page: priority order with reasons, and nothing from
other agencies beyond a count of linked reports."""

from __future__ import annotations

import pytest

from tests.agency.agency_rows import (
    add_agency,
    add_referral,
    add_report,
    add_triage,
    document,
    link_entity,
    two_agencies,
)
from vigil.agency.queue import agency_queue, referral_page
from vigil.agency.scope import referral_for_agency
from vigil.store import Database
from vigil.store.models import FileVerdict, ReferralState

pytestmark = pytest.mark.usefixtures("cheap_argon2")


def test_the_queue_is_in_priority_then_score_order(database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)  # A already holds (2, 40.0) and (1, 90.0)
        expected = [(2, -40.0, world.referrals_a[0].id), (1, -90.0, world.referrals_a[1].id)]
        # (computed priority, score, override): an override wins over the computed priority
        for priority, score, override in (
            (3, 10.0, None),
            (2, 80.0, None),
            (2, 95.0, None),
            (4, 99.0, 1),
            (1, 5.0, None),
        ):
            report = add_report(session, world.company)
            add_triage(session, report, priority, score, override=override)
            expected.append(
                (override or priority, -score, add_referral(session, report, world.agency_a).id)
            )
        unscored = add_referral(session, add_report(session, world.company), world.agency_a)
        declined = add_referral(
            session,
            add_report(session, world.company),
            world.agency_a,
            state=ReferralState.DECLINED,
        )
        agency_id, other_id = world.agency_a.id, world.referrals_b[0].id
    with database.transaction() as session:
        queue = agency_queue(session, agency_id)
    ids = [entry.referral_id for entry in queue]
    assert ids == [referral_id for *_, referral_id in sorted(expected)] + [unscored.id]
    assert declined.id not in ids and other_id not in ids
    assert queue[-1].priority is None and queue[-1].reasons == []
    overridden = next(entry for entry in queue if entry.overridden)
    assert overridden.priority == 1 and overridden.score == 99.0
    assert queue[0].referral_id == overridden.referral_id  # priority 1, the highest score
    for entry in queue[:-1]:
        assert f"report {entry.report_id}" in entry.reasons[0]["detail"]
        assert entry.incident_type == "Child Sex Trafficking" and entry.company == "Platform"


def test_the_page_shows_linked_reports_held_here_and_only_counts_the_rest(
    database: Database,
) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        main = add_report(
            session,
            world.company,
            parsed=document("Online Enticement of Children", ("sextortion",)),
            files=2,
            sha_seed="shared-file",
            classification="A1",
        )
        here = add_report(session, world.company)
        at_b = add_report(session, world.other_company)
        unrouted = add_report(session, world.other_company, files=1, sha_seed="shared-file")
        known_copy = add_report(session, world.company, verdict=FileVerdict.KNOWN)
        link_entity(session, "email", "suspect@example.org", main, here, at_b)
        add_triage(session, main, 1, 77.0)
        referral = add_referral(session, main, world.agency_a)
        here_referral = add_referral(session, here, world.agency_a)
        add_referral(session, at_b, world.agency_b)
        agency_id, referral_id = world.agency_a.id, referral.id
        hidden = {at_b.id, unrouted.id, known_copy.id}
    with database.transaction() as session:
        agency = session.get(type(world.agency_a), agency_id)
        page = referral_page(session, agency, referral_for_agency(session, agency_id, referral_id))
    assert [item.report_id for item in page.linked_here] == [here.id]
    assert page.linked_here[0].referral_id == here_referral.id
    assert page.linked_elsewhere == 2  # at agency B, and the unrouted one sharing a file
    assert not hidden & {item.report_id for item in page.linked_here}
    assert page.summary.incident_type == "Online Enticement of Children"
    assert page.summary.annotations == ["sextortion"]
    assert page.summary.company == "Platform"
    assert [(e.kind, e.value) for e in page.entities] == [("email", "suspect@example.org")]
    assert len(page.files) == 2 and all(f.classification == "A1" for f in page.files)
    assert all(len(f.sha256) == 64 and len(f.md5) == 32 for f in page.files)
    assert page.triage is not None and page.triage.priority == 1
    assert page.triage.reasons[0]["name"] == "escalation"


def test_a_page_of_another_agency_is_empty_of_its_links(database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        other = add_agency(session, "C")
        alone = add_report(session, world.company)
        referral = add_referral(session, alone, other)
        agency_id, referral_id = other.id, referral.id
    with database.transaction() as session:
        agency = session.get(type(world.agency_a), agency_id)
        page = referral_page(session, agency, referral_for_agency(session, agency_id, referral_id))
    assert page.linked_here == [] and page.linked_elsewhere == 0 and page.triage is None
