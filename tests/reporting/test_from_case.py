"""A report built from a real confirmed case: cases opened by the real screening service and
decided through the review decisions, on SQLite and PostgreSQL. fileViewedByEsp must follow
the audit log exactly; hashes and IP events come from what the platform first sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.review.review_env import SUBMITTER, ReviewEnv, review_env
from vigil.core.settings import ReviewSettings
from vigil.reporting.cybertipline.errors import ReportRefused
from vigil.reporting.cybertipline.from_case import build_case_report
from vigil.reporting.cybertipline.reporter import ReporterDetails
from vigil.reporting.cybertipline.schema import safe_parse, validate
from vigil.review.decisions import classify_item, decide, set_incident_type
from vigil.review.exposure import record_reveal
from vigil.screening.submission import Submission, UploadContext
from vigil.store import Database
from vigil.store.models import RecordSource, Verdict
from vigil.store.shared.vocabulary import INCIDENT_TYPES

SETTINGS = ReviewSettings()
UNLISTED = 8  # a corpus image on no list
REPORTER = ReporterDetails(
    company_name="Example Social",
    contact_name="Sam Safety",
    contact_email="safety@example.org",
    platform="Example Social",
)
UPLOADED = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
SEEN = datetime(2024, 3, 1, 9, 59, 30, tzinfo=UTC)
LATER = datetime(2024, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[ReviewEnv]:
    with review_env(database, tmp_path, corpus_images) as made:
        yield made


def run(env: ReviewEnv, function, *args, **kwargs):  # type: ignore[no-untyped-def]
    with env.database.transaction(write=True) as session:
        return function(session, *args, **kwargs)


def build(env: ReviewEnv, case_id: str, **kwargs):  # type: ignore[no-untyped-def]
    with env.database.transaction() as session:
        return build_case_report(session, case_id, reporter=REPORTER, **kwargs)


def known_upload(env: ReviewEnv) -> tuple[str, int, str]:
    """Listed material, uploaded publicly: confirmed from the list without anyone seeing it."""
    context = UploadContext(
        ip_address="203.0.113.7",
        port=443,
        ip_seen_at=SEEN,
        uploaded_at=UPLOADED,
        email="user@example.net",
        screen_name="sunny",
        visibility="public",
    )
    outcome = env.service().screen_upload(
        Submission("c-known", "acct-9", context), env.images[0].read_bytes(), submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.MATCH
    case_id, item_id = env.case_of(outcome.record_id)
    return case_id, item_id, str(outcome.record_id)


def reported_upload(env: ReviewEnv) -> tuple[str, int, str]:
    """New material flagged by a user, in a private conversation, from another address."""
    context = UploadContext(
        ip_address="2001:db8::5", ip_seen_at=LATER, visibility="private", conversation_id="conv-1"
    )
    outcome = env.service().flag(
        Submission("c-new", "acct-9", context),
        source=RecordSource.USER_REPORT,
        submitted_by=SUBMITTER,
        content=env.images[UNLISTED].read_bytes(),
    )
    case_id, item_id = env.case_of(outcome.record_id)
    return case_id, item_id, str(outcome.record_id)


def confirmed_case(env: ReviewEnv) -> tuple[str, int, int]:
    case_id, known, _ = known_upload(env)
    same, new, _ = reported_upload(env)
    assert same == case_id
    run(env, record_reveal, env.alice.id, new, actor=env.alice.actor)  # a person saw it
    run(env, classify_item, new, "A2", ["viral", "generativeAi"], actor=env.alice.actor)
    for item in (known, new):
        run(env, decide, case_id, "confirm", item_id=item, reviewer=env.alice, settings=SETTINGS)
    run(env, set_incident_type, case_id, INCIDENT_TYPES[0], actor=env.alice.actor)
    return case_id, known, new


def test_a_confirmed_case_becomes_a_valid_report(env: ReviewEnv) -> None:
    case_id, known, new = confirmed_case(env)
    document = build(env, case_id)
    assert validate(document.report_xml, root="report") == []
    root = safe_parse(document.report_xml)
    assert root.findtext("incidentSummary/incidentType") == INCIDENT_TYPES[0]
    assert root.findtext("incidentSummary/incidentDateTime") == "2024-03-01T10:00:00Z"
    assert root.find("incidentSummary/escalateToHighPriority") is None
    assert root.findtext("reporter/reportingPerson/email") == "safety@example.org"
    [user] = root.findall("personOrUserReported")
    assert user.findtext("espIdentifier") == "acct-9"
    assert user.findtext("screenName") == "sunny"
    assert user.findtext("personOrUserReportedPerson/email") == "user@example.net"
    assert [f.item_id for f in document.files] == [known, new]
    for each in document.files:
        assert validate(each.details_xml(4564654, f"file{each.item_id}"), root="fileDetails") == []


def test_file_viewed_by_esp_only_for_the_revealed_file(env: ReviewEnv) -> None:
    case_id, known, new = confirmed_case(env)
    files = {f.item_id: f for f in build(env, case_id).files}
    assert (files[known].viewed_by_esp, files[new].viewed_by_esp) == (False, True)
    known_xml = safe_parse(files[known].details_xml(1, "a"))
    new_xml = safe_parse(files[new].details_xml(1, "b"))
    assert known_xml.findtext("fileViewedByEsp") == "false"
    assert new_xml.findtext("fileViewedByEsp") == "true"


def test_a_reveal_counted_without_an_audit_record_does_not_claim_a_view(env: ReviewEnv) -> None:
    case_id, item_id, _ = known_upload(env)
    run(env, record_reveal, env.alice.id, item_id)  # counted, but no MEDIA_VIEWED record
    run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    [file] = build(env, case_id, incident_type=INCIDENT_TYPES[3]).files
    assert file.viewed_by_esp is False


def test_hashes_classification_and_annotations_as_first_received(env: ReviewEnv) -> None:
    case_id, known, new = confirmed_case(env)
    files = {f.item_id: f for f in build(env, case_id).files}
    for item_id, image in ((known, 0), (new, UNLISTED)):
        expected = env.fingerprint(image)
        file = files[item_id]
        assert (file.sha256, file.md5) == (expected.sha256, expected.md5)
        hashes = {
            h.get("hashType"): h.text
            for h in safe_parse(file.details_xml(1, "f")).findall("originalFileHash")
        }
        assert hashes == {"MD5": expected.md5, "SHA1": expected.sha1, "SHA256": expected.sha256}
    new_xml = safe_parse(files[new].details_xml(1, "f"))
    assert new_xml.findtext("industryClassification") == "A2"
    assert [c.tag for c in new_xml.find("fileAnnotations")] == ["viral", "generativeAi"]
    assert new_xml.findtext("publiclyAvailable") == "false"
    assert new_xml.findtext("originalFileName").startswith("c-new")
    assert new_xml.findtext("additionalInfo") == "Shared in conversation conv-1."
    known_xml = safe_parse(files[known].details_xml(1, "f"))
    assert known_xml.findtext("industryClassification") == "A1"  # inherited from the list
    assert known_xml.find("fileAnnotations") is None
    assert known_xml.findtext("publiclyAvailable") == "true"
    assert known_xml.findtext("uploadedToEspTimestamp") == "2024-03-01T10:00:00Z"


def test_ip_capture_events_from_the_upload_context(env: ReviewEnv) -> None:
    case_id, known, _ = confirmed_case(env)
    root = safe_parse(build(env, case_id).report_xml)
    events = [
        (
            e.findtext("ipAddress"),
            e.findtext("eventName"),
            e.findtext("dateTime"),
            e.findtext("port"),
        )
        for e in root.iter("ipCaptureEvent")
    ]
    assert events == [
        ("203.0.113.7", "Upload", "2024-03-01T09:59:30Z", "443"),
        ("2001:db8::5", None, "2024-03-02T08:00:00Z", None),
    ]
    files = {f.item_id: f for f in build(env, case_id).files}
    event = safe_parse(files[known].details_xml(1, "f")).find("ipCaptureEvent")
    assert (event.findtext("ipAddress"), event.findtext("eventName")) == ("203.0.113.7", "Upload")


def test_the_same_address_port_and_time_is_one_event(env: ReviewEnv) -> None:
    context = UploadContext(ip_address="198.51.100.1", ip_seen_at=SEEN)
    items = []
    for content, image in (("a", UNLISTED), ("b", UNLISTED + 1)):
        outcome = env.service().flag(
            Submission(content, "acct-2", context),
            source=RecordSource.USER_REPORT,
            submitted_by=SUBMITTER,
            content=env.images[image].read_bytes(),
        )
        case_id, item_id = env.case_of(outcome.record_id)
        items.append(item_id)
        run(env, classify_item, item_id, "B1", actor=env.alice.actor)
    with pytest.raises(ReportRefused, match="open"):  # one item still pending
        build(env, case_id, incident_type=INCIDENT_TYPES[0])
    for item_id in items:
        run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    document = build(env, case_id, incident_type=INCIDENT_TYPES[0])
    events = list(safe_parse(document.report_xml).iter("ipCaptureEvent"))
    assert [(e.findtext("ipAddress"), e.findtext("eventName")) for e in events] == [
        ("198.51.100.1", None)
    ]
    assert len(document.files) == 2


def test_an_escalated_case_asks_for_high_priority(env: ReviewEnv) -> None:
    case_id, item_id, _ = known_upload(env)
    run(
        env,
        decide,
        case_id,
        "escalate",
        reviewer=env.alice,
        settings=SETTINGS,
        reason="The account says it meets the child on Friday.",
        imminent_danger=True,
    )
    run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    root = safe_parse(build(env, case_id, incident_type=INCIDENT_TYPES[3]).report_xml)
    assert root.findtext("incidentSummary/escalateToHighPriority") == (
        "A child may be in imminent danger. The account says it meets the child on Friday."
    )


NOTE = "The uploader wrote that the child is with him this weekend."


def escalated_at_intake(env: ReviewEnv) -> tuple[str, int]:
    """Listed material the platform flags as urgent, with its note: the flag escalates the
    case as it is created."""
    outcome = env.service().flag(
        Submission("c-urgent", "acct-7", UploadContext(visibility="private")),
        source=RecordSource.ESCALATION,
        submitted_by=SUBMITTER,
        content=env.images[0].read_bytes(),
        note=NOTE,
    )
    case_id, item_id = env.case_of(outcome.record_id)
    assert env.case(case_id).escalated
    return case_id, item_id


def _confirmed_high_priority(env: ReviewEnv, case_id: str, item_id: int) -> str | None:
    run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    root = safe_parse(build(env, case_id, incident_type=INCIDENT_TYPES[3]).report_xml)
    return root.findtext("incidentSummary/escalateToHighPriority")


def test_an_escalation_at_intake_says_what_escalated_it(env: ReviewEnv) -> None:
    """Not a system sentence: the flag with its note, the rule that fired and the list
    entry's classification, stored on the case and sent in the report."""
    case_id, item_id = escalated_at_intake(env)
    stored = env.case(case_id).escalation_reason
    sent = _confirmed_high_priority(env, case_id, item_id)
    assert sent == stored
    assert sent == (
        "Flagged as urgent by the platform when received (content ID c-urgent), with the "
        f'note: "{NOTE}". Screening: sha256 digest on list ncmec. '
        "List ncmec entry case-1 classifies it as A1."
    )
    assert SUBMITTER not in sent  # who inside Vigil sent the flag means nothing to NCMEC


