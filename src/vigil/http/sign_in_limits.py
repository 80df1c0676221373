"""How often people may try to sign in (the console's form and /v1/auth/sign-in).

Two buckets, both must have a token: one per account name *and* client address, so one
person guessing at one account is slowed down, and a higher one per address, so a shift of
reviewers behind one NAT (one address for everybody) can still sign in while a script
spraying many account names from one address is stopped. The per-account lockout in
vigil.store.accounts comes on top of both.
"""

from __future__ import annotations

from vigil.core.settings import ApiSettings
from vigil.http.rate_limit import RateLimiter


def sign_in_wait(
    limiter: RateLimiter, settings: ApiSettings, address: str, username: str
) -> float | None:
    """None when this attempt may go ahead, else the seconds to wait."""
    account = username.strip().casefold()
    waits = [
        limiter.acquire(f"sign-in:{address}", settings.sign_in_per_address_per_minute),
        limiter.acquire(f"sign-in:{address}:{account}", settings.sign_in_per_account_per_minute),
    ]
    refused = [wait for wait in waits if wait is not None]
    return max(refused) if refused else None
