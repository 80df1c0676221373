"""Routing finished referral reports on both backends, with a geolocation database the tests
write: rules by country and region, the international liaison, the routing queue, a decline
that sends the report elsewhere, re-routing after rules change, and routing by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.triage.geo_database import (
    ALBANY,
    BERLIN_V6,
    PRIVATE_LISTED,
    SACRAMENTO,
    SAO_PAULO,
    UNLISTED,
    write_city_database,
)
from tests.triage.routing_rows import (
    add_report,
    agency_row,
    capture,
    company_row,
    document,
    finished_report,
    rule_row,
)
from vigil.store import Database
from vigil.store.models import (
    Agency,
    AuditRecord,
    Disposition,
    IntakeState,
    Referral,
    ReferralState,
    ReportLocation,
    RoutingRule,
)
from vigil.store.models.audit import AuditAction
from vigil.store.models.base import utcnow
from vigil.triage.geolocation import Geolocator
from vigil.triage.routing import (
    ROUTER,
    RoutingError,
    locate_report,
    report_addresses,
    reroute_unrouted,
    route_by_hand,
    route_pending,
    routing_queue,
)


@pytest.fixture(scope="module")
def geo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_city_database(tmp_path_factory.mktemp("geo") / "city.mmdb")


@pytest.fixture
def geo(geo_path: Path) -> Iterator[Geolocator]:
    with Geolocator.open(geo_path) as geolocator:
        yield geolocator


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.transaction(write=True) as db_session:
        yield db_session


def _referrals(session: Session, report_id: int) -> list[Referral]:
    return list(
        session.scalars(
            select(Referral).where(Referral.report_id == report_id).order_by(Referral.id)
        )
    )


def _routing_audits(session: Session) -> list[AuditRecord]:
    return list(
        session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == AuditAction.ROUTING)
            .order_by(AuditRecord.seq)
        )
    )


def _standard_rules(session: Session) -> dict[str, int]:
    california = agency_row(session, "ICAC-CA", country="US")
    national = agency_row(session, "US-NATIONAL", country="US")
    liaison = agency_row(session, "INTL-LIAISON")
    rule_row(
        session, california, 10, country="US", region="US-CA", description="California task force"
    )
    rule_row(session, national, 20, country="US", description="the rest of the US")
    rule_row(
        session,
        liaison,
        30,
        conditions={"countries_other_than": ["US"]},
        description="reports abroad",
    )
    return {"ca": california.id, "us": national.id, "intl": liaison.id}


def test_reports_go_to_the_agency_of_the_first_matching_rule(
    session: Session, geo: Geolocator
) -> None:
    agencies = _standard_rules(session)
    company = company_row(session, "Example")
    sacramento = finished_report(session, company, document(reported=(capture(SACRAMENTO),)))
    albany = finished_report(session, company, document(reported=(capture(ALBANY),)))
    brazil = finished_report(session, company, document(reported=(capture(SAO_PAULO),)))
    berlin = finished_report(session, company, document(reported=(capture(BERLIN_V6),)))

    routed = route_pending(session, geo)

    assert sorted(routed) == sorted([sacramento.id, albany.id, brazil.id, berlin.id])
    expected = {sacramento.id: "ca", albany.id: "us", brazil.id: "intl", berlin.id: "intl"}
    for report_id, agency in expected.items():
        [referral] = _referrals(session, report_id)
        assert referral.state == ReferralState.ROUTED
        assert referral.agency_id == agencies[agency]
        assert referral.routed_by == ROUTER and referral.routed_at is not None
    [ca] = _referrals(session, sacramento.id)
    assert "California task force" in ca.why and "ICAC-CA" in ca.why
    assert "US-CA, Sacramento" in ca.why and "GeoIP2-City" in ca.why
    location = session.get(ReportLocation, sacramento.id)
    assert (location.country, location.region, location.city, location.ip) == (
        "US",
        "US-CA",
        "Sacramento",
        SACRAMENTO,
    )
    assert location.database.startswith("GeoIP2-City ")
    audits = _routing_audits(session)
    assert len(audits) == 4 and {a.actor for a in audits} == {ROUTER}
    assert {a.details["report_id"] for a in audits} == set(expected)
    assert route_pending(session, geo) == []  # each report has its live referral now


def test_unresolvable_reports_wait_in_the_routing_queue_with_the_reason(
    session: Session, geo: Geolocator
) -> None:
    california = agency_row(session, "ICAC-CA", country="US")
    rule_row(session, california, 10, country="US", region="US-CA")
    company = company_row(session, "Example")
    no_ip = finished_report(session, company, document())
    brazil = finished_report(session, company, document(reported=(capture(SAO_PAULO),)))
    unlisted = finished_report(session, company, document(reported=(capture(UNLISTED),)))
    private = finished_report(session, company, document(reported=(capture(PRIVATE_LISTED),)))

    route_pending(session, geo)

    why = {r.report_id: r.why for r in session.scalars(select(Referral))}
    assert all(
        r.state == ReferralState.UNROUTED and r.agency_id is None
        for r in session.scalars(select(Referral))
    )
    assert why[no_ip.id] == "no IP address of the reported person"
    assert why[brazil.id] == "no rule for region BR-SP"
    assert "places none" in why[unlisted.id] and "places none" in why[private.id]
    assert session.get(ReportLocation, private.id) is None
    queue = routing_queue(session)
    assert [waiting.referral.report_id for waiting in queue] == [
        no_ip.id,
        brazil.id,
        unlisted.id,
        private.id,
    ]  # oldest first: all at the same level
    located = {w.referral.report_id: w.location.country if w.location else None for w in queue}
    assert located[brazil.id] == "BR"


def test_without_a_database_reports_wait_and_say_so(session: Session) -> None:
    rule_row(session, agency_row(session, "ICAC-CA"), 10, country="US")
    report = finished_report(
        session, company_row(session, "Example"), document(reported=(capture(SACRAMENTO),))
    )
    assert route_pending(session, None) == [report.id]
    [referral] = _referrals(session, report.id)
    assert referral.state == ReferralState.UNROUTED
    assert referral.why == "no geolocation database is configured"


def test_informational_unfinished_and_untriaged_reports_are_never_routed(
    session: Session, geo: Geolocator
) -> None:
    rule_row(session, agency_row(session, "CATCH-ALL"), 10)
    company = company_row(session, "Example")
    informational = finished_report(
        session, company, document(), disposition=Disposition.INFORMATIONAL
    )
    retracted = finished_report(session, company, document())
    retracted.state = IntakeState.RETRACTED
    untriaged = add_report(session, company, document())
    session.flush()
    assert route_pending(session, geo) == []
    for report in (informational, retracted, untriaged):
        assert _referrals(session, report.id) == []
    with pytest.raises(RoutingError, match="informational"):
        route_by_hand(session, informational.id, 1, "looks urgent", "user:analyst")
    with pytest.raises(RoutingError, match="not been triaged"):
        route_by_hand(session, untriaged.id, 1, "looks urgent", "user:analyst")


def test_most_urgent_reports_are_routed_first_within_the_limit(
    session: Session, geo: Geolocator
) -> None:
    rule_row(session, agency_row(session, "CATCH-ALL"), 10)
    company = company_row(session, "Example")
    low = finished_report(session, company, document(), priority=3)
    urgent = finished_report(session, company, document(), priority=1)
    assert route_pending(session, geo, limit=1) == [urgent.id]
    assert route_pending(session, geo, limit=1) == [low.id]


def test_the_reported_persons_latest_address_places_the_report_never_the_victims(
    session: Session, geo: Geolocator
) -> None:
    company = company_row(session, "Example")
    report = finished_report(
        session,
        company,
        document(
            reported=(
                capture(ALBANY, "2024-01-01T00:00:00Z"),
                capture(SACRAMENTO, "2024-03-01T00:00:00Z"),
                capture(PRIVATE_LISTED, "2024-06-01T00:00:00Z"),
            ),
            victim=(capture(SAO_PAULO, "2024-12-01T00:00:00Z"),),
        ),
    )
    assert report_addresses(session, report.id) == [PRIVATE_LISTED, SACRAMENTO, ALBANY]
    location = locate_report(session, report.id, geo)  # the private one places nothing
    assert (location.region, location.ip) == ("US-CA", SACRAMENTO)
    assert session.get(ReportLocation, report.id) is location
    victim_only = finished_report(session, company, document(victim=(capture(SAO_PAULO),)))
    assert report_addresses(session, victim_only.id) == []
    assert locate_report(session, victim_only.id, geo) is None
    assert session.get(ReportLocation, victim_only.id) is None


def test_locating_again_updates_the_stored_location(
    session: Session, geo: Geolocator, tmp_path: Path
) -> None:
    report = finished_report(
        session, company_row(session, "Example"), document(reported=(capture(SACRAMENTO),))
    )
    assert locate_report(session, report.id, geo).region == "US-CA"
    moved = write_city_database(
        tmp_path / "moved.mmdb",
        {"81.2.69.0/24": {"country": {"iso_code": "US"}, "subdivisions": [{"iso_code": "NV"}]}},
    )
    with Geolocator.open(moved) as newer:
        assert locate_report(session, report.id, newer).region == "US-NV"
    assert locate_report(session, report.id, None).region == "US-NV"  # kept without a database
    assert len(list(session.scalars(select(ReportLocation)))) == 1


def test_a_declined_report_is_routed_again_but_never_to_the_agency_that_declined(
    session: Session, geo: Geolocator
) -> None:
    agencies = _standard_rules(session)
    report = finished_report(
        session, company_row(session, "Example"), document(reported=(capture(SACRAMENTO),))
    )
    route_pending(session, geo)
    [first] = _referrals(session, report.id)
    assert first.agency_id == agencies["ca"]
    first.state, first.acted_at, first.acted_by = ReferralState.DECLINED, utcnow(), "user:ca"
    first.decline_reason = "outside our jurisdiction"
    session.flush()

    assert route_pending(session, geo) == [report.id]
    second = _referrals(session, report.id)[1]
    assert second.state == ReferralState.ROUTED and second.agency_id == agencies["us"]

    second.state = ReferralState.DECLINED  # the national unit declines too
    session.flush()
    route_pending(session, geo)
    third = _referrals(session, report.id)[2]
    assert third.state == ReferralState.UNROUTED  # the liaison is for reports abroad
    assert third.why == "no rule for region US-CA other than ICAC-CA, which declined the report"


def test_disabled_agencies_and_rules_are_skipped(session: Session, geo: Geolocator) -> None:
    agencies = _standard_rules(session)
    session.get(Agency, agencies["ca"]).disabled_at = utcnow()
    for rule in session.scalars(select(RoutingRule).where(RoutingRule.agency_id == agencies["us"])):
        rule.enabled = False
    catch_all = agency_row(session, "FALLBACK")
    rule_row(session, catch_all, 99, description="anything left")
    report = finished_report(
        session, company_row(session, "Example"), document(reported=(capture(SACRAMENTO),))
    )
    route_pending(session, geo)
    assert _referrals(session, report.id)[0].agency_id == catch_all.id


def test_reroute_after_a_rule_is_added(session: Session, geo: Geolocator) -> None:
    company = company_row(session, "Example")
    brazil = finished_report(session, company, document(reported=(capture(SAO_PAULO),)))
    nothing = finished_report(session, company, document())
    route_pending(session, geo)
    assert reroute_unrouted(session, geo) == []
    liaison = agency_row(session, "INTL-LIAISON")
    rule_row(session, liaison, 10, conditions={"countries_other_than": ["US"]})

    assert reroute_unrouted(session, geo) == [brazil.id]

    [referral] = _referrals(session, brazil.id)
    assert referral.state == ReferralState.ROUTED and referral.agency_id == liaison.id
    assert _referrals(session, nothing.id)[0].state == ReferralState.UNROUTED
    assert [waiting.referral.report_id for waiting in routing_queue(session)] == [nothing.id]
    assert _routing_audits(session)[-1].details["rerouted"] is True


def test_route_by_hand_from_the_queue_is_audited_with_the_reason(
    session: Session, geo: Geolocator
) -> None:
    report = finished_report(session, company_row(session, "Example"), document())
    route_pending(session, geo)
    agency = agency_row(session, "ICAC-CA")
    for blank in ("", "   "):
        with pytest.raises(RoutingError, match="reason is required"):
            route_by_hand(session, report.id, agency.id, blank, "user:analyst")
    with pytest.raises(RoutingError, match="longer than"):
        route_by_hand(session, report.id, agency.id, "x" * 2001, "user:analyst")
    with pytest.raises(RoutingError, match="no agency"):
        route_by_hand(session, report.id, 999_999, "reason", "user:analyst")

    referral = route_by_hand(
        session, report.id, agency.id, "phone number is Californian", "user:analyst"
    )

    [only] = _referrals(session, report.id)  # the waiting referral itself, now routed
    assert only.id == referral.id and only.state == ReferralState.ROUTED
    assert (only.agency_id, only.routed_by, only.why) == (
        agency.id,
        "user:analyst",
        "phone number is Californian",
    )
    assert routing_queue(session) == []
    audit = _routing_audits(session)[-1]
    assert audit.actor == "user:analyst" and audit.details["by_hand"] is True
    assert audit.details["why"] == "phone number is Californian"
    with pytest.raises(RoutingError, match="already routed to ICAC-CA"):
        route_by_hand(session, report.id, agency.id, "again", "user:analyst")


def test_route_by_hand_replaces_a_routed_referral_but_not_an_accepted_one(
    session: Session, geo: Geolocator
) -> None:
    agencies = _standard_rules(session)
    report = finished_report(
        session, company_row(session, "Example"), document(reported=(capture(SACRAMENTO),))
    )
    route_pending(session, geo)
    route_by_hand(session, report.id, agencies["us"], "multi-state case", "user:analyst")
    old, new = _referrals(session, report.id)
    assert old.state == ReferralState.DECLINED and old.agency_id == agencies["ca"]
    assert old.acted_by == "user:analyst" and "multi-state case" in old.decline_reason
    assert new.state == ReferralState.ROUTED and new.agency_id == agencies["us"]
    assert _routing_audits(session)[-1].details["replaced_agency_id"] == agencies["ca"]
    assert route_pending(session, geo) == []  # one live referral

    new.state = ReferralState.ACCEPTED
    session.flush()
    with pytest.raises(RoutingError, match="already accepted"):
        route_by_hand(session, report.id, agencies["intl"], "change of plan", "user:analyst")


def test_route_by_hand_refuses_disabled_agencies_and_unknown_reports(session: Session) -> None:
    report = finished_report(session, company_row(session, "Example"), document())
    agency = agency_row(session, "OLD-UNIT")
    agency.disabled_at = utcnow() - timedelta(days=1)
    session.flush()
    with pytest.raises(RoutingError, match="disabled"):
        route_by_hand(session, report.id, agency.id, "reason", "user:analyst")
    live = agency_row(session, "LIVE-UNIT")
    with pytest.raises(RoutingError, match="no finished report"):
        route_by_hand(session, 2**62, live.id, "reason", "user:analyst")
