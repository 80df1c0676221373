"""`vigil agency`: the law-enforcement agencies reports are routed to, their members, the
routing rules, and routing a report by hand. Every change is audited with the shell's user
as the actor (AGENCY_CHANGED, or ROUTING for a report sent by hand)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import typer

from vigil.cli.database_access import (
    command_errors,
    default_actor,
    error_console,
    fail,
    store_session,
)
from vigil.core.settings import load_settings
from vigil.store.models import AgencyKind
from vigil.triage.agencies import (
    add_agency,
    add_member,
    add_rule,
    agency_by_code,
    disable_agency,
    list_agencies,
    list_rules,
    remove_rule,
)
from vigil.triage.geolocation import GeolocationError, Geolocator
from vigil.triage.routing import RoutingError, condition_from_text, reroute_unrouted, route_by_hand

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Agencies: who reports are routed to, their members and routing rules.",
)
KINDS = ", ".join(kind.value for kind in AgencyKind)


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """A refused change ends the command with its plain reason and exit code 2."""
    try:
        yield
    except RoutingError as exc:
        fail(error_console(), str(exc))


@app.command("add")
def add_command(
    code: str = typer.Argument(..., help="Short, stable code, e.g. ICAC-CA."),
    name: str = typer.Option(..., "--name", help="The agency's name."),
    kind: str = typer.Option(..., "--kind", help=f"One of: {KINDS}."),
    country: str | None = typer.Option(None, "--country", help="ISO 3166-1 code, e.g. US."),
    region: str | None = typer.Option(None, "--region", help="ISO 3166-2, e.g. US-CA or CA."),
    media_allowed: bool = typer.Option(
        False, "--media-allowed", help="Referral packages to it may carry the files."
    ),
) -> None:
    """Add an agency."""
    with store_session(error_console(), write=True) as session, _refusals():
        agency = add_agency(
            session,
            code=code,
            name=name,
            kind=kind,
            country=country,
            region=region,
            media_allowed=media_allowed,
            actor=default_actor(),
        )
        line = f"added agency {agency.code} ({agency.name})"
    typer.echo(line)


@app.command("list")
def list_command() -> None:
    """The agencies: code, kind, country, region, media, state, name."""
    with store_session(error_console()) as session:
        lines = [
            _columns(
                a.code,
                a.kind.value,
                a.country,
                a.region,
                "media" if a.media_allowed else "no-media",
                "disabled" if a.disabled_at else "enabled",
                a.name,
            )
            for a in list_agencies(session)
        ]
    typer.echo("\n".join(lines) if lines else "no agencies")


@app.command("disable")
def disable_command(code: str = typer.Argument(..., help="The agency's code.")) -> None:
    """Route no new report to the agency (what it holds stays with it)."""
    with store_session(error_console(), write=True) as session, _refusals():
        agency = disable_agency(session, code, default_actor())
        line = f"disabled agency {agency.code}"
    typer.echo(line)


@app.command("add-member")
def add_member_command(
    username: str = typer.Argument(..., help="A user holding the agency role."),
    code: str = typer.Argument(..., help="The agency's code."),
) -> None:
    """Make a user (role agency) a member of an agency; a user works for one agency."""
    with store_session(error_console(), write=True) as session, _refusals():
        add_member(session, username, code, default_actor())
    typer.echo(f"{username} now works for {code.strip().upper()}")


@app.command("add-rule")
def add_rule_command(
    agency: str = typer.Option(..., "--agency", help="The agency's code."),
    description: str = typer.Option(..., "--description", help="What the rule is for."),
    country: str | None = typer.Option(None, "--country", help="Match this country only."),
    region: str | None = typer.Option(None, "--region", help="Match this region only."),
    condition: list[str] | None = typer.Option(
        None,
        "--condition",
        help="key=value, repeatable: countries_other_than=US, "
        "countries=US,CA, regions=US-CA, max_priority=1, companies=Name, located=true.",
    ),
    position: int | None = typer.Option(
        None, "--position", help="Lower goes first (default: after the last rule)."
    ),
) -> None:
    """Add a routing rule: the first enabled rule whose conditions all hold wins."""
    with store_session(error_console(), write=True) as session, _refusals():
        conditions: dict[str, Any] = dict(condition_from_text(text) for text in condition or [])
        rule = add_rule(
            session,
            agency_code=agency,
            country=country,
            region=region,
            conditions=conditions,
            position=position,
            description=description,
            actor=default_actor(),
        )
        line = f"added rule {rule.id} at position {rule.position} for {agency.strip().upper()}"
    typer.echo(line)


@app.command("list-rules")
def list_rules_command() -> None:
    """The rules in the order they are tried: id, position, agency, country, region,
    conditions, enabled, description."""
    with store_session(error_console()) as session:
        lines = [
            _columns(
                rule.id,
                rule.position,
                agency.code,
                rule.country,
                rule.region,
                _conditions(rule.conditions),
                "enabled" if rule.enabled and not agency.disabled_at else "disabled",
                rule.description,
            )
            for rule, agency in list_rules(session)
        ]
    typer.echo("\n".join(lines) if lines else "no routing rules")


@app.command("remove-rule")
def remove_rule_command(rule_id: int = typer.Argument(..., help="The rule's id.")) -> None:
    """Remove a routing rule (referrals it made keep their explanation)."""
    with store_session(error_console(), write=True) as session, _refusals():
        remove_rule(session, rule_id, default_actor())
    typer.echo(f"removed rule {rule_id}")


@app.command("route")
def route_command(
    report_id: int = typer.Argument(..., help="The clearinghouse report id."),
    agency: str = typer.Option(..., "--agency", help="The agency's code."),
    reason: str = typer.Option(..., "--reason", help="Why, for the audit trail and agency."),
) -> None:
    """Route a report by hand (from the routing queue, or away from an agency that has not
    accepted it yet)."""
    with store_session(error_console(), write=True) as session, _refusals():
        target = agency_by_code(session, agency)
        route_by_hand(session, report_id, target.id, reason, default_actor())
        line = f"routed report {report_id} to {target.code}"
    typer.echo(line)


@app.command("reroute")
def reroute_command() -> None:
    """Try the routing queue again after rules (or the geolocation database) changed."""
    console = error_console()
    with command_errors(console):
        settings = load_settings()
    geolocator = _geolocator(settings.triage.geoip_database)
    try:
        with store_session(console, write=True, settings=settings) as session:
            routed = reroute_unrouted(session, geolocator)
    finally:
        if geolocator is not None:
            geolocator.close()
    typer.echo(f"routed {len(routed)} waiting report{'' if len(routed) == 1 else 's'}")


def _geolocator(path: Any) -> Geolocator | None:
    if path is None:
        return None
    try:
        return Geolocator.open(path)
    except GeolocationError as exc:
        fail(error_console(), str(exc))


def _conditions(conditions: dict[str, Any] | None) -> str:
    parts = [
        f"{key}={','.join(map(str, value)) if isinstance(value, list) else value}"
        for key, value in sorted((conditions or {}).items())
    ]
    return " ".join(parts) or "-"


def _columns(*values: object) -> str:
    return "\t".join("-" if value is None else str(value) for value in values)
