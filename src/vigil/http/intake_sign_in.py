"""Limits on the intake's sign-ins, decided before any password is hashed (issue 14: each bad
credential cost about 190 ms of argon2, so an anonymous flood of 6 requests a second slowed
real intake 55 times, and company passwords could be guessed without limit).

- A credential pair that failed within ``failed_sign_in_cache_seconds`` answers 401 again
  without a hash.
- Per client address (an IPv6 address by its /64) and per user name: after
  ``sign_in_free_failures`` attempts without a success, each further attempt waits
  ``sign_in_backoff_seconds``, doubling, up to a cap; until then the answer is 429 with
  Retry-After, and nothing is hashed. A success clears both counters.
- A pair that succeeded before (in this process, within a day) is not a guess: it skips both
  limits, so a flood of the company's user name from elsewhere does not lock out the
  company's own client. Only a company signing in with a pair this process has not yet seen
  (after a restart or a password change) shares the user name's wait, capped lower.
- Attempts of one pair while its check is running count once (a report's requests arrive
  together).

Pairs are remembered only as an HMAC under a key drawn for this process, never the password.
The state is per worker process: with N workers an address gets up to N times its attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from vigil.core.settings import ClearinghouseSettings
from vigil.core.ttl_cache import TtlCache
from vigil.http.backoff import Backoff

log = logging.getLogger(__name__)

KNOWN_GOOD_SECONDS = 24 * 3600.0
MAX_PAIRS = 50_000  # remembered pairs, each way; the oldest are forgotten first
IPV6_NETWORK_BITS = 64  # one subscriber's IPv6 addresses are one client
T = TypeVar("T")


class Verdict(Enum):
    VERIFY = "verify"  # hash the password
    KNOWN_FAILURE = "known_failure"  # 401 without a hash
    WAIT = "wait"  # 429 with Retry-After, without a hash


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    pair: bytes
    address: str
    username: str
    retry_after: float = 0.0
    counted: bool = False  # recorded as an attempt of the address and the user name


class SignInGuard:
    def __init__(
        self, settings: ClearinghouseSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._key = secrets.token_bytes(32)  # per process: digests mean nothing elsewhere
        self._lock = threading.Lock()
        free, base = settings.sign_in_free_failures, settings.sign_in_backoff_seconds
        self._addresses = Backoff(free, base, settings.sign_in_max_backoff_seconds)
        self._usernames = Backoff(free, base, settings.sign_in_username_max_backoff_seconds)
        # Digests of credential pairs that failed or succeeded lately (core's one TTL cache).
        self._failed: TtlCache[bytes, bool] = TtlCache(
            settings.failed_sign_in_cache_seconds, MAX_PAIRS, clock
        )
        self._good: TtlCache[bytes, bool] = TtlCache(KNOWN_GOOD_SECONDS, MAX_PAIRS, clock)
        self._checking: dict[bytes, int] = {}  # pairs being verified now, with their callers

    def admit(self, username: str, password: str, address: str) -> Admission:
        """Whether this attempt may hash its password. After a VERIFY, hash through
        checked() and call release() whatever happens."""
        pair = self._digest(username, password)
        client = client_key(address)
        with self._lock:
            now = self._clock()
            if self._good.get(pair) or pair in self._checking:
                return self._verify(Admission(Verdict.VERIFY, pair, client, username))
            if self._failed.get(pair):
                return Admission(Verdict.KNOWN_FAILURE, pair, client, username)
            wait = max(self._addresses.wait(client, now), self._usernames.wait(username, now))
            if wait > 0:
                return Admission(Verdict.WAIT, pair, client, username, retry_after=wait)
            self._count(client, username, now)
            return self._verify(Admission(Verdict.VERIFY, pair, client, username, counted=True))

    def checked(self, admission: Admission, check: Callable[[], T | None]) -> T | None:
        """``check()`` (the password hash) for an admitted attempt, and its outcome noted;
        None without a hash when the same pair failed meanwhile (callers waiting on one
        check of a pair then share its answer instead of hashing again each)."""
        with self._lock:
            if self._failed.get(admission.pair):
                return None
        result = check()  # an error (database down) is no outcome: nothing is recorded
        self._note(admission, result is not None)
        return result

    def release(self, admission: Admission) -> None:
        """The admitted attempt is over (whatever happened); call it once after admit()."""
        if admission.verdict is not Verdict.VERIFY:
            return
        with self._lock:
            left = self._checking.get(admission.pair, 1) - 1
            if left > 0:
                self._checking[admission.pair] = left
            else:
                self._checking.pop(admission.pair, None)

    def _note(self, admission: Admission, succeeded: bool) -> None:
        with self._lock:
            if succeeded:
                self._good.put(admission.pair, True)
                self._failed.discard(admission.pair)
                if admission.counted:  # a pair already known good says nothing of a guesser
                    self._addresses.clear(admission.address)
                    self._usernames.clear(admission.username)
            else:
                self._good.discard(admission.pair)
                if self._failed.ttl > 0:  # 0 switches the failure cache off
                    self._failed.put(admission.pair, True)

    def _verify(self, admission: Admission) -> Admission:
        self._checking[admission.pair] = self._checking.get(admission.pair, 0) + 1
        return admission

    def _count(self, client: str, username: str, now: float) -> None:
        for backoff, key, what in (
            (self._addresses, client, "address"),
            (self._usernames, username, "user name"),
        ):
            if backoff.record(key, now) == backoff.free:
                log.warning(
                    "intake sign-in: %s %r is backing off after %d attempts without success",
                    what,
                    key[:100],
                    backoff.free,
                )

    def _digest(self, username: str, password: str) -> bytes:
        pair = f"{len(username)}:{username}:{password}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, pair, hashlib.sha256).digest()


def client_key(address: str) -> str:
    """The client an address belongs to: itself, or its /64 for IPv6."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if parsed.version == 6 and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_NETWORK_BITS}", strict=False))
    return str(parsed.ipv4_mapped or parsed) if parsed.version == 6 else str(parsed)
