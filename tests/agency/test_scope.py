"""Who reaches what: only members of an enabled agency, only referrals routed to (or accepted
by) their agency, and everything else is "not found"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.agency.agency_rows import (
    add_agency,
    add_member,
    add_referral,
    add_report,
    two_agencies,
)
from vigil.agency.scope import NoAgency, OutOfScope, agency_of, referral_for_agency
from vigil.store import Database
from vigil.store.accounts import Principal, permissions_for_roles
from vigil.store.models import ReferralState, Role, User, utcnow

pytestmark = pytest.mark.usefixtures("cheap_argon2")


def _user_id(database: Database, username: str) -> int:
    with database.transaction() as session:
        return session.scalar(select(User.id).where(User.username == username))


def test_a_member_reaches_their_agency(database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
    with database.transaction() as session:
        assert agency_of(session, _user_id(database, "agent-a")).id == world.agency_a.id
        principal = Principal(
            "user", _user_id(database, "agent-b"), "agent-b", permissions_for_roles([Role.AGENCY])
        )
        assert agency_of(session, principal).id == world.agency_b.id


def test_without_membership_or_role_nothing_is_reached(database: Database) -> None:
    with database.transaction(write=True) as session:
        agency = add_agency(session, "A")
        add_member(session, "no-membership", None)
        add_member(session, "not-an-agent", agency, roles=(Role.REVIEWER,))
    with database.transaction() as session:
        for name in ("no-membership", "not-an-agent"):
            with pytest.raises(NoAgency):
                agency_of(session, _user_id(database, name))
        with pytest.raises(NoAgency):
            agency_of(session, 999_999)
        key = Principal("api_key", 1, "abcd", permissions_for_roles([Role.AGENCY]))
        with pytest.raises(NoAgency):
            agency_of(session, key)


def test_a_disabled_agency_or_person_reaches_nothing(database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        world.agency_a.disabled_at = utcnow()
        session.scalar(select(User).where(User.username == "agent-b")).disabled_at = utcnow()
    with database.transaction() as session:
        for name in ("agent-a", "agent-b"):
            with pytest.raises(NoAgency):
                agency_of(session, _user_id(database, name))


def test_only_routed_or_accepted_referrals_to_the_agency(database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        routed, accepted = world.referrals_a
        accepted.state = ReferralState.ACCEPTED
        declined = add_referral(
            session,
            add_report(session, world.company),
            world.agency_a,
            state=ReferralState.DECLINED,
        )
        unrouted = add_referral(
            session, add_report(session, world.company), None, state=ReferralState.UNROUTED
        )
        ids = {
            "routed": routed.id,
            "accepted": accepted.id,
            "declined": declined.id,
            "unrouted": unrouted.id,
            "other": world.referrals_b[0].id,
        }
        agency_a, agency_b = world.agency_a.id, world.agency_b.id
    with database.transaction() as session:
        assert referral_for_agency(session, agency_a, ids["routed"]).id == ids["routed"]
        assert referral_for_agency(session, agency_a, ids["accepted"]).id == ids["accepted"]
        for name in ("declined", "unrouted", "other"):
            with pytest.raises(OutOfScope):
                referral_for_agency(session, agency_a, ids[name])
        with pytest.raises(OutOfScope):
            referral_for_agency(session, agency_b, ids["routed"])
        with pytest.raises(OutOfScope):
            referral_for_agency(session, agency_a, 10**12)  # never existed: the same answer
