"""The Vigil service: ``create_app`` builds the FastAPI application on the configured database,
match index, evidence vault and classifiers; each worker also runs the background jobs of
vigil.jobs.registry (webhooks, retention, ...) unless they run apart (`vigil serve --no-jobs`
and `vigil worker`). ``vigil serve`` runs it under uvicorn (``--workers`` processes share the
memory-mapped index snapshot)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.formparsers import MultiPartParser

from vigil.api.intake import IntakeGate
from vigil.api.intake import router as intake_router
from vigil.api.intake.info_requests import router as info_requests_router
from vigil.api.intake.routes import INTAKE_HOOK
from vigil.api.routes import ROUTERS
from vigil.api.routes.docs import mount_docs
from vigil.api.routes.docs import router as docs_router
from vigil.clearinghouse.assignment import deconflict_on_finish
from vigil.clearinghouse.known_or_new import RECEIVED_LIST, make_finish_hook
from vigil.clearinghouse.readiness import prepare_intake
from vigil.core.private_files import restrict_umask
from vigil.core.settings import Settings, load_settings
from vigil.fingerprint.limits import DecodeLimits, set_process_limits
from vigil.http.auth import Authentication
from vigil.http.body_limit import BodyLimit
from vigil.http.errors import install_error_handlers
from vigil.http.security_headers import SecurityHeaders
from vigil.http.state import ServiceState
from vigil.jobs import WEB_ONLY_ENV
from vigil.jobs.registry import JobServices
from vigil.jobs.runner import BackgroundJobs
from vigil.screening.classifiers.factory import build_classifiers
from vigil.screening.live_index import LiveIndex, index_root
from vigil.screening.matcher import Matcher
from vigil.screening.service import ScreeningService
from vigil.store import open_database
from vigil.store.evidence import EvidenceVault, MasterKeyMissing
from vigil.store.migrate import prepare_schema
from vigil.store.models import IntakeReport
from vigil.web.console import mount_console

log = logging.getLogger(__name__)

API_VERSION = "1"


def create_app(settings: Settings | None = None, *, background_jobs: bool = True) -> FastAPI:
    """The application; nothing is opened until it starts (lifespan)."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state, live = _open_services(settings)
        if settings.clearinghouse.enabled:
            _start_clearinghouse(app, state)
        background = BackgroundJobs()
        if background_jobs:
            background.start(JobServices(settings, state.database, state.vault))
        app.state.vigil = state
        try:
            yield
        finally:
            background.stop()
            live.close()
            state.database.dispose()

    app = FastAPI(
        title="Vigil screening API",
        version=API_VERSION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served behind authentication
        description="Screen uploads against hash lists; see docs/api.md.",
    )
    install_error_handlers(app)
    for router in ROUTERS:
        if router is not docs_router:
            app.include_router(router)
    if settings.api.docs:
        mount_docs(app)
    if settings.clearinghouse.enabled:
        app.include_router(info_requests_router)  # before the intake's catch-all for /ispws
        app.include_router(intake_router)
    mount_console(app)
    app.add_middleware(Authentication)
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_upload_bytes)
    app.add_middleware(SecurityHeaders, strict_transport=settings.api.secure_cookies)
    if settings.clearinghouse.enabled:
        # Outermost: the intake's limit answers with its own error document, before BodyLimit.
        app.add_middleware(
            IntakeGate,
            max_bytes=min(settings.clearinghouse.max_upload_bytes, settings.api.max_upload_bytes),
        )
    # Uploaded media stay in memory (bounded by the body limit): spooled to a temporary file,
    # they would sit on disk unencrypted, and survive there if the process died.
    MultiPartParser.spool_max_size = max(
        MultiPartParser.spool_max_size, settings.api.max_upload_bytes
    )
    return app


def create_app_from_env() -> FastAPI:
    """uvicorn's factory for worker processes: settings from VIGIL_* and VIGIL_CONFIG."""
    restrict_umask()  # also when uvicorn is started by hand rather than by `vigil serve`
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return create_app(background_jobs=os.environ.get(WEB_ONLY_ENV) != "1")


def _open_services(settings: Settings) -> tuple[ServiceState, LiveIndex]:
    # Decoding limits and slots are per process, shared by screening and the intake.
    set_process_limits(DecodeLimits(**settings.decoding.model_dump()))
    database = open_database(settings)
    prepare_schema(settings, database)
    live = LiveIndex.open(database, index_root(settings.data_dir))
    vault = _vault(settings)
    screening = ScreeningService(
        # The one matcher of live uploads: only its matches count toward the flood guard.
        database,
        Matcher(
            live,
            flood_guard=settings.flood_guard,
            skip_lists={RECEIVED_LIST},
            count_for_flood_guard=True,
        ),
        settings=settings,
        vault=vault,
        classifiers=build_classifiers(settings.classifiers),
    )
    return ServiceState(settings, database, screening, vault), live


def _vault(settings: Settings) -> EvidenceVault | None:
    try:
        return EvidenceVault.from_settings(settings)
    except MasterKeyMissing:
        log.warning(
            "no evidence master key configured: matched content will be recorded "
            "WITHOUT its media. Run `vigil evidence new-key` and configure it."
        )
        return None


def _start_clearinghouse(app: FastAPI, state: ServiceState) -> None:
    """Every finished intake report is classified (known, seen, new), bundled and linked in
    the transaction that finishes it (expiry and triage are background jobs)."""
    prepare_intake()  # the schema and rules now, not on the first report (issue 14)
    # Its own matcher on the shared index: the platform side skips the received list.
    classify = make_finish_hook(Matcher(state.screening.matcher.live))

    def on_finished(session: Session, report: IntakeReport) -> None:
        classify(session, report)
        deconflict_on_finish(session, report)

    setattr(app.state, INTAKE_HOOK, on_finished)
