"""One case as the CyberTipline documents a reporting company sends: the <report> for
/submit, each file's bytes for /upload and its <fileDetails> for /fileinfo. Written with
Vigil's own report model and XML writer, so they are what a real client produces.

A file's bytes are made up from its ref (no media): the same ref gives the same bytes and so
the same digests in every case that names it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from benchmarks.triage_cases.case import Account, Case, CaseFile
from vigil.reporting.cybertipline.model import (
    BatchedReport,
    ChatImIncident,
    Email,
    FileAnnotations,
    FileDetailsModel,
    IncidentSummary,
    InternetDetails,
    IpCaptureEvent,
    Person,
    PersonOrUserReported,
    Phone,
    ReportAnnotations,
    Reporter,
    ReportModel,
    Victim,
)
from vigil.reporting.cybertipline.xml_writer import file_details_xml, report_xml

_TAG_FIELDS = {
    "sextortion": "sextortion",
    "csamSolicitation": "csam_solicitation",
    "minorToMinorInteraction": "minor_to_minor_interaction",
    "spam": "spam",
    "sadisticOnlineExploitation": "sadistic_online_exploitation",
}


def incident_time(case: Case, now: datetime) -> datetime:
    return now - timedelta(hours=case.hours_ago)


def file_bytes(file: CaseFile) -> bytes:
    """Made-up content: nobody has a file behind these digests."""
    return f"vigil independent triage set, made-up file {file.ref}\n".encode()


def company_username(company: str) -> str:
    return "bench-" + re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-")


def report_document(case: Case, now: datetime) -> bytes:
    when = incident_time(case, now)
    tags = ReportAnnotations(**{_TAG_FIELDS[t]: True for t in case.tags}) if case.tags else None
    model = ReportModel(
        batched_report=BatchedReport(reason="VIRAL_POTENTIAL_MEME") if case.batched else None,
        incident_summary=IncidentSummary(
            incident_type=case.incident_type,
            escalate_to_high_priority=case.escalation,
            report_annotations=tags,
            incident_date_time=when,
        ),
        internet_details=(
            (InternetDetails(incident=ChatImIncident(chat_client=case.company, content=case.chat)),)
            if case.chat
            else ()
        ),
        reporter=Reporter(
            reporting_person=Person(
                email=(Email(address=f"{company_username(case.company)}@reports.example"),)
            )
        ),
        person_or_user_reported=tuple(_reported(account, when) for account in case.reported),
        victim=_victim(case),
        additional_info=case.info,
    )
    return report_xml(model)


def details_document(file: CaseFile, report_id: int, file_id: str) -> bytes:
    model = FileDetailsModel(
        report_id=report_id,
        file_id=file_id,
        file_name=f"{file.ref}.bin",
        file_relevance="Supplemental Reported" if file.supplemental else "Reported",
        file_annotations=FileAnnotations.from_names(list(file.annotations))
        if file.annotations
        else None,
        additional_info=(file.note,) if file.note else (),
    )
    return file_details_xml(model)


def _reported(account: Account, when: datetime) -> PersonOrUserReported:
    person = None
    if account.email or account.phone:
        person = Person(
            email=(Email(address=account.email),) if account.email else (),
            phone=(Phone(number=account.phone),) if account.phone else (),
        )
    return PersonOrUserReported(
        person=person,
        esp_identifier=account.esp_id,
        screen_name=account.screen_name,
        ip_capture_event=(
            (IpCaptureEvent(ip_address=account.ip, event_name="Upload", date_time=when),)
            if account.ip
            else ()
        ),
    )


def _victim(case: Case) -> tuple[Victim, ...]:
    info = case.victim
    if info is None:
        return ()
    return (
        Victim(
            person=Person(age=info.age),
            screen_name=info.screen_name,
            esp_identifier=info.esp_id,
        ),
    )
