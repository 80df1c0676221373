"""Vigil's settings: environment variables (``VIGIL_*``) over an optional TOML file over defaults.

Every setting is documented in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

import ipaddress
import math
import os
import tomllib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from vigil.core.database_urls import mask_url, normalise_database_url
from vigil.core.errors import ConfigurationError

ENV_PREFIX = "VIGIL_"
CONFIG_ENV = "VIGIL_CONFIG"
CONFIG_FILE_NAME = "vigil.toml"
DATABASE_FILE_NAME = "vigil.db"
DEFAULT_PDQ_DISTANCE = 31
DEFAULT_MIN_QUALITY = 50
DEFAULT_BUSY_TIMEOUT = 5.0
DEFAULT_CONNECT_TIMEOUT = 5.0
SqliteSynchronous = Literal["full", "normal"]
DEFAULT_SQLITE_SYNCHRONOUS: SqliteSynchronous = "full"
# The CyberTipline API's documented life of an unfinished report: deleted 24 h after opening
# or 1 h after the last modification, whichever is later (reporting/cybertipline/expiry.py).
DOCUMENTED_OPEN_HOURS = 24
DOCUMENTED_IDLE_HOURS = 1

# load_settings() passes an explicit --config path to the TOML source through this.
_explicit_config_file: ContextVar[Path | None] = ContextVar("vigil_config_file", default=None)


def default_data_dir() -> Path:
    """Per-user data directory, e.g. ``~/.local/share/vigil`` on Linux."""
    return platformdirs.user_data_path("vigil", appauthor=False)


class _Section(BaseModel):
    # Typos in the TOML file must fail loudly instead of silently using a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    busy_timeout: float = Field(default=DEFAULT_BUSY_TIMEOUT, ge=0)  # SQLite lock wait, seconds
    connect_timeout: float = Field(default=DEFAULT_CONNECT_TIMEOUT, gt=0)  # PostgreSQL, seconds
    echo: bool = False
    # "full": every acknowledged commit survives power loss; "normal" trades that for speed.
    sqlite_synchronous: SqliteSynchronous = DEFAULT_SQLITE_SYNCHRONOUS


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: SecretStr | None = None
    # Addresses or networks of the reverse proxies in front of the service, whose
    # X-Forwarded-For/-Proto are believed. Empty: no one's, not even loopback's, so a local
    # process cannot pose as another client to the sign-in limits or the audit log.
    trusted_proxies: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        try:
            return [str(ipaddress.ip_network(item.strip(), strict=False)) for item in value]
        except ValueError as exc:
            raise ValueError(f"trusted_proxies: {exc}") from None


class EvidenceSettings(_Section):
    directory: Path | None = None  # None: <data_dir>/evidence
    # Base64 of 32 bytes, here or in a 0600 file. Never kept next to the evidence (it would
    # end up in the same backups and protect nothing): with neither set, `vigil serve`
    # creates ~/.config/vigil/master.key on its first run (see store/evidence/keys.py).
    master_key: SecretStr | None = None  # VIGIL_EVIDENCE__MASTER_KEY
    master_key_file: Path | None = None
    max_bytes: int = Field(default=256 * 1024 * 1024, gt=0)  # larger media are refused
    retention_days: int = Field(default=90, ge=0)  # kept this long unless a hold says longer
    report_hold_days: int = Field(default=365, ge=1)  # hold placed when an item is reported
    report_hold_days_by_jurisdiction: dict[str, int] = Field(default_factory=dict)
    preservation_days: int = Field(default=90, ge=1)  # each preservation request adds this
    backend: Literal["local", "s3"] = "local"
    # S3 credentials come only from the standard AWS chain (environment, ~/.aws, instance or
    # pod role), never from this section: config files get copied, committed and pasted into
    # tickets, and a key here would unlock the bucket for anyone who saw one.
    s3_bucket: str | None = Field(
        default=None, min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$"
    )
    s3_prefix: str = Field(default="", max_length=512)  # e.g. "vigil/evidence/"
    s3_endpoint_url: str | None = Field(default=None, max_length=2048)  # MinIO, Ceph, R2...
    s3_region: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> EvidenceSettings:
        if self.backend == "s3" and self.s3_bucket is None:
            raise ValueError('backend "s3" needs evidence.s3_bucket (VIGIL_EVIDENCE__S3_BUCKET)')
        return self


class MatchingSettings(_Section):
    pdq_distance: int = Field(default=DEFAULT_PDQ_DISTANCE, ge=0, le=256)
    min_quality: int = Field(default=DEFAULT_MIN_QUALITY, ge=0, le=100)


class FloodGuardSettings(_Section):
    enabled: bool = True
    threshold: float = Field(default=10.0, gt=1)  # surge: this many times the usual rate
    min_matches: int = Field(default=50, ge=1)  # never flag an hour with fewer matches
    baseline_hours: int = Field(default=168, ge=1)  # history the usual rate comes from
    # A new install judges nothing until live uploads were counted this long: before, every
    # usual rate reads as zero and any popular listed file would look like a surge.
    min_history_hours: int = Field(default=24, ge=0)


class ApiSettings(_Section):
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, gt=0)  # larger bodies get 413
    max_batch_items: int = Field(default=1000, ge=1)
    rate_limit_per_minute: int = Field(default=60_000, ge=1)  # per API key, unless the key says
    session_idle_minutes: int = Field(default=30, ge=1)
    session_hours: int = Field(default=12, ge=1)  # absolute limit of a sign-in
    secure_cookies: bool = True  # False only for plain-HTTP development on localhost
    docs: bool = True  # serve the OpenAPI schema at /docs and /openapi.json
    lockout_after: int = Field(default=5, ge=1)  # failed sign-ins before a lockout
    lockout_minutes: int = Field(default=15, ge=1)
    min_password_length: int = Field(default=12, ge=8)
    # Sign-in attempts a minute (vigil.http.sign_in_limits): per account name and address,
    # and a higher ceiling per address, so a whole shift behind one NAT can still sign in.
    sign_in_per_account_per_minute: int = Field(default=20, ge=1)
    sign_in_per_address_per_minute: int = Field(default=300, ge=1)


class ScreeningSettings(_Section):
    # A PDQ hit at or under this distance is a match; farther (up to the list's own distance)
    # it goes to a person, because near the threshold unrelated images start to collide.
    match_pdq_distance: int = Field(default=20, ge=0, le=256)
    review_lists: list[str] = Field(default_factory=list)  # hits on these always go to review
    keep_unmatched: bool = False  # keep content that matched nothing as evidence too
    max_frames_per_video: int = Field(default=3600, ge=1)
    # Media that could not be hashed (corrupt, over a limit) or only in part (truncated) and
    # matched nothing goes to review instead of no_match: it could not be judged.
    review_undecodable: bool = True


class ScanningSettings(_Section):
    """Backlog scans of object storage (issue 17, vigil.screening.backlog)."""

    chunk_objects: int = Field(default=256, ge=1, le=100_000)  # objects per checkpointed chunk
    max_object_bytes: int = Field(default=256 << 20, ge=1)  # larger objects are error rows
    chunks_in_flight: int = Field(default=4, ge=1, le=1024)  # backpressure: chunks at once
    # Objects released from scan matches into the review queue per hour; the rest wait in
    # the order they were found (reviewers' capacity, not the scan's speed, sets the pace).
    review_ceiling_per_hour: int = Field(default=200, ge=0)
    # Ceilings on one job's object-store traffic, so a scan does not hurt production; None:
    # none. Shared out among the processes that read (vigil.screening.backlog.throttle).
    requests_per_second: float | None = Field(default=None, gt=0)
    bytes_per_second: float | None = Field(default=None, gt=0)


class DecodingSettings(_Section):
    """Bounds on decoding one upload (vigil.fingerprint.limits): decode bombs."""

    max_bytes: int = Field(default=512 * 1024 * 1024, ge=1 << 20)  # memory of one decode
    max_animation_bytes: int = Field(default=8 << 30, ge=1 << 20)  # canvas bytes x frames
    deadline_seconds: float | None = Field(default=60.0, gt=0)  # per decode; None: none
    concurrent: int = Field(default=2, ge=1, le=64)  # decodes at once per worker process
    wait_seconds: float = Field(default=10.0, ge=0, le=300)  # for a slot, then 503


class ClassifierConfig(_Section):
    name: str = Field(min_length=1, max_length=64)
    kind: Literal["http", "onnx"]
    threshold: float = Field(default=0.8, ge=0, le=1)  # a score above it sends to review
    url: str | None = None  # http
    token: SecretStr | None = None  # http: sent as a bearer token
    timeout: float = Field(default=5.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    model_path: Path | None = None  # onnx


class DescriptorConfig(_Section):
    """A copy-detection descriptor (docs/matching.md, "Embedding descriptors"): the built-in
    colour layout, or the operator's own ONNX model (never downloaded by Vigil)."""

    name: str = Field(min_length=1, max_length=64)
    kind: Literal["onnx", "colour_layout"]
    threshold: float = Field(default=0.9, gt=0, le=1)  # cosine similarity that makes a match
    model_path: Path | None = None  # onnx
    input_size: tuple[int, int] | None = None  # onnx: (height, width) when the model leaves it open
    input_name: str | None = None  # onnx: None = the model's only input
    output_name: str | None = None  # onnx: None = the model's first output
    mean: tuple[float, ...] = (0.0,)  # onnx: subtracted from pixels in 0..1, per channel or all
    std: tuple[float, ...] = (1.0,)  # onnx: then divided by, per channel or all
    dimension: int | None = Field(default=None, ge=1, le=4096)  # onnx: checked against the model
    max_model_megabytes: int = Field(default=1024, ge=1, le=65536)  # a larger file is refused

    @model_validator(mode="after")
    def _usable(self) -> DescriptorConfig:
        if self.kind == "onnx" and self.model_path is None:
            raise ValueError(f"descriptor {self.name!r} (onnx) needs a model_path")
        if self.input_size is not None and not all(0 < side <= 4096 for side in self.input_size):
            raise ValueError("input_size: both sides must be within 1..4096")
        for label, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, 3):
                raise ValueError(f"{label}: give 1 value, or 3 (red, green, blue)")
        if not all(math.isfinite(value) for value in self.mean):
            raise ValueError("mean: every value must be a finite number")
        if not all(0 < value < math.inf for value in self.std):
            raise ValueError("std: every value must be a finite number above zero")
        return self


