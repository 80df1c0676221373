"""What every request handler reaches through ``request.app.state.vigil``."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from vigil.core.settings import Settings
from vigil.http.company_cache import CompanyCache
from vigil.http.credential_cache import CredentialCache
from vigil.http.intake_sign_in import SignInGuard
from vigil.http.rate_limit import RateLimiter
from vigil.screening.service import ScreeningService
from vigil.store.database import Database
from vigil.store.evidence import EvidenceVault, MasterKey


@dataclass
class ServiceState:
    settings: Settings
    database: Database
    screening: ScreeningService
    vault: EvidenceVault | None
    limiter: RateLimiter = field(default_factory=RateLimiter)
    credentials: CredentialCache = field(default_factory=CredentialCache)
    companies: CompanyCache = field(default_factory=CompanyCache)  # intake basic auth
    intake_sign_in: SignInGuard = field(init=False)  # the intake's limits before hashing

    def __post_init__(self) -> None:
        self.intake_sign_in = SignInGuard(self.settings.clearinghouse)

    @property
    def master_key(self) -> MasterKey | None:
        """The evidence master key, which also seals secrets Vigil must use again (second
        factors, webhook signing secrets); None when the operator configured none."""
        return self.vault.master_key if self.vault is not None else None


def service_state(request: Request) -> ServiceState:
    return request.app.state.vigil
