"""Which client serves each exchange type, and a client built from a stored exchange.

Each client module (vigil.exchanges.ncmec, .stopncii, .threatexchange, .tat) names its
class ``CLIENT``; it is imported only when an exchange of that type is used. Credentials
are opened here, under the evidence master key, and go straight into the client's config,
which keeps them out of its repr.
"""

from __future__ import annotations

import importlib
from typing import Any, cast

from vigil.exchanges.protocol import Exchange as ExchangeClient
from vigil.exchanges.protocol import ExchangeConfig, ExchangeType
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import exchange_credentials
from vigil.store.models import Exchange


def client_class(kind: ExchangeType | str) -> type[Any]:
    """The client class of ``kind``; ValueError for a type Vigil has no client for."""
    exchange_type = ExchangeType(kind)
    module = importlib.import_module(f"vigil.exchanges.{exchange_type.value}")
    return cast(type[Any], module.CLIENT)


def exchange_config(exchange: Exchange, master_key: MasterKey) -> ExchangeConfig:
    return ExchangeConfig(
        base_url=exchange.base_url,
        credentials=exchange_credentials(exchange, master_key),
        environment=exchange.environment,
        options=dict(exchange.options),
    )


def build_client(
    exchange: Exchange, master_key: MasterKey, transport: object | None = None
) -> ExchangeClient:
    """A client for the stored ``exchange``; raises SealedSecretError when its credentials
    do not open under ``master_key``."""
    cls = client_class(exchange.kind)
    return cast(ExchangeClient, cls(exchange_config(exchange, master_key), transport=transport))
