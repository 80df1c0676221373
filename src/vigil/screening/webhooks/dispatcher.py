"""Sends queued webhook deliveries: claim with a lease, POST outside any transaction, log.

One run: (1) a short write transaction moves due deliveries' next attempt past the time a send
can take (the lease), so other dispatchers - other service workers - skip them; (2) the batch
is sent concurrently with no database connection held; (3) each outcome is recorded in its own
short transaction. A dispatcher that dies mid-run only delays its batch until the lease ends:
delivery is at least once, and receivers drop duplicates by delivery id.

Every send checks its destination again (destinations.py) and connects to the address checked;
the delivery log keeps a status code and a fixed description, never what a receiver answered,
so the log cannot be used to read other services' replies.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from vigil.core.settings import WebhookSettings
from vigil.screening.webhooks.backoff import next_attempt_at
from vigil.screening.webhooks.destinations import (
    RefusedDestination,
    Resolver,
    check_destination,
    pinned,
    resolve_host,
)
from vigil.screening.webhooks.signing import SIGNATURE_HEADER, sign
from vigil.store import Database
from vigil.store.evidence.keys import MasterKey
from vigil.store.models import WebhookDelivery, utcnow
from vigil.store.records.outbox import claim_due, endpoint_secret, record_attempt
from vigil.store.sealed_secrets import SealedSecretError

log = logging.getLogger(__name__)

USER_AGENT = "Vigil-Webhooks"
LEASE_MARGIN_SECONDS = 30.0  # on top of the send timeout: connect, slow headers, recording
MAX_ERROR_CHARS = 500  # the delivery log's error column
DEFAULT_BATCH_SIZE = 10  # sent concurrently, so a batch takes about one timeout at worst

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True, slots=True)
class _Claim:
    """What sending one delivery needs, copied out of the claiming transaction."""

    delivery_id: int
    endpoint_id: int
    event_id: str
    event: str
    payload: dict[str, Any]
    created_at: datetime
    attempt: int  # 1 for the first try
    url: str
    secret: str | None = field(repr=False)  # None: its sealed secret could not be opened


@dataclass(frozen=True, slots=True)
class SendOutcome:
    status_code: int | None  # None when no response arrived
    error: str | None  # None on 2xx
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookDispatcher:
    """Delivers the webhook outbox. Safe to run in several processes against one database."""

    def __init__(
        self,
        database: Database,
        settings: WebhookSettings,
        master_key: MasterKey,
        *,
        client: httpx.Client | None = None,
        resolve: Resolver = resolve_host,
        clock: Callable[[], datetime] | None = None,
        jitter: Callable[[], float] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.database = database
        self.settings = settings
        self.master_key = master_key  # opens the endpoints' sealed signing secrets
        self.resolve = resolve
        self._timeout = httpx.Timeout(settings.timeout)
        self._owns_client = client is None
        # No proxy from the environment (it would connect, not us, to an unchecked address);
        # no kept-alive connections, so a TLS session is never reused for another host name
        # that happens to share the pinned address.
        self.client = client or httpx.Client(
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self.clock = clock or utcnow
        self.jitter = jitter or random.random
        self.batch_size = batch_size

    def run_once(self, now: datetime | None = None) -> int:
        """Send every due delivery this dispatcher can claim (one batch); returns how many
        attempts were made."""
        now = now or self.clock()
        claims = self._claim(now)
        if not claims:
            return 0
        workers = min(len(claims), self.batch_size)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vigil-webhook") as pool:
            outcomes = pool.map(lambda claim: self._send(claim, now), claims)
            for claim, outcome in zip(claims, outcomes, strict=True):
                self._record(claim, outcome, now)
        return len(claims)

    def _claim(self, now: datetime) -> list[_Claim]:
        lease_until = now + timedelta(seconds=self.settings.timeout + LEASE_MARGIN_SECONDS)
        with self.database.transaction(write=True) as session:
            deliveries = claim_due(session, now, lease_until=lease_until, limit=self.batch_size)
            return [_claim_of(delivery, self.master_key) for delivery in deliveries]

    def _send(self, claim: _Claim, now: datetime) -> SendOutcome:
        """POST one signed delivery; never raises for anything the network or receiver does.
        Errors are fixed descriptions: nothing a receiver or a network stack says is kept."""
        started = time.monotonic()
        try:
            status_code, error = self._post(claim, now)
        except RefusedDestination as exc:
            status_code, error = None, str(exc)
        except httpx.TimeoutException:
            status_code, error = None, f"timed out (limit {self.settings.timeout:g} s)"
        except httpx.ConnectError:
            status_code, error = None, "could not connect"
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            status_code, error = None, f"request failed ({type(exc).__name__})"
        except Exception as exc:  # a bug or odd input must not stop the other deliveries
            log.exception("webhook delivery %s: unexpected error", claim.delivery_id)
            status_code, error = None, f"unexpected error: {type(exc).__name__}"
        duration_ms = int((time.monotonic() - started) * 1000)
        return SendOutcome(status_code, _clean_error(error, claim.secret), duration_ms)

    def _post(self, claim: _Claim, now: datetime) -> tuple[int | None, str | None]:
        if claim.secret is None:
            return None, "cannot sign: the endpoint's secret does not open with this master key"
        destination = check_destination(
            claim.url, self.settings.allowed_networks, resolve=self.resolve
        )
        url, host, extensions = pinned(destination)
        body = _request_body(claim)
        headers = {
            **host,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Vigil-Event": claim.event,
            "Vigil-Delivery": str(claim.delivery_id),
            SIGNATURE_HEADER: sign(claim.secret, int(now.timestamp()), body),
        }
        # Streamed and closed unread: only the status line and headers are taken in.
        with self.client.stream(
            "POST",
            url,
            content=body,
            headers=headers,
            timeout=self._timeout,
            follow_redirects=False,
            extensions=extensions,
        ) as response:
            return response.status_code, _describe(response.status_code)

    def _record(self, claim: _Claim, outcome: SendOutcome, now: datetime) -> None:
        try:
            with self.database.transaction(write=True) as session:
                delivery = session.get(WebhookDelivery, claim.delivery_id)
                if delivery is None:
                    return  # its endpoint was deleted meanwhile
                retry_at = next_attempt_at(
                    delivery.attempts + 1, self.settings, now, jitter=self.jitter()
                )
                record_attempt(
                    session,
                    delivery,
                    at=now,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                    next_attempt_at=retry_at,
                )
        except Exception:
            # The lease runs out and the delivery is tried again: at least once, not lost.
            log.exception("webhook delivery %s: could not record the attempt", claim.delivery_id)
            return
        if outcome.delivered:
            log.info(
                "webhook delivery %s delivered to endpoint %s (attempt %s)",
                claim.delivery_id,
                claim.endpoint_id,
                claim.attempt,
            )
        else:
            log.warning(
                "webhook delivery %s to endpoint %s failed (attempt %s): %s",
                claim.delivery_id,
                claim.endpoint_id,
                claim.attempt,
                outcome.error,
            )

    def full_batch(self, sent: object) -> bool:
        """Whether a run's result (attempts made) filled a batch: more may be due, so the
        next run goes at once instead of after ``poll_seconds`` (vigil.jobs.registry)."""
        return isinstance(sent, int) and sent >= self.batch_size

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> WebhookDispatcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _claim_of(delivery: WebhookDelivery, master_key: MasterKey) -> _Claim:
    endpoint = delivery.endpoint
    try:
        secret: str | None = endpoint_secret(endpoint, master_key)
    except SealedSecretError as exc:
        log.error("webhook endpoint %s: cannot open its signing secret: %s", endpoint.id, exc)
        secret = None
    return _Claim(
        delivery_id=delivery.id,
        endpoint_id=endpoint.id,
        event_id=delivery.event_id,
        event=delivery.event,
        payload=dict(delivery.payload),
        created_at=delivery.created_at,
        attempt=delivery.attempts + 1,
        url=endpoint.url,
        secret=secret,
    )


def _request_body(claim: _Claim) -> bytes:
    document = {
        "id": claim.event_id,
        "delivery": claim.delivery_id,
        "event": claim.event,
        "created_at": claim.created_at.isoformat(),
        "attempt": claim.attempt,
        "data": claim.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def _describe(status_code: int) -> str | None:
    """The delivery log's words for a status: fixed, whatever the receiver sent."""
    if 200 <= status_code < 300:
        return None
    if 300 <= status_code < 400:
        # Following could send a signed event to a host nobody registered.
        return f"HTTP {status_code}: redirect not followed"
    return f"HTTP {status_code}: the receiver did not accept the delivery"


def _clean_error(error: str | None, secret: str | None) -> str | None:
    if error is None:
        return None
    # Receivers sometimes echo headers back; the secret itself never left, but be sure.
    text = error.replace(secret, "***") if secret else error
    text = _CONTROL_CHARACTERS.sub(" ", text).strip()
    return text[:MAX_ERROR_CHARS]