class WebhookSettings(_Section):
    max_attempts: int = Field(default=8, ge=1)
    backoff_seconds: float = Field(default=5.0, gt=0)  # doubles after each failed attempt
    max_backoff_seconds: float = Field(default=3600.0, gt=0)
    timeout: float = Field(default=10.0, gt=0)
    poll_seconds: float = Field(default=1.0, gt=0)
    # Non-public networks endpoints may be in (on-premises receivers), e.g. ["10.1.2.0/24"];
    # everything not public is refused otherwise (vigil.screening.webhooks.destinations).
    allowed_networks: tuple[IPvAnyNetwork, ...] = ()


class ReviewSettings(_Section):
    daily_reveal_limit: int = Field(default=100, ge=1)  # a reviewer is warned past this
    break_minutes: int = Field(default=50, ge=5)  # on media screens before a break reminder
    two_reviewers_to_disable: bool = False  # a second reviewer approves disabling an entry
    platform_list: str = Field(default="platform-confirmed", min_length=1, max_length=200)
    blur_radius: int = Field(default=24, ge=4, le=200)  # default protective rendering
    preview_pixels: int = Field(default=320, ge=64, le=1024)  # longest side of a preview
    # A revealed picture or video is blurred again after this long without a key, pointer
    # or playback: a reveal left on screen is not an exposure the reviewer chose.
    reveal_idle_seconds: int = Field(default=20, ge=1, le=600)


