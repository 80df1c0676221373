"""The configured exchanges: create, find, switch on and off, replace credentials, remove.

Functions take a session and leave the transaction to the caller; each change appends a
security audit record (vigil.store.exchanges.audit_trail) naming the ``actor``.

Credentials are a mapping of the fields a service needs (vigil.exchanges checks which);
they are stored as one sealed value (vigil.store.sealed_secrets, as webhook and TOTP
secrets are), bound to the exchange's name, so a copy of the database reveals none of them
and a sealed value moved to another exchange does not open. Replacing them leaves the
checkpoint alone: the next fetch resumes where the last one stopped.

Removal deletes the exchange, the lists it feeds and its feedback queue rows, never the
lists or their entries (entries keep their provenance: source, external id, member, tags).
It is refused while feedback reviewers queued is still pending, unless forced: that
feedback would otherwise be dropped without anyone seeing it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.audit_trail import checked_actor, record_exchange_change
from vigil.store.exchanges.errors import (
    DuplicateExchange,
    FeedbackStillPending,
    InvalidExchangeSetting,
    UnknownExchange,
)
from vigil.store.lists.catalogue import get_list
from vigil.store.models import Exchange, ExchangeFeedback, ExchangeList, FeedbackState
from vigil.store.sealed_secrets import open_secret, seal_secret

MAX_NAME_CHARS = 200
MAX_URL_CHARS = 2000
MAX_CREDENTIAL_FIELDS = 16
MAX_CREDENTIAL_CHARS = 4096  # per field
DEFAULT_FETCH_INTERVAL_SECONDS = 3600
FETCH_INTERVAL_RANGE = range(60, 7 * 24 * 3600 + 1)  # a minute to a week


def credentials_purpose(name: str) -> str:
    """What a sealed credential value is bound to (the exchange's name)."""
    return f"exchange-credentials:{name}"


def create_exchange(
    session: Session,
    name: str,
    *,
    kind: str,
    base_url: str,
    credentials: Mapping[str, str],
    list_names: Sequence[str],
    master_key: MasterKey,
    actor: str,
    environment: str | None = None,
    options: Mapping[str, str] | None = None,
    fetch_interval_seconds: int = DEFAULT_FETCH_INTERVAL_SECONDS,
    feedback_enabled: bool = True,
) -> Exchange:
    """A new, enabled exchange feeding ``list_names`` (existing lists, at least one).
    Raises DuplicateExchange, InvalidExchangeSetting or UnknownList."""
    name, actor = checked_name(name), checked_actor(actor)
    if session.scalar(select(Exchange.id).where(Exchange.name == name)) is not None:
        raise DuplicateExchange(f"an exchange named {name!r} already exists")
    lists = _lists(session, list_names)
    exchange = Exchange(
        name=name,
        kind=_checked_text("kind", kind, 32),
        environment=None if environment is None else _checked_text("environment", environment, 64),
        base_url=checked_base_url(base_url),
        options=_checked_options(options or {}),
        sealed_credentials=seal_credentials(master_key, name, credentials),
        checkpoint=None,
        enabled=True,
        feedback_enabled=feedback_enabled,
        fetch_interval_seconds=checked_interval(fetch_interval_seconds),
        entries_fetched=0,
        entries_deleted=0,
        record_errors=0,
        created_by=actor,
        lists=[ExchangeList(list_id=hash_list.id) for hash_list in lists],
    )
    session.add(exchange)
    session.flush()
    record_exchange_change(
        session, name, actor=actor, change="created", new=exchange_settings(exchange)
    )
    return exchange


def get_exchange(session: Session, name: str) -> Exchange:
    """The exchange called ``name``; raises UnknownExchange naming those that exist."""
    exchange = session.scalar(select(Exchange).where(Exchange.name == name.strip()))
    if exchange is None:
        known = session.scalars(select(Exchange.name).order_by(Exchange.name).limit(10)).all()
        hint = f" (exchanges: {', '.join(known)})" if known else " (there are none yet)"
        raise UnknownExchange(f"no exchange named {name.strip()!r}{hint}")
    return exchange


def exchange_by_id(session: Session, exchange_id: int) -> Exchange:
    """The exchange with this id, read afresh; raises UnknownExchange (removed meanwhile)."""
    exchange = session.get(Exchange, exchange_id, populate_existing=True)
    if exchange is None:
        raise UnknownExchange(f"exchange {exchange_id} does not exist (removed?)")
    return exchange


def list_exchanges(session: Session) -> list[Exchange]:
    return list(session.scalars(select(Exchange).order_by(Exchange.name)))


def retro_after_fetch_of(session: Session, names: Sequence[str]) -> list[str]:
    """Those of ``names`` whose administrator wants retroactive matching after a fetch."""
    chosen = select(Exchange.name).where(Exchange.name.in_(names), Exchange.retro_after_fetch)
    return list(session.scalars(chosen.order_by(Exchange.name)))


def exchange_list_names(exchange: Exchange) -> list[str]:
    return [link.hash_list.name for link in exchange.lists]


def set_exchange_enabled(session: Session, name: str, enabled: bool, *, actor: str) -> bool:
    """Switch fetching (and sending feedback) on or off; True (and audited) if that changed
    anything. A disabled exchange keeps its checkpoint and its lists keep their entries."""
    return _switch(session, name, "enabled", enabled, actor)


def set_feedback_enabled(session: Session, name: str, enabled: bool, *, actor: str) -> bool:
    """Whether reviewers' verdicts are queued for this exchange; True if that changed."""
    return _switch(session, name, "feedback_enabled", enabled, actor)


def set_retro_after_fetch(session: Session, name: str, enabled: bool, *, actor: str) -> bool:
    """Whether each scheduled fetch of it that stored a change is followed by a round of
    retroactive matching over the stored backlog fingerprints; True if that changed."""
    return _switch(session, name, "retro_after_fetch", enabled, actor)


def set_fetch_interval(session: Session, name: str, seconds: int, *, actor: str) -> bool:
    actor = checked_actor(actor)
    exchange = get_exchange(session, name)
    seconds = checked_interval(seconds)
    if exchange.fetch_interval_seconds == seconds:
        return False
    old = exchange.fetch_interval_seconds
    exchange.fetch_interval_seconds = seconds
    session.flush()
    record_exchange_change(
        session,
        exchange.name,
        actor=actor,
        change="fetch_interval",
        old={"fetch_interval_seconds": old},
        new={"fetch_interval_seconds": seconds},
    )
    return True


def replace_credentials(
    session: Session,
    name: str,
    credentials: Mapping[str, str],
    *,
    master_key: MasterKey,
    actor: str,
) -> Exchange:
    """New credentials (e.g. a rotated password); the checkpoint and the fetch state stay,
    so the next fetch resumes. The audit record names the fields, never their values."""
    actor = checked_actor(actor)
    exchange = get_exchange(session, name)
    exchange.sealed_credentials = seal_credentials(master_key, exchange.name, credentials)
    session.flush()
    record_exchange_change(
        session,
        exchange.name,
        actor=actor,
        change="credentials_replaced",
        new={"fields": sorted(credentials)},
    )
    return exchange


def exchange_credentials(exchange: Exchange, master_key: MasterKey) -> dict[str, str]:
    """The stored credentials, opened; raises SealedSecretError under another master key.
    Hand them straight to the client: never print, log or audit them."""
    opened = json.loads(
        open_secret(master_key, exchange.sealed_credentials, credentials_purpose(exchange.name))
    )
    return {str(key): str(value) for key, value in opened.items()}


def remove_exchange(session: Session, name: str, *, actor: str, force: bool = False) -> int:
    """Delete the exchange (see the module docstring); returns how many queued feedback
    rows went with it. Raises FeedbackStillPending when some is pending and not ``force``."""
    actor = checked_actor(actor)
    exchange = get_exchange(session, name)
    pending = pending_feedback(session, exchange.id)
    if pending and not force:
        raise FeedbackStillPending(
            f"exchange {exchange.name!r} has {pending} feedback item(s) waiting to be sent; "
            "wait for them, or remove it anyway (force) to drop them"
        )
    queued = session.scalar(select(func.count()).where(ExchangeFeedback.exchange_id == exchange.id))
    settings = exchange_settings(exchange)
    session.execute(delete(ExchangeFeedback).where(ExchangeFeedback.exchange_id == exchange.id))
    session.delete(exchange)
    session.flush()
    record_exchange_change(
        session,
        name.strip(),
        actor=actor,
        change="removed",
        old=settings,
        new={"forced": force, "pending_feedback_dropped": pending if force else 0},
    )
    return int(queued or 0)


def pending_feedback(session: Session, exchange_id: int) -> int:
    count = session.scalar(
        select(func.count()).where(
            ExchangeFeedback.exchange_id == exchange_id,
            ExchangeFeedback.state == FeedbackState.PENDING,
        )
    )
    return int(count or 0)


def exchange_settings(exchange: Exchange) -> dict[str, Any]:
    """What the audit trail says about an exchange: no credentials, no checkpoint."""
    return {
        "kind": exchange.kind,
        "environment": exchange.environment,
        "base_url": exchange.base_url,
        "options": dict(exchange.options),
        "lists": exchange_list_names(exchange),
        "enabled": exchange.enabled,
        "feedback_enabled": exchange.feedback_enabled,
        "retro_after_fetch": exchange.retro_after_fetch,
        "fetch_interval_seconds": exchange.fetch_interval_seconds,
    }


def seal_credentials(master_key: MasterKey, name: str, credentials: Mapping[str, str]) -> str:
    return seal_secret(
        master_key,
        json.dumps(_checked_credentials(credentials), sort_keys=True),
        credentials_purpose(name),
    )


def checked_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME_CHARS or not cleaned.isprintable():
        raise InvalidExchangeSetting(
            f"an exchange name is 1 to {MAX_NAME_CHARS} printable characters"
        )
    return cleaned


def checked_base_url(url: str) -> str:
    """An http(s) URL without user or password in it (those go in the credentials)."""
    cleaned = url.strip().rstrip("/")
    try:
        parts = urlsplit(cleaned)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InvalidExchangeSetting("the base URL cannot be read") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidExchangeSetting("the base URL must be http(s)://host/...")
    if parts.username or parts.password:
        raise InvalidExchangeSetting(
            "the base URL must not hold a user or password: put them in the credentials"
        )
    if len(cleaned) > MAX_URL_CHARS or not cleaned.isprintable():
        raise InvalidExchangeSetting(f"the base URL is at most {MAX_URL_CHARS} characters")
    return cleaned


def checked_interval(seconds: int) -> int:
    if seconds not in FETCH_INTERVAL_RANGE:
        raise InvalidExchangeSetting(
            f"the fetch interval is {FETCH_INTERVAL_RANGE.start} to "
            f"{FETCH_INTERVAL_RANGE.stop - 1} seconds, not {seconds}"
        )
    return seconds


# A switch's audit change is the prefix and "enabled" or "disabled".
_SWITCH_AUDIT_PREFIX = {
    "enabled": "",
    "feedback_enabled": "feedback_",
    "retro_after_fetch": "retro_after_fetch_",
}


def _switch(session: Session, name: str, setting: str, enabled: bool, actor: str) -> bool:
    actor = checked_actor(actor)
    exchange = get_exchange(session, name)
    if getattr(exchange, setting) == enabled:
        return False
    setattr(exchange, setting, enabled)
    session.flush()
    prefix = _SWITCH_AUDIT_PREFIX[setting]
    record_exchange_change(
        session,
        exchange.name,
        actor=actor,
        change=f"{prefix}{'enabled' if enabled else 'disabled'}",
        old={setting: not enabled},
        new={setting: enabled},
    )
    return True


def _lists(session: Session, list_names: Sequence[str]) -> list[Any]:
    names = list(dict.fromkeys(name.strip() for name in list_names))
    if not names:
        raise InvalidExchangeSetting("an exchange feeds at least one list")
    return [get_list(session, name) for name in names]


def _checked_credentials(credentials: Mapping[str, str]) -> dict[str, str]:
    if not credentials or len(credentials) > MAX_CREDENTIAL_FIELDS:
        raise InvalidExchangeSetting(
            f"credentials are 1 to {MAX_CREDENTIAL_FIELDS} named text fields"
        )
    checked: dict[str, str] = {}
    for key, value in credentials.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidExchangeSetting("every credential field and value must be text")
        if not key.strip() or not value or len(value) > MAX_CREDENTIAL_CHARS:
            # The message names the field, never the value.
            raise InvalidExchangeSetting(f"credential field {key.strip()!r} is empty or too long")
        checked[key.strip()] = value
    return checked


def _checked_options(options: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, value in options.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidExchangeSetting("every option and its value must be text")
        checked[_checked_text("option name", key, 64)] = _checked_text(key, value, 500)
    return checked


def _checked_text(label: str, value: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > limit or not cleaned.isprintable():
        raise InvalidExchangeSetting(f"{label} is 1 to {limit} printable characters")
    return cleaned
