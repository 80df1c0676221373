"""The typed reader of received documents: what Vigil's own writer wrote reads back equal
(generated reports, a report built from a real confirmed case, the documentation's
examples), the parsed form and the raw XML read alike, hostile and malformed documents read
as far as they can and never crash, roles are typed, and no other code in Vigil parses a
received report."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from tests.clearinghouse import documented
from tests.reporting.test_cybertipline_xml import EXAMPLES, file_details, reports
from tests.reporting.test_from_case import REPORTER, confirmed_case, env  # noqa: F401
from tests.review.review_env import ReviewEnv
from vigil.core.xml import UnsafeXml, safe_parse
from vigil.reporting.cybertipline import model
from vigil.reporting.cybertipline.from_case import build_case_report
from vigil.reporting.cybertipline.model import (
    AssociatedAccount,
    FileDetailsModel,
    IpCaptureEvent,
    Person,
    ReportModel,
    WebPageIncident,
)
from vigil.reporting.cybertipline.received import (
    EMPTY_REPORT,
    INCIDENT_TYPE_PATH,
    MAX_REPEATED,
    EntityRole,
    ReceivedReport,
    as_dict,
    flag_names,
    leaves,
    nodes,
    read_document,
    read_file_details,
    read_report,
    role_of,
    role_of_context,
)
from vigil.reporting.cybertipline.xml_writer import file_details_xml, report_xml

SOURCE = Path(__file__).resolve().parents[2] / "src" / "vigil"


def _plain(value: Any) -> Any:
    """A model as nested dicts, strings trimmed: XML text is read without its surrounding
    white space, and the reader's classes may differ from the writer's where a received
    report may be short (the incident summary)."""
    if dataclasses.is_dataclass(value):
        return {
            "class": type(value).__name__.removeprefix("Received").removesuffix("Model"),
            **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, tuple):
        return [_plain(each) for each in value]
    return value.strip() if isinstance(value, str) else value


# --- round trips with Vigil's own writer ---------------------------------------------------


@EXAMPLES
@given(reports)
def test_a_written_report_reads_back_equal(written: ReportModel) -> None:
    raw = report_xml(written)
    received = read_report(None, raw)
    assert _plain(received) == _plain(written)
    assert read_report(as_dict(safe_parse(raw))) == received  # the stored parsed form


@EXAMPLES
@given(file_details)
def test_written_file_details_read_back_equal(written: FileDetailsModel) -> None:
    raw = file_details_xml(written)
    assert _plain(read_file_details(None, raw)) == _plain(written)
    assert read_file_details(as_dict(safe_parse(raw))) == read_file_details(raw)


def test_a_report_built_from_a_confirmed_case_reads_back(env: ReviewEnv) -> None:  # noqa: F811
    case_id, _known, _new = confirmed_case(env)
    with env.database.transaction() as session:
        document = build_case_report(session, case_id, reporter=REPORTER)
    received = read_report(None, document.report_xml)
    assert _plain(received) == _plain(document.report)
    [user] = received.person_or_user_reported
    assert (user.esp_identifier, user.screen_name) == ("acct-9", "sunny")
    assert user.person is not None
    assert [e.address for e in user.person.email] == ["user@example.net"]
    assert {event.ip_address for event in user.ip_capture_event} >= {"203.0.113.7"}
    for each in document.files:
        details = read_file_details(each.details_xml(4564654, "f1"))
        assert (details.report_id, details.file_id) == (4564654, "f1")
        assert details.file_viewed_by_esp == each.viewed_by_esp


# --- the documentation's examples ----------------------------------------------------------


def test_the_documented_report_reads() -> None:
    report = read_report(None, documented.report_xml())
    summary = report.incident_summary
    assert summary.incident_type == "Child Pornography (possession, manufacture, and distribution)"
    assert summary.incident_date_time == datetime(2012, 10, 15, 15, tzinfo=UTC)
    assert flag_names(summary.report_annotations) == [
        "sextortion",
        "csamSolicitation",
        "minorToMinorInteraction",
        "spam",
        "sadisticOnlineExploitation",
    ]
    [internet] = report.internet_details
    assert isinstance(internet.incident, WebPageIncident)
    assert internet.incident.url == ("http://badsite.com/baduri.html",)
    assert report.reporter is not None
    assert [e.address for e in report.reporter.reporting_person.email] == ["jsmith@example.com"]


def test_the_documented_file_details_read() -> None:
    details = read_file_details(
        documented.file_details_xml(documented.EXAMPLE_REPORT_ID, documented.EXAMPLE_FILE_ID)
    )
    assert details.report_id == int(documented.EXAMPLE_REPORT_ID)
    assert details.file_id == documented.EXAMPLE_FILE_ID
    assert details.original_file_name == "mypic.jpg"
    assert details.ip_capture_event == IpCaptureEvent(
        ip_address="63.116.246.17",
        event_name="Upload",
        date_time=datetime(2011, 10, 31, 12, tzinfo=UTC),
    )
    assert read_document(documented.file_details_xml("1", "x")) == read_file_details(
        documented.file_details_xml("1", "x")
    )


def test_leaves_are_what_an_analyst_reads() -> None:
    report = read_report(
        {
            "report": {
                "incidentSummary": {
                    "incidentType": "T",
                    "incidentDateTime": "2024-05-01T14:00:00+02:00",
                },
                "victim": {
                    "victimPerson": {"email": {"@type": "Home", "#text": "kid@example.org"}}
                },
            }
        }
    )
    assert list(leaves(report)) == [
        ("incidentSummary / incidentType", "T"),
        ("incidentSummary / incidentDateTime", "2024-05-01T12:00:00Z"),
        ("victim / victimPerson / email", "kid@example.org"),
        ("victim / victimPerson / email / @type", "Home"),
    ]


# --- hostile and malformed documents -------------------------------------------------------


@pytest.mark.parametrize(
    "parsed",
    [
        None,
        {},
        {"report": ""},
        {"report": []},
        {"report": 42},
        {"report": {"incidentSummary": None}},
        ["report"],
    ],
)
def test_a_missing_or_empty_document_reads_as_an_empty_report(parsed: Any) -> None:
    assert read_report(parsed) == EMPTY_REPORT
    assert read_report(parsed).incident_summary.incident_type is None


def test_values_of_the_wrong_type_are_absent_not_guessed() -> None:
    report = read_report(
        {
            "report": {
                "incidentSummary": {
                    "incidentType": {"nested": "x"},
                    "incidentDateTime": "yesterday",
                    "reportAnnotations": {"sextortion": "false", "spam": ""},
                },
                "personOrUserReported": {
                    "personOrUserReportedPerson": {"age": "old", "dateOfBirth": "2010-02-30"},
                    "ipCaptureEvent": [
                        {
                            "ipAddress": "192.0.2.1",
                            "port": "http",
                            "possibleProxy": "maybe",
                            "eventName": "Hacked",
                            "dateTime": "9" * 500,
                        },
                        {"port": "80"},
                    ],
                    "priorCTReports": ["12", "twelve", "1" * 40],
                },
                "victim": {"victimPerson": {"age": "12", "dateOfBirth": "2012-02-29"}},
            }
        }
    )
    summary = report.incident_summary
    assert (summary.incident_type, summary.incident_date_time) == ("", None)
    assert flag_names(summary.report_annotations) == ["spam"]  # present means set
    [user] = report.person_or_user_reported
    assert user.person == Person()
    assert user.ip_capture_event == (
        IpCaptureEvent(ip_address="192.0.2.1"),
        IpCaptureEvent(ip_address="", port=80),
    )
    assert user.prior_ct_reports == (12,)
    [victim] = report.victim
    assert (victim.person.age, victim.person.date_of_birth) == (12, date(2012, 2, 29))


def test_required_values_missing() -> None:
    report = read_report(
        {
            "report": {
                "victim": {"schoolName": "x"},  # no victimPerson: read as an empty person
                "personOrUserReported": {
                    "associatedAccount": [
                        {"screenName": "no type"},
                        {"@type": "Linked", "screenName": "typed"},
                    ]
                },
                "batchedReport": {"@reason": "SOMETHING_ELSE"},
            }
        }
    )
    assert report.victim[0].person == Person()
    assert report.person_or_user_reported[0].associated_account == (
        AssociatedAccount(type="Linked", screen_name="typed"),
    )  # the untyped one is left out
    assert report.batched_report is None  # not a reason the schema knows


def test_unknown_elements_and_attributes_are_ignored() -> None:
    raw = (
        b"<report xmlns:x='urn:x' x:extra='1'><incidentSummary><incidentType>T"
        b"</incidentType><madeUp>secret</madeUp></incidentSummary><unknown><screenName>"
        b"hidden</screenName></unknown><?pi x?><!-- note --></report>"
    )
    report = read_report(None, raw)
    assert report == ReceivedReport(
        incident_summary=dataclasses.replace(EMPTY_REPORT.incident_summary, incident_type="T")
    )
    assert all("hidden" not in text and "secret" not in text for _, text in leaves(report))


def test_repeated_elements_are_bounded() -> None:
    urls = "".join(f"<url>https://example.org/{i}</url>" for i in range(MAX_REPEATED + 500))
    raw = (
        f"<report><internetDetails><webPageIncident>{urls}</webPageIncident>"
        "</internetDetails></report>".encode()
    )
    [internet] = read_report(raw).internet_details
    assert isinstance(internet.incident, WebPageIncident)
    assert len(internet.incident.url) == MAX_REPEATED


def test_huge_values() -> None:
    text = "x" * 1_000_000
    report = read_report(
        {
            "report": {
                "incidentSummary": {"incidentType": text},
                "victim": {"victimPerson": {"age": "9" * 5000}},
            }
        }
    )
    assert report.incident_summary.incident_type == text  # text is kept: callers cut it
    assert report.victim[0].person.age is None  # a number that long is no number


@pytest.mark.parametrize(
    "raw",
    [
        b'<!DOCTYPE r [<!ENTITY a "aaaa">]><report><screenName>&a;</screenName></report>',
        b"<report><incidentSummary>unclosed</report>",
        b"",
        b"\xff\xfe not xml",
    ],
)
def test_hostile_xml_reads_as_empty_and_is_logged(
    raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vigil.reporting.cybertipline.received"):
        assert read_report(None, raw) == EMPTY_REPORT
    assert raw == b"" or "cannot be read" in caplog.text
    if raw:
        with pytest.raises(UnsafeXml):
            read_document(raw)


def test_the_parsed_form_is_preferred_and_the_raw_xml_stands_in() -> None:
    raw = documented.report_xml()
    parsed = {"report": {"incidentSummary": {"incidentType": "Stored"}}}
    assert read_report(parsed, raw).incident_summary.incident_type == "Stored"
    assert read_report({}, raw) == read_report(None, raw) == read_report(raw)


# --- roles ---------------------------------------------------------------------------------


def test_roles_of_paths_and_stored_contexts() -> None:
    assert (
        role_of(("report", "personOrUserReported", "ipCaptureEvent")) is EntityRole.REPORTED_PERSON
    )
    assert role_of(("report", "victim", "victimPerson", "phone")) is EntityRole.VICTIM
    assert role_of(("fileDetails", "ipCaptureEvent")) is EntityRole.FILE
    assert role_of(("report", "incidentSummary")) is None
    assert (
        role_of_context("report/personOrUserReported/associatedAccount/ipCaptureEvent")
        is EntityRole.REPORTED_PERSON
    )
    assert role_of_context("fileDetails:abc/fileDetails/ipCaptureEvent") is EntityRole.FILE
    assert role_of_context("report/intendedRecipient/screenName") is EntityRole.INTENDED_RECIPIENT
    assert role_of_context(None) is role_of_context("") is role_of_context("x/y") is None


def test_nodes_carry_their_paths_in_document_order() -> None:
    report = read_report(None, documented.report_xml())
    paths = ["/".join(node.path) for node in nodes(report)]
    assert (
        paths.index("report/incidentSummary/incidentType")
        < paths.index("report/internetDetails/webPageIncident/url")
        < paths.index("report/reporter/reportingPerson/email")
    )


def test_the_incident_type_path_names_the_stored_form() -> None:
    stored = as_dict(safe_parse(documented.report_xml()))
    value: Any = stored
    for step in INCIDENT_TYPE_PATH:
        value = value[step]
    assert value == read_report(stored).incident_summary.incident_type


# --- one reader ----------------------------------------------------------------------------


def _camel_names() -> set[str]:
    """Every element and attribute name the report model declares that no ordinary
    identifier would use (camelCase). Flags are left out: their names are the annotation
    vocabulary the rest of Vigil speaks."""
    names: set[str] = set()
    for cls in vars(model).values():
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            for spec in dataclasses.fields(cls):
                for kind in ("element", "attribute"):
                    name = spec.metadata.get(kind)
                    if isinstance(name, str) and re.search(r"[a-z][A-Z]", name):
                        names.add(name)
            names.update(v for v in (spec.metadata.get("choice") or {}).values())
    return names


NAMES = "|".join(sorted(_camel_names(), key=len, reverse=True))
# An element's find/findall/xpath with a path written out; any findtext; any XML parsing.
PARSING = re.compile(
    r"findtext\(|\.(?:find|findall|iterfind|xpath)\(\s*f?[\"']"
    r"|etree\.fromstring\(|XMLParser\(|safe_parse\(|(?<![.\w])as_dict\((?!self)"
)
DICT_WALKING = re.compile(
    rf"(?:\.get\(|\[)\s*[\"'](?:{NAMES})[\"']|[\"'](?:{NAMES})[\"']\s+"
    rf"(?:not\s+)?in\b|[\"'](?:{NAMES})/"
)
# Modules that parse XML for reasons other than reading a received report.
PARSERS_ALLOWED = {
    "core/xml.py": "the hardened parser itself",
    "clearinghouse/intake.py": "receipt: validates the document and stores its parsed form",
    "reporting/sending.py": "Vigil's own outgoing file details, given their ids",
    "exchanges/ncmec.py": "NCMEC Hash Sharing's status, members and feedback-reason answers",
    "lists/formats/ncmec_xml.py": "NCMEC Hash Sharing's pages of entries (hash lists)",
}


def _offending(pattern: re.Pattern[str], allowed: dict[str, str]) -> list[str]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if relative.startswith("reporting/cybertipline/") or relative in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_the_checks_recognise_the_old_ways_of_reading() -> None:
    assert {
        "incidentSummary",
        "personOrUserReported",
        "fileAnnotations",
        "ipCaptureEvent",
        "webPageIncident",
    } <= _camel_names()
    for line in [
        'summary.get("incidentType")',
        'body["personOrUserReported"]',
        '"personOrUserReported" in text.split("/")',
        'xpath("personOrUserReported/screenName")',
        '"incidentSummary/incidentType"',
    ]:
        assert DICT_WALKING.search(line), line
    for line in ['root.findtext("reportId")', "etree.fromstring(raw, parser)", "as_dict(root)"]:
        assert PARSING.search(line), line
    for line in ["reason.as_dict()", "def as_dict(self)", "_INLINE_SCRIPT.findall(page)"]:
        assert not PARSING.search(line), line


def test_no_other_code_walks_a_received_report() -> None:
    assert _offending(DICT_WALKING, {}) == []


def test_no_other_code_parses_a_received_report() -> None:
    assert _offending(PARSING, PARSERS_ALLOWED) == []