class DestinationConfig(_Section):
    """Where reports go. Put the password in the environment (VIGIL_REPORTING__DESTINATIONS
    as JSON), not in a committed config file."""

    name: str = Field(min_length=1, max_length=64)
    kind: Literal["cybertipline", "xml_file", "json_file"] = "cybertipline"
    environment: Literal["test", "production"] = "test"  # kept apart: see base_url
    base_url: str | None = None  # cybertipline: None = the documented URL of `environment`
    username: str | None = None
    password: SecretStr | None = None
    directory: Path | None = None  # xml_file / json_file: where report files are written
    timeout: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)


class ReportingSettings(_Section):
    # None: one "xml_file" destination writing to <data_dir>/reports for manual upload
    destinations: list[DestinationConfig] = Field(default_factory=list)
    reporter_company: str = Field(default="", max_length=200)  # who files: required to file
    reporter_contact_name: str = Field(default="", max_length=200)
    reporter_contact_email: str = Field(default="", max_length=254)
    hold_jurisdiction: str = "US"  # picks [evidence] report_hold_days_by_jurisdiction
    emergency_due_hours: int = Field(default=4, ge=1)  # default deadline of emergency requests
    request_due_days: int = Field(default=14, ge=1)  # default deadline of other requests


class ClearinghouseSettings(_Section):
    """Running this installation as a clearinghouse: the CyberTipline-compatible intake."""

    enabled: bool = False  # mounts /ispws; off on a platform's installation
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, gt=0)  # larger bodies get 413
    # Unfinished reports live this long after opening, or after their last modification.
    open_hours: int = Field(default=DOCUMENTED_OPEN_HOURS, ge=1)
    idle_hours: int = Field(default=DOCUMENTED_IDLE_HOURS, ge=1)
    # Sign-in limits of /ispws (issue 14), per client address and per user name, applied
    # before any password is hashed; docs/clearinghouse.md explains them.
    sign_in_free_failures: int = Field(default=5, ge=1)  # then each attempt waits ...
    sign_in_backoff_seconds: float = Field(default=1.0, gt=0)  # ... this, doubling each time,
    sign_in_max_backoff_seconds: float = Field(default=300.0, gt=0)  # up to this per address
    sign_in_username_max_backoff_seconds: float = Field(default=60.0, gt=0)  # ... per name
    failed_sign_in_cache_seconds: float = Field(default=30.0, ge=0)  # same wrong pair: 401