def test_a_reviewers_reason_replaces_the_intake_one(env: ReviewEnv) -> None:
    case_id, item_id = escalated_at_intake(env)
    words = "The account asked to meet the child tonight."
    run(env, decide, case_id, "escalate", reviewer=env.alice, settings=SETTINGS, reason=words)
    assert env.case(case_id).escalation_reason == words
    assert _confirmed_high_priority(env, case_id, item_id) == words


def test_a_second_flag_keeps_the_first_reason(env: ReviewEnv) -> None:
    case_id, _ = escalated_at_intake(env)
    first = env.case(case_id).escalation_reason
    again = env.service().flag(
        Submission("c-urgent-2", "acct-7", UploadContext(visibility="private")),
        source=RecordSource.ESCALATION,
        submitted_by=SUBMITTER,
        content=env.images[UNLISTED].read_bytes(),
    )
    assert env.case_of(again.record_id)[0] == case_id
    assert env.case(case_id).escalation_reason == first


def test_a_de_escalated_case_asks_for_no_high_priority(env: ReviewEnv) -> None:
    case_id, item_id, _ = known_upload(env)
    for kind, reason in (("escalate", "looked recent"), ("de_escalate", "an old, known image")):
        run(env, decide, case_id, kind, reviewer=env.alice, settings=SETTINGS, reason=reason)
    run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    root = safe_parse(build(env, case_id, incident_type=INCIDENT_TYPES[3]).report_xml)
    assert root.find("incidentSummary/escalateToHighPriority") is None


