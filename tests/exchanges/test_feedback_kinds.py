"""The store's list of exchange kinds that take feedback (which review queues verdicts for)
is the clients' own: a client gaining or losing Capability.FEEDBACK must change both."""

from __future__ import annotations

from vigil.exchanges.clients import client_class
from vigil.exchanges.protocol import Capability, ExchangeType
from vigil.store.exchanges.provenance import FEEDBACK_KINDS


def test_the_store_knows_which_exchange_kinds_take_feedback() -> None:
    taking = {
        kind.value
        for kind in ExchangeType
        if Capability.FEEDBACK in client_class(kind).capabilities
    }
    assert taking == FEEDBACK_KINDS