class TriageSettings(_Section):
    """Scoring and routing of clearinghouse reports (issue 8)."""

    weights_file: Path | None = None  # None: the packaged default weights (vigil/triage)
    poll_seconds: float = Field(default=0.5, gt=0)  # scored within a second of /finish
    geoip_database: Path | None = None  # the operator's MaxMind-format (.mmdb) database


class AgencySettings(_Section):
    """The agency side: referral packages and requests to reporting companies."""

    info_request_due_days: int = Field(default=7, ge=1)  # default due date of a request
    signing_key_file: Path | None = None  # Ed25519 key signing packages; None: beside master.key


class MetricsSettings(_Section):
    """Prometheus /metrics: counts only, never content or identifiers."""

    enabled: bool = True
    token: SecretStr | None = None  # when set, /metrics needs "Authorization: Bearer <token>"


class Settings(BaseSettings):
    """The one configuration object. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""  # empty: sqlite:///<data_dir>/vigil.db
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    matching: MatchingSettings = Field(default_factory=MatchingSettings)
    flood_guard: FloodGuardSettings = Field(default_factory=FloodGuardSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    screening: ScreeningSettings = Field(default_factory=ScreeningSettings)
    decoding: DecodingSettings = Field(default_factory=DecodingSettings)
    scanning: ScanningSettings = Field(default_factory=ScanningSettings)
    classifiers: list[ClassifierConfig] = Field(default_factory=list)
    descriptors: list[DescriptorConfig] = Field(default_factory=list)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    reporting: ReportingSettings = Field(default_factory=ReportingSettings)
    clearinghouse: ClearinghouseSettings = Field(default_factory=ClearinghouseSettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    agency: AgencySettings = Field(default_factory=AgencySettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        # The SQLite URL and evidence paths are derived from it, so it must not depend on
        # the working directory of whoever reads them later.
        return value.expanduser().resolve()

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return normalise_database_url(value.strip()).render_as_string(hide_password=False)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        # frozen model: derived defaults are filled in through __dict__ once, at validation.
        if not self.database_url:
            sqlite_file = self.data_dir / DATABASE_FILE_NAME
            self.__dict__["database_url"] = f"sqlite:///{sqlite_file}"
        if self.evidence.directory is None:
            # A copy, not a new section: the other evidence settings must survive.
            evidence = self.evidence.model_copy(update={"directory": self.data_dir / "evidence"})
            self.__dict__["evidence"] = evidence
        return self

    @property
    def evidence_dir(self) -> Path:
        assert self.evidence.directory is not None  # set by _derive_paths
        return self.evidence.directory

    @property
    def masked_database_url(self) -> str:
        return mask_url(self.database_url)

    def redacted(self) -> dict[str, Any]:
        """All settings as plain data with secrets masked, for ``vigil config`` and logs."""
        data = self.model_dump(mode="json")
        data["database_url"] = self.masked_database_url
        return data

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, (self.masked_database_url if name == "database_url" else value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = _explicit_config_file.get() or find_config_file()
        if config_file is None:
            return init_settings, env_settings
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config_file)


def find_config_file() -> Path | None:
    """``$VIGIL_CONFIG`` (must exist), else ``<data_dir>/vigil.toml`` if it exists."""
    explicit = os.environ.get(CONFIG_ENV, "").strip()
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"{CONFIG_ENV} points to {path}, which is not a file")
        return path
    data_dir = os.environ.get(f"{ENV_PREFIX}DATA_DIR", "").strip()
    base = Path(data_dir).expanduser() if data_dir else default_data_dir()
    candidate = base / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings. ``config_file`` (e.g. a ``--config`` option) replaces the lookup of
    :func:`find_config_file`; ``overrides`` (e.g. other CLI options) beat everything else.

    Raises ConfigurationError with a readable message for any invalid value or file.
    """
    if config_file is not None and not config_file.is_file():
        raise ConfigurationError(f"configuration file {config_file} does not exist")
    token = _explicit_config_file.set(config_file)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(_describe_validation_error(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"configuration file is not valid TOML: {exc}") from None
    finally:
        _explicit_config_file.reset(token)


def _describe_validation_error(exc: ValidationError) -> str:
    # Input values are left out on purpose: they may be secrets (passwords, keys).
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "settings"
        problems.append(f"{location}: {error['msg']}")
    return "invalid configuration: " + "; ".join(problems)
