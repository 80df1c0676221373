"""Batched viral / potential-meme reports (Appendix E): one file, many accounts, and every
documented restriction refused with its name."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from vigil.reporting.cybertipline.batched import (
    MAX_ACCOUNTS,
    BatchedFile,
    BatchedReportDocument,
    batched_problems,
    build_batched_report,
)
from vigil.reporting.cybertipline.errors import ReportRefused
from vigil.reporting.cybertipline.model import (
    FileAnnotations,
    InternetDetails,
    IpCaptureEvent,
    OriginalFileHash,
    PersonOrUserReported,
    Victim,
    WebPageIncident,
)
from vigil.reporting.cybertipline.model import Person as PersonModel
from vigil.reporting.cybertipline.reporter import ReporterDetails
from vigil.reporting.cybertipline.schema import safe_parse, validate
from vigil.store.shared.vocabulary import FILE_ANNOTATIONS, INCIDENT_TYPES

REPORTER = ReporterDetails(
    company_name="Example Social", contact_name="Sam Safety", contact_email="safety@example.org"
)
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ACCOUNTS = ["acct-1", "acct-2", "acct-3"]


def batched(
    accounts: list[str] = ACCOUNTS, files: list[BatchedFile] | None = None
) -> BatchedReportDocument:
    return build_batched_report(
        reporter=REPORTER,
        incident_type=INCIDENT_TYPES[0],
        incident_date_time=WHEN,
        account_ids=accounts,
        files=files if files is not None else [BatchedFile(annotations=["viral"])],
    )


def test_one_file_many_accounts_is_a_valid_batched_report() -> None:
    document = batched(
        files=[
            BatchedFile(
                annotations=["viral", "potentialMeme"],
                industry_classification="B2",
                file_viewed_by_esp=False,
            )
        ]
    )
    assert validate(document.report_xml, root="report") == []
    root = safe_parse(document.report_xml)
    assert root.find("batchedReport").get("reason") == "VIRAL_POTENTIAL_MEME"
    users = root.findall("personOrUserReported")
    assert [[c.tag for c in u] for u in users] == [["espIdentifier"]] * 3
    assert [u.findtext("espIdentifier") for u in users] == ACCOUNTS
    details = safe_parse(document.details_xml(77, "f1"))
    assert validate(document.details_xml(77, "f1"), root="fileDetails") == []
    assert [c.tag for c in details.find("fileAnnotations")] == ["potentialMeme", "viral"]
    assert details.findtext("industryClassification") == "B2"
    assert details.findtext("fileRelevance") == "Reported"


def test_duplicate_accounts_are_named_once() -> None:
    root = safe_parse(batched(["a", "b", "a"]).report_xml)
    assert [u.findtext("espIdentifier") for u in root.findall("personOrUserReported")] == ["a", "b"]


@pytest.mark.parametrize("count", [0, 2])
def test_exactly_one_file(count: int) -> None:
    with pytest.raises(ReportRefused, match="exactly 1 uploaded file"):
        batched(files=[BatchedFile(annotations=["viral"])] * count)


def test_the_file_must_be_viral_or_a_potential_meme() -> None:
    with pytest.raises(ReportRefused, match="viral and/or potential meme"):
        batched(files=[BatchedFile(annotations=[])])


@pytest.mark.parametrize(
    "other", [a for a in FILE_ANNOTATIONS if a not in ("viral", "potentialMeme")]
)
def test_no_other_annotation_is_allowed(other: str) -> None:
    with pytest.raises(ReportRefused, match=f"fileAnnotations/{other} is not allowed"):
        batched(files=[BatchedFile(annotations=["viral", other])])


def test_file_relevance_must_be_reported() -> None:
    with pytest.raises(ReportRefused, match='fileRelevance must be "Reported"'):
        batched(files=[BatchedFile(annotations=["viral"], file_relevance="Supplemental Reported")])


@pytest.mark.parametrize("accounts", [[], [""], ["x" * 256], ["ok", 5]])
def test_accounts_are_required_and_bounded(accounts: list[str]) -> None:
    with pytest.raises(ReportRefused, match="account"):
        batched(accounts)


def test_too_many_accounts_are_refused() -> None:
    with pytest.raises(ReportRefused, match=str(MAX_ACCOUNTS)):
        batched([f"a{n}" for n in range(MAX_ACCOUNTS + 1)])


def test_an_unknown_incident_type_or_classification_is_refused() -> None:
    with pytest.raises(ReportRefused, match="incident type"):
        build_batched_report(
            reporter=REPORTER,
            incident_type="meme",
            incident_date_time=WHEN,
            account_ids=ACCOUNTS,
            files=[BatchedFile(annotations=["viral"])],
        )
    with pytest.raises(ReportRefused, match="industryClassification"):
        batched(files=[BatchedFile(annotations=["viral"], industry_classification="C1")])


# --- the checker names every forbidden element (for documents built elsewhere) -------------


def test_forbidden_report_elements_are_named() -> None:
    document = batched()
    report = replace(
        document.report,
        incident_summary=replace(
            document.report.incident_summary, escalate_to_high_priority="urgent"
        ),
        internet_details=(InternetDetails(incident=WebPageIncident()),),
        victim=(Victim(person=PersonModel(age=10)),),
        additional_info="note",
        person_or_user_reported=(PersonOrUserReported(esp_identifier="a", screen_name="s"),),
    )
    problems = " ".join(batched_problems(report, [document.file]))
    for path in (
        "escalateToHighPriority",
        "/report/internetDetails",
        "/report/victim",
        "/report/additionalInfo",
        "may only contain espIdentifier",
    ):
        assert path in problems
    assert "screenName" in problems


def test_forbidden_file_elements_are_named() -> None:
    document = batched()
    details = replace(
        document.file,
        original_file_name="x.jpg",
        location_of_file="https://x",
        original_file_hash=(OriginalFileHash(value="ab", hash_type="MD5"),),
        ip_capture_event=IpCaptureEvent(ip_address="192.0.2.1"),
        additional_info=("viral video",),
        potential_meme=True,
        file_annotations=FileAnnotations(infant=True),
    )
    problems = " ".join(batched_problems(document.report, [details]))
    for path in (
        "originalFileName",
        "locationOfFile",
        "originalFileHash",
        "ipCaptureEvent",
        "/fileDetails/additionalInfo",
        "/fileDetails/potentialMeme is not used",
        "fileAnnotations/infant",
        "viral and/or potential meme",
    ):
        assert path in problems
    assert "Only 1 uploaded file is allowed" in " ".join(
        batched_problems(document.report, [document.file, document.file])
    )


def test_a_report_without_the_batch_element_is_not_batched() -> None:
    document = batched()
    problems = batched_problems(replace(document.report, batched_report=None), [document.file])
    assert problems == ["/report/batchedReport with reason VIRAL_POTENTIAL_MEME is required."]