# --- refusals ------------------------------------------------------------------------------


def test_an_open_case_is_refused(env: ReviewEnv) -> None:
    case_id, _, _ = known_upload(env)
    with pytest.raises(ReportRefused, match="only a confirmed case"):
        build(env, case_id, incident_type=INCIDENT_TYPES[0])


def test_a_dismissed_case_is_refused(env: ReviewEnv) -> None:
    case_id, item_id, _ = reported_upload(env)
    run(
        env,
        decide,
        case_id,
        "false_positive",
        item_id=item_id,
        reviewer=env.alice,
        settings=SETTINGS,
        reason="a landscape",
    )
    with pytest.raises(ReportRefused, match="dismissed"):
        build(env, case_id, incident_type=INCIDENT_TYPES[0])


def test_a_case_without_an_incident_type_is_refused(env: ReviewEnv) -> None:
    case_id, item_id, _ = known_upload(env)
    run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    with pytest.raises(ReportRefused, match="incident type is missing"):
        build(env, case_id)
    with pytest.raises(ReportRefused, match="eight"):
        build(env, case_id, incident_type="Something else")
    assert (
        build(env, case_id, incident_type=INCIDENT_TYPES[5]).report.incident_summary.incident_type
        == INCIDENT_TYPES[5]
    )


@pytest.mark.parametrize("case_id", ["", "x" * 40, "0" * 32])
def test_unknown_cases_are_refused(env: ReviewEnv, case_id: str) -> None:
    with pytest.raises(ReportRefused, match="no such case"):
        build(env, case_id, incident_type=INCIDENT_TYPES[0])


