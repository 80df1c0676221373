"""A clearinghouse that cannot load its report schema says so on /health/ready, and recovers
without a restart once the schema loads (issue 14, item 2)."""

from __future__ import annotations

import logging

import pytest

from tests.clearinghouse.conftest import Intake
from tests.clearinghouse.documented import report_xml
from vigil.reporting.cybertipline import schema

SECRET_DETAIL = "/srv/secret-mount/report.xsd vanished"


@pytest.fixture
def schema_broken(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """A process whose schema fails to load until ``broken`` is set to False."""
    state = {"broken": True}
    compile_schema = schema._compile_schema

    def flaky() -> object:
        if state["broken"]:
            raise OSError(SECRET_DETAIL)
        return compile_schema()

    monkeypatch.setattr(
        schema, "report_schema", type(schema.report_schema)("the report schema", flaky)
    )
    return state


def test_ready_when_the_intake_loaded(intake: Intake) -> None:
    answer = intake.client.get("/health/ready")
    assert (answer.status_code, answer.json()) == (200, {"status": "ready"})


def test_not_ready_while_the_schema_cannot_load(
    caplog: pytest.LogCaptureFixture, schema_broken: dict[str, bool], intake: Intake
) -> None:
    started = "\n".join(
        r.getMessage() for r in caplog.get_records("setup") if r.levelno >= logging.ERROR
    )
    assert "clearinghouse intake is NOT ready" in started
    assert intake.client.get("/health").status_code == 200  # alive, but ...
    answer = intake.client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json()["error"]["details"]["not_ready"] == [
        "clearinghouse intake: report schema",
        "clearinghouse intake: report rules",
    ]
    assert "secret" not in answer.text and "OSError" not in answer.text
    refused = intake.post_xml("submit", report_xml())
    assert refused.status_code == 500 and b"secret" not in refused.content

    schema_broken["broken"] = False  # the next use loads it: no restart needed
    assert intake.post_xml("submit", report_xml()).status_code == 200
    assert intake.client.get("/health/ready").status_code == 200
