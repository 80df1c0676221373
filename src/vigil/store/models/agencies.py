"""The agency side: law-enforcement agencies and their members, routing rules, where each
report was located and sent, what the agency did with it, and requests to the reporter."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, BigId, enum_column_type, utcnow


class AgencyKind(StrEnum):
    TASK_FORCE = "task_force"  # e.g. a state or regional task force
    NATIONAL = "national"  # a national police unit
    INTERNATIONAL = "international"  # a liaison for reports that trace abroad


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # short, stable, e.g. "ICAC-CA"
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AgencyKind] = mapped_column(enum_column_type(AgencyKind, "agency_kind"))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    region: Mapped[str | None] = mapped_column(String(8))  # ISO 3166-2 subdivision code
    # Whether referral packages to this agency may carry the files themselves.
    media_allowed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class AgencyMember(Base):
    """Which agency a user with the agency role works for: one agency per user."""

    __tablename__ = "agency_members"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )


class RoutingRule(Base):
    """First enabled rule (lowest position) whose every set condition holds wins. Null
    conditions match anything; ``conditions`` holds further facts (e.g. {"abroad": true})."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(8))
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(default=True)


class ReportLocation(Base):
    """Where a report's IP addresses place it, as the operator's geolocation database said."""

    __tablename__ = "report_locations"

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("intake_reports.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    region: Mapped[str | None] = mapped_column(String(8))
    city: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(45))  # the address the location came from
    database: Mapped[str | None] = mapped_column(String(200))  # database type and build date
    located_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferralState(StrEnum):
    UNROUTED = "unrouted"  # no rule applied: waiting in the routing queue for a person
    ROUTED = "routed"  # sent to the agency, not yet acted on
    ACCEPTED = "accepted"
    DECLINED = "declined"  # sent back with a reason: the report is routed again


# A report has at most one live referral; one in AGENCY_HELD_STATES is an agency's to see.
LIVE_REFERRAL_STATES = (ReferralState.UNROUTED, ReferralState.ROUTED, ReferralState.ACCEPTED)
AGENCY_HELD_STATES = (ReferralState.ROUTED, ReferralState.ACCEPTED)


class Referral(Base):
    """One delivery of a report to an agency (or its wait for a person to route it). A
    report has at most one live referral; declined ones stay as history."""

    __tablename__ = "referrals"
    __table_args__ = (Index(None, "agency_id", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("intake_reports.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"))
    state: Mapped[ReferralState] = mapped_column(enum_column_type(ReferralState, "referral_state"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id", ondelete="SET NULL"))
    routed_by: Mapped[str] = mapped_column(String(200))  # "routing" or the person
    why: Mapped[str] = mapped_column(Text, default="")  # the rule or the person's reason
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    routed_at: Mapped[datetime | None]
    acted_at: Mapped[datetime | None]  # accepted or declined
    acted_by: Mapped[str | None] = mapped_column(String(200))
    decline_reason: Mapped[str | None] = mapped_column(Text)


class OutcomeKind(StrEnum):
    INVESTIGATION_OPENED = "investigation_opened"
    SEARCH_WARRANT = "search_warrant"
    ARREST = "arrest"
    CHILD_IDENTIFIED = "child_identified"
    NO_ACTION = "no_action"


class ReferralOutcome(Base):
    __tablename__ = "referral_outcomes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[OutcomeKind] = mapped_column(
        enum_column_type(OutcomeKind, "outcome_kind", length=32)
    )
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class InfoRequestState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"


class InfoRequest(Base):
    """An agency asking the reporting company for more about a report, with a due date; the
    company answers through the intake's own authentication."""

    __tablename__ = "info_requests"
    __table_args__ = (Index(None, "company_id", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("intake_reports.id", ondelete="CASCADE")
    )
    company_id: Mapped[int] = mapped_column(ForeignKey("intake_companies.id", ondelete="RESTRICT"))
    question: Mapped[str] = mapped_column(Text)
    state: Mapped[InfoRequestState] = mapped_column(
        enum_column_type(InfoRequestState, "info_request_state"), default=InfoRequestState.OPEN
    )
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
