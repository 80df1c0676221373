"""The one place that decides what an agency user may reach: their own agency (through
AgencyMember, only while it is enabled) and the referrals routed to it that are still live
there (routed or accepted). Anything else is "not found", never "forbidden": an agency must
not learn that another agency's report exists."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from vigil.store.accounts import Principal
from vigil.store.models import Role, User
from vigil.store.models.agencies import (
    AGENCY_HELD_STATES,
    Agency,
    AgencyMember,
    Referral,
)

# A declined referral leaves the agency's view the moment it is declined.


class OutOfScope(LookupError):
    """Not found for this caller (whether or not it exists elsewhere)."""


class NoAgency(OutOfScope):
    """The caller is not a member of an enabled agency: they reach nothing."""


def agency_of(session: Session, who: Principal | int) -> Agency:
    """The enabled agency a person with the agency role works for; NoAgency otherwise (API
    keys, people without a membership, a disabled agency or person, a withdrawn role)."""
    user_id = who if isinstance(who, int) else (who.id if who.kind == "user" else None)
    if user_id is None:
        raise NoAgency("only a member of an agency has an agency queue")
    user = session.get(User, user_id)
    member = session.get(AgencyMember, user_id)
    if (
        user is None
        or user.disabled_at is not None
        or Role.AGENCY not in user.role_set
        or member is None
    ):
        raise NoAgency("you are not a member of an agency")
    agency = session.get(Agency, member.agency_id)
    if agency is None or agency.disabled_at is not None:
        raise NoAgency("you are not a member of an active agency")
    return agency


def visible_referrals(agency_id: int) -> Select[Referral]:
    """The agency's live referrals: the filter every agency query starts from."""
    return select(Referral).where(
        Referral.agency_id == agency_id, Referral.state.in_(AGENCY_HELD_STATES)
    )


def referral_for_agency(
    session: Session, agency_id: int, referral_id: int, *, lock: bool = False
) -> Referral:
    """The referral if it is routed to (or accepted by) this agency; OutOfScope otherwise.
    ``lock``: held until the transaction ends, so two members cannot act at once."""
    query = visible_referrals(agency_id).where(Referral.id == referral_id)
    if lock:
        query = query.with_for_update()
    referral = session.scalar(query)
    if referral is None:
        raise OutOfScope("no such referral")
    return referral