def test_reporter_details_are_checked() -> None:
    with pytest.raises(ReportRefused, match="contact_email"):
        ReporterDetails(company_name="X", contact_name="Y", contact_email="nobody")
    with pytest.raises(ReportRefused, match="company_name"):
        ReporterDetails(company_name="", contact_name="Y", contact_email="a@b.org")


def test_a_report_breaking_a_documented_rule_is_refused(env: ReviewEnv) -> None:
    """Appendix A: an <ipCaptureEvent> <dateTime> must be in the past. The builder checks its
    documents with the rules a clearinghouse refuses (report_rules), not only the XSD."""
    context = UploadContext(ip_address="198.51.100.1", ip_seen_at=datetime(2999, 1, 1, tzinfo=UTC))
    outcome = env.service().flag(
        Submission("future", "acct-3", context),
        source=RecordSource.USER_REPORT,
        submitted_by=SUBMITTER,
        content=env.images[UNLISTED].read_bytes(),
    )
    case_id, item_id = env.case_of(outcome.record_id)
    run(env, classify_item, item_id, "B1", actor=env.alice.actor)
    run(env, decide, case_id, "confirm", item_id=item_id, reviewer=env.alice, settings=SETTINGS)
    with pytest.raises(ReportRefused, match=r"ipCaptureEvent/dateTime: must be in the past"):
        build(env, case_id, incident_type=INCIDENT_TYPES[0])
