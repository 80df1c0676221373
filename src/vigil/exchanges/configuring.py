"""What a new exchange needs before it is stored: its service root, its credentials and its
options, checked against the client of its type (the store does not know the protocols).

Shared by the commands and the API, so a value is checked once. Errors are
InvalidExchangeSetting (a StoreError, shown as one line by the interfaces) and never hold a
credential's value, nor the name of a field the client does not know: a credentials file
with the secret typed in as a field name must not have it printed back.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from vigil.exchanges.clients import client_class
from vigil.exchanges.protocol import ExchangeConfig, ExchangeType
from vigil.store.exchanges.errors import InvalidExchangeSetting

# Options without which a client cannot fetch (ThreatExchange reads one privacy group).
REQUIRED_OPTIONS: Mapping[ExchangeType, tuple[str, ...]] = MappingProxyType(
    {ExchangeType.THREATEXCHANGE: ("privacy_group",)}
)


def exchange_type(kind: str) -> ExchangeType:
    try:
        return ExchangeType(kind.strip().lower())
    except ValueError:
        known = ", ".join(t.value for t in ExchangeType)
        raise InvalidExchangeSetting(
            f"unknown exchange type {kind!r}; the types are: {known}"
        ) from None


def required_credentials(kind: ExchangeType) -> tuple[str, ...]:
    fields: tuple[str, ...] = client_class(kind).required_credentials
    return fields


def service_root(kind: ExchangeType, environment: str | None, base_url: str | None) -> str:
    """``base_url`` when given (it overrides the environment's), else the published root of
    the environment (NCMEC, which has several) or of the service."""
    if environment is not None and kind is not ExchangeType.NCMEC:
        raise InvalidExchangeSetting(
            f"only NCMEC has environments; a {kind.value} exchange takes --base-url alone"
        )
    module = importlib.import_module(f"vigil.exchanges.{kind.value}")
    if kind is ExchangeType.NCMEC:
        try:
            config = ExchangeConfig(base_url=(base_url or "").strip(), environment=environment)
            root = module.service_root(config)
        except ValueError as exc:
            raise InvalidExchangeSetting(str(exc)) from None
        return str(root)
    return (base_url or "").strip() or str(module.BASE_URL)


def checked_credentials(kind: ExchangeType, fields: object) -> dict[str, str]:
    """Exactly the fields the client needs, each non-empty text."""
    needed = required_credentials(kind)
    expected = f"a {kind.value} exchange takes exactly: {', '.join(needed)}"
    if not isinstance(fields, Mapping):
        raise InvalidExchangeSetting(f"the credentials must be one JSON object; {expected}")
    missing = [name for name in needed if name not in fields]
    if missing:
        raise InvalidExchangeSetting(f"the credentials lack {', '.join(missing)}; {expected}")
    extra = len([name for name in fields if name not in needed])
    if extra:
        raise InvalidExchangeSetting(
            f"the credentials hold {extra} field(s) that are not among those it takes; {expected}"
        )
    bad = [name for name in needed if not isinstance(fields[name], str) or not fields[name]]
    if bad:
        raise InvalidExchangeSetting(f"credential field(s) {', '.join(bad)} must be non-empty text")
    return {name: fields[name] for name in needed}


def checked_options(kind: ExchangeType, options: Mapping[str, str]) -> dict[str, str]:
    missing = [name for name in REQUIRED_OPTIONS.get(kind, ()) if not options.get(name)]
    if missing:
        raise InvalidExchangeSetting(
            f"a {kind.value} exchange needs the option(s) {', '.join(missing)} "
            f"(e.g. --option {missing[0]}=VALUE)"
        )
    return dict(options)
