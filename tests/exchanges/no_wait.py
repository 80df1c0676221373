"""A transport for tests that retries at once: the StopNCII, ThreatExchange and TAT tests
wait for nothing, while still going through every retry the policy allows."""

from __future__ import annotations

from vigil.exchanges.protocol import ExchangeConfig
from vigil.exchanges.transport import RetryPolicy, Transport

NO_WAIT = RetryPolicy(base_delay=0.0, max_delay=0.0, max_retry_after=0.0)


def quick_transport(config: ExchangeConfig) -> Transport:
    return Transport(config, policy=NO_WAIT, sleep=lambda _: None)
