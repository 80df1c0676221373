"""Whether the clearinghouse intake can take reports: report.xsd loads, compiles and accepts a
known-good report, and the documented rules the schema cannot express run over that report
without a complaint. Start-up checks this (``vigil serve`` with [clearinghouse] enabled) and
/health/ready asks again, so a process that could not load them is seen as not ready instead
of answering every /submit with 500 (issue 14). A failure is logged and never remembered:
each check, and each request, tries again.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from vigil.reporting.cybertipline import report_rules, schema

log = logging.getLogger(__name__)

# Short names of what is not ready: safe to show anyone, they name no internals.
SCHEMA = "report schema"
RULES = "report rules"

_rules_checked = threading.Event()  # set once the rules passed; they cannot break later


def intake_not_ready() -> list[str]:
    """What the intake lacks, as short names; empty when it is ready."""
    try:
        schema.report_schema()
    except schema.SchemaUnavailable:
        return [SCHEMA, RULES]  # the rules read the schema's enumerations too
    if not _rules_checked.is_set():
        if not _rules_hold():
            return [RULES]
        _rules_checked.set()
    return []


def prepare_intake() -> bool:
    """Load and check everything the intake needs now rather than on the first report;
    logs what is missing. True when ready."""
    missing = intake_not_ready()
    if missing:
        log.error(
            "the clearinghouse intake is NOT ready (%s): /health/ready answers 503 "
            "and every request tries to load it again",
            ", ".join(missing),
        )
    return not missing


def _rules_hold() -> bool:
    try:
        complaints = report_rules.document_problems(
            schema.KNOWN_GOOD_REPORT, report_rules.Checking(now=datetime.now(UTC))
        )
        states = report_rules.us_states()
    except Exception:
        log.exception("the documented report rules cannot run")
        return False
    if complaints or not states:
        log.error(
            "the documented report rules refuse a known-good report: %s",
            complaints[:3] or "no US states in report.xsd",
        )
        return False
    return True
