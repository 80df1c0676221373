"""The API against its own OpenAPI document (schemathesis, in-process over ASGI): for inputs
generated from the document, valid and not, no answer is a server error, and every answer's
status, content type and body are ones the document declares. Bounded and derandomized, so a
failure is reproducible and the run takes a fixed time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from tests.api.service import PASSWORD, service_settings
from vigil.http.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from vigil.server.app import create_app
from vigil.store import open_database, upgrade_database
from vigil.store.accounts import create_user, start_session
from vigil.store.models import Role

pytestmark = pytest.mark.slow
EXAMPLES = 10  # per operation and mode: reaches the documented refusals, bounded in time
# Ends the caller's own session, after which every other operation would only see 401s.
NOT_RUN = {"POST /v1/auth/sign-out"}
# Not checked: that every schema-valid request is accepted. Some refusals depend on state or
# the world, not on the request's shape (an unknown cursor, a wrong TOTP code, a webhook
# host that resolves to a private address): they are documented 404/409/422 answers.


@pytest.fixture(scope="module")
def caller(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, str]]:
    """The application on a fresh SQLite database, and a signed-in person holding every role
    but an agency's (the widest authorized caller; refusals to narrower ones are the
    document's 403s)."""
    root: Path = tmp_path_factory.mktemp("conformance")
    config = service_settings(
        f"sqlite:///{root / 'vigil.db'}", root / "data", clearinghouse={"enabled": True}
    )
    upgrade_database(config)
    database = open_database(config)
    with database.transaction(write=True) as session:
        person = create_user(
            session,
            "conformance",
            PASSWORD,
            [role for role in Role if role is not Role.AGENCY],
            actor="test",
        )
        _, token, csrf = start_session(session, person)
    database.dispose()
    headers = {"Cookie": f"{SESSION_COOKIE}={token}; {CSRF_COOKIE}={csrf}", CSRF_HEADER: csrf}
    return create_app(config, background_jobs=False), headers


def _failures(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> list[str]:
    found: list[str] = []

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
        pass
    except (Exception, BaseExceptionGroup) as failure:  # every finding, not only the first
        found.append(f"{operation.label} ({mode.value}): {_summary(failure)}")
    return found


def _summary(failure: BaseException) -> str:
    """The finding and the answer, without the reproduction command (it holds the session)."""
    return str(failure).split("Reproduce with:")[0].strip()


def test_the_api_keeps_to_its_document(caller: tuple[Any, dict[str, str]]) -> None:
    app, headers = caller
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=headers)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30  # the whole API, not an empty document
    for operation in (op for op in operations if op.label not in NOT_RUN):
        for mode in GenerationMode:
            failures += _failures(operation, mode, headers)
    assert not failures, "\n\n".join(failures)
