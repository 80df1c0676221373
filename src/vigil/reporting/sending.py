"""Sending reports to their destinations: a resumable state machine for the CyberTipline and
file writers for manual upload, behind one interface.

One Report row per destination; each row moves DRAFT -> OPENED -> FILES -> FINISHING -> FINISHED
(or FAILED / RETRACTED). Every step is committed before the next request is made and every
request with its answer is logged to ReportExchange in its own transaction, so a crash or a
network error resumes from the recorded state: a file recorded as uploaded is never uploaded
again.

What the API documentation says, and what follows from it here:
* An unfinished report "is automatically deleted by NCMEC 24 hours after the date the report
  was opened or 1 hour after the last modification (file upload or file details submission),
  whichever is later". Before continuing an opened report the sender computes that deadline
  (from opened_at and the exchange log) and, once it is near, re-opens the report: a new
  /submit and every file again. An answer of 5001 (report does not exist) or 5101 (already
  retracted, which we did not do) to /upload, /fileinfo or /finish means the same. The expiry is
  logged as an exchange and in last_error: never silently lost.
* "Once a report is finished ... the report cannot be cancelled" and a /finish of a finished
  report is answered 5102 (Report already finished). So a /finish whose answer was lost is
  repeated safely: 5102 in state FINISHING means our earlier /finish was accepted.
* The API has no idempotency key for /submit or /upload: a request accepted whose answer was
  lost can leave an orphan at NCMEC (an unfinished report that expires by itself, or an extra
  file). The /finish receipt lists the report's file ids; ids Vigil did not record are named in
  the report's last_error so a person sees them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.core.errors import ConfigurationError
from vigil.core.files import write_atomically
from vigil.core.settings import DestinationConfig
from vigil.core.xml import hardened_parser
from vigil.reporting.cybertipline.client import (
    ALREADY_FINISHED,
    ALREADY_RETRACTED,
    EXCERPT_CHARS,
    FILE_NOT_FOUND,
    REPORT_NOT_FOUND,
    CyberTiplineClient,
    RemoteAnswer,
    RemoteError,
    RemoteErrorKind,
)
from vigil.reporting.cybertipline.expiry import expiry_deadline
from vigil.store.audit.log import AuditLog
from vigil.store.evidence import EvidenceError, EvidenceVault
from vigil.store.models import AuditAction, FileState, Report, ReportExchange, ReportFile
from vigil.store.models import ReportState as State
from vigil.store.models.base import utcnow

log = logging.getLogger(__name__)

EXPIRY_MARGIN = timedelta(minutes=5)  # our clock and NCMEC's differ; never race the deadline
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
ACTIVE_STATES = frozenset({State.DRAFT, State.OPENED, State.FILES, State.FINISHING})
_GONE_CODES = frozenset({REPORT_NOT_FOUND, ALREADY_RETRACTED})
_MODIFYING = ("upload", "fileinfo")
_DUE_BATCH = 100
_REASON_CHARS = 1000

Clock = Callable[[], datetime]


class ReportNotFound(LookupError):
    """No report with this public id goes to this destination."""


class ReportStateError(ValueError):
    """The report's state does not allow the operation; the message says why."""


class _Refused(Exception):
    """A local reason the report cannot go on (e.g. unreadable evidence): a person must look."""


class Destination(Protocol):
    """Where a report goes. ``deliver`` does as much as possible and returns the new state."""

    name: str

    def deliver(self, report: Report) -> None: ...

    def retract_remote(self, report: Report) -> None: ...


class ReportSender:
    """Sends the reports of one configured destination. See the module docstring."""

    def __init__(
        self,
        database: Any,
        destination: DestinationConfig,
        vault: EvidenceVault,
        *,
        client: CyberTiplineClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.database = database
        self.config = destination
        self.vault = vault
        self.clock: Clock = clock or utcnow
        self.destination: Destination
        if destination.kind == "cybertipline":
            self.destination = CyberTiplineDestination(
                self, client or CyberTiplineClient.from_destination(destination)
            )
        elif destination.directory is None:
            raise ConfigurationError(
                f"reporting destination {destination.name!r}: {destination.kind} needs directory"
            )
        else:
            self.destination = FileDestination(self, destination.directory, destination.kind)

    @property
    def name(self) -> str:
        return self.config.name

    # Public operations -----------------------------------------------------------------

    def advance(self, report_public_id: str) -> State:
        """Take every step that can be taken now; return the report's state afterwards.
        Ignores next_attempt_at (a person asked); the background job honours it."""
        report = self.snapshot(report_public_id)
        if report.state not in ACTIVE_STATES:
            return report.state
        try:
            self.destination.deliver(report)
        except RemoteError as error:
            self._record_failure(report_public_id, error)
        except _Refused as refusal:
            self._fail(report_public_id, str(refusal))
        return self.snapshot(report_public_id).state

    def retract(self, report_public_id: str, *, actor: str, reason: str) -> State:
        """Cancel a report that is not finished (draft, opened, files or failed)."""
        reason = reason.strip()[:_REASON_CHARS]
        if not reason:
            raise ReportStateError("a retraction needs a reason")
        report = self.snapshot(report_public_id)
        if report.state in {State.FINISHED, State.RETRACTED}:
            raise ReportStateError(
                f"report {report_public_id} is {report.state.value}; it cannot be retracted"
            )
        if report.state is State.FINISHING:
            raise ReportStateError(
                f"report {report_public_id} is being finished; advance it "
                "first: the destination may already have accepted it"
            )
        if report.remote_report_id:
            self.destination.retract_remote(report)
        with self.database.transaction(write=True) as session:
            row = self._row(session, report_public_id)
            row.state, row.updated_at = State.RETRACTED, self.clock()
            AuditLog(session).append(
                AuditAction.REPORT,
                actor=actor,
                subject_type="report",
                subject_id=report_public_id,
                details={
                    "event": "retracted",
                    "destination": self.name,
                    "remote_report_id": report.remote_report_id,
                    "reason": reason,
                },
            )
        return State.RETRACTED

    def retry(self, report_public_id: str, *, actor: str) -> State:
        """Put a FAILED report back in the queue where it stopped (a person fixed the cause)."""
        with self.database.transaction(write=True) as session:
            row = self._row(session, report_public_id)
            if row.state is not State.FAILED:
                raise ReportStateError(
                    f"report {report_public_id} is {row.state.value}, not failed"
                )
            row.state = State.FILES if row.remote_report_id else State.DRAFT
            row.attempts, row.next_attempt_at = 0, self.clock()
            row.updated_at = self.clock()
            AuditLog(session).append(
                AuditAction.REPORT,
                actor=actor,
                subject_type="report",
                subject_id=report_public_id,
                details={"event": "retry", "destination": self.name},
            )
            return row.state

    def run_due(self, now: datetime | None = None) -> dict[str, State]:
        """The background job: advance every due report of this destination."""
        now = now or self.clock()
        with self.database.session() as session:
            due = [r.public_id for r in due_reports(session, now, destination=self.name)]
        outcome: dict[str, State] = {}
        for public_id in due:
            try:
                outcome[public_id] = self.advance(public_id)
            except Exception as exc:  # one broken report must not stop the queue
                log.exception("report %s: unexpected error while sending", public_id)
                self._record_failure(public_id, exc)
                outcome[public_id] = self.snapshot(public_id).state
        return outcome

    # Recording (used by the destinations) ----------------------------------------------

    def snapshot(self, report_public_id: str) -> Report:
        """The report as recorded now, files loaded, detached from any session."""
        with self.database.session() as session:
            return self._row(session, report_public_id)

    def update(self, report_public_id: str, **values: Any) -> None:
        with self.database.transaction(write=True) as session:
            row = self._row(session, report_public_id)
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = self.clock()

    def update_file(self, file_id: int, **values: Any) -> None:
        with self.database.transaction(write=True) as session:
            row = session.get(ReportFile, file_id)
            if row is None:
                raise ReportNotFound(f"report file {file_id} disappeared")
            for name, value in values.items():
                setattr(row, name, value)

    def evidence(self, report_file: ReportFile) -> bytes:
        if report_file.evidence_item_id is None:
            raise _Refused(f"file {report_file.file_name!r} has no evidence item to send")
        try:
            with self.database.session() as session:
                return self.vault.get(session, report_file.evidence_item_id)
        except EvidenceError as exc:
            raise _Refused(
                f"the evidence for file {report_file.file_name!r} cannot be read: {exc}"
            ) from None

    def exchange(
        self, report: Report, endpoint: str, call: Callable[[], RemoteAnswer]
    ) -> RemoteAnswer:
        """Make one request and log it with its answer or error, committed on its own."""
        started = self.clock()
        try:
            answer = call()
        except RemoteError as error:
            self.note(
                report,
                endpoint,
                error.answer,
                started=started,
                error=str(error),
                duration_ms=error.duration_ms,
            )
            raise
        self.note(report, endpoint, answer, started=started, duration_ms=answer.duration_ms)
        return answer

    def note(
        self,
        report: Report,
        endpoint: str,
        answer: RemoteAnswer | None,
        *,
        started: datetime | None = None,
        error: str | None = None,
        duration_ms: int = 0,
    ) -> None:
        with self.database.transaction(write=True) as session:
            session.add(
                ReportExchange(
                    report_id=report.id,
                    at=started or self.clock(),
                    endpoint=endpoint,
                    http_status=answer.http_status if answer else None,
                    response_code=answer.response_code if answer else None,
                    request_id=answer.request_id if answer else None,
                    duration_ms=duration_ms,
                    error=error[:500] if error else None,
                    answer=answer.excerpt[:EXCERPT_CHARS] if answer else None,
                )
            )

    def last_modification(self, report: Report) -> datetime | None:
        """When NCMEC last saw a file or file details accepted for the open remote report."""
        with self.database.session() as session:
            return session.scalar(
                select(func.max(ReportExchange.at)).where(
                    ReportExchange.report_id == report.id,
                    ReportExchange.endpoint.in_(_MODIFYING),
                    ReportExchange.response_code == 0,
                    ReportExchange.at >= report.opened_at,
                )
            )

    # Failures --------------------------------------------------------------------------

    def _record_failure(self, report_public_id: str, error: Exception) -> None:
        report = self.snapshot(report_public_id)
        attempts = report.attempts + 1
        # A report that vanished again right after a re-open is retried later, not given up.
        transient = (
            not isinstance(error, RemoteError)
            or error.transient
            or (error.response_code in _GONE_CODES)
        )
        message = _plain_error(self.name, error)
        if not transient:
            self._fail(report_public_id, message, attempts=attempts)
        elif attempts >= self.config.max_attempts:
            self._fail(
                report_public_id,
                f"Gave up after {attempts} attempts. The last one: "
                f"{message} Retry the report once the destination answers again.",
                attempts=attempts,
            )
        else:
            self.update(
                report_public_id,
                attempts=attempts,
                last_error=message,
                next_attempt_at=self.clock() + backoff(attempts),
            )

    def _fail(self, report_public_id: str, message: str, *, attempts: int | None = None) -> None:
        values: dict[str, Any] = {"state": State.FAILED, "last_error": message}
        if attempts is not None:
            values["attempts"] = attempts
        self.update(report_public_id, **values)
        log.warning("report %s to %s failed: %s", report_public_id, self.name, message)

    def _row(self, session: Session, report_public_id: str) -> Report:
        row = session.scalar(select(Report).where(Report.public_id == report_public_id))
        if row is None or row.destination != self.name:
            raise ReportNotFound(f"no report {report_public_id!r} for destination {self.name!r}")
        return row


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min ... at most an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def due_reports(session: Session, now: datetime, *, destination: str | None = None) -> list[Report]:
    """Unfinished reports whose next attempt is due, oldest first."""
    query = select(Report).where(Report.state.in_(ACTIVE_STATES), Report.next_attempt_at <= now)
    if destination is not None:
        query = query.where(Report.destination == destination)
    return list(session.scalars(query.order_by(Report.next_attempt_at).limit(_DUE_BATCH)))


def _plain_error(destination: str, error: Exception) -> str:
    if not isinstance(error, RemoteError):
        return f"Vigil failed internally while sending ({type(error).__name__}); it will retry."
    request = (
        f" NCMEC Request-ID: {error.answer.request_id}."
        if (error.answer and error.answer.request_id)
        else ""
    )
    if error.kind is RemoteErrorKind.AUTH:
        return (
            f"The destination {destination!r} refused Vigil's credentials ({error}). Check "
            f"the username and password configured for it, then retry.{request}"
        )
    if error.kind is RemoteErrorKind.REJECTED and not error.transient:
        return (
            f"The destination {destination!r} rejected the report: {error}. Correct the "
            f"report, then retract it and send it again.{request}"
        )
    return f"{error}.{request}"


class CyberTiplineDestination:
    """The documented transaction: /submit, then /upload and /fileinfo per file, /finish."""

    def __init__(self, sender: ReportSender, client: CyberTiplineClient) -> None:
        self.sender = sender
        self.client = client
        self.name = sender.name

    def deliver(self, report: Report) -> None:
        reopened = False
        for _ in range(8 + 4 * len(report.files)):  # every step is one iteration
            report = self.sender.snapshot(report.public_id)
            if report.state not in ACTIVE_STATES:
                return
            try:
                self._step(report)
            except RemoteError as error:
                if not self._remote_gone(report, error) or reopened:
                    raise
                self._reopen(report, f"the destination answered {error}")
                reopened = True

    def retract_remote(self, report: Report) -> None:
        try:
            self.sender.exchange(
                report, "retract", lambda: self.client.retract(str(report.remote_report_id))
            )
        except RemoteError as error:
            if error.response_code == ALREADY_FINISHED:
                raise ReportStateError(
                    "the destination says the report is already finished; it cannot be retracted"
                ) from None
            if error.response_code not in _GONE_CODES:
                raise

    def _step(self, report: Report) -> None:
        state = report.state
        if state is State.DRAFT:
            self._submit(report)
        elif state is State.FINISHING:
            self._finish(report)
        elif self._expired(report):
            self._reopen(
                report, "its documented time limit passed before it was finished", retract=True
            )
        elif state is State.OPENED:
            self.sender.update(report.public_id, state=State.FILES)
        else:
            self._next_file(report)

    def _submit(self, report: Report) -> None:
        answer = self.sender.exchange(
            report, "submit", lambda: self.client.submit(report.xml.encode())
        )
        self.sender.update(
            report.public_id,
            state=State.OPENED,
            remote_report_id=answer.report_id,
            opened_at=self.sender.clock(),
            attempts=0,
        )

    def _next_file(self, report: Report) -> None:
        remote_id = str(report.remote_report_id)
        for report_file in report.files:
            if report_file.state is FileState.PENDING:
                self._upload(report, report_file, remote_id)
                return
            if report_file.state is FileState.UPLOADED and report_file.file_details_xml:
                self._describe(report, report_file, remote_id)
                return
        self.sender.update(report.public_id, state=State.FINISHING)

    def _upload(self, report: Report, report_file: ReportFile, remote_id: str) -> None:
        content = self.sender.evidence(report_file)
        if report_file.sha256 and _sha256(content) != report_file.sha256:
            raise _Refused(
                f"the evidence for file {report_file.file_name!r} does not match the "
                "hash recorded in the report"
            )
        answer = self.sender.exchange(
            report, "upload", lambda: self.client.upload(remote_id, report_file.file_name, content)
        )
        if answer.md5 and answer.md5.lower() != _md5(content):
            raise RemoteError(
                RemoteErrorKind.MALFORMED,
                "/upload: the destination received a different file (MD5 differs); uploading again",
                endpoint="upload",
                answer=answer,
            )
        self.sender.update_file(
            report_file.id, state=FileState.UPLOADED, remote_file_id=answer.file_id
        )
        self.sender.update(report.public_id, attempts=0)

    def _describe(self, report: Report, report_file: ReportFile, remote_id: str) -> None:
        details = _with_ids(
            str(report_file.file_details_xml), remote_id, str(report_file.remote_file_id)
        )
        try:
            self.sender.exchange(report, "fileinfo", lambda: self.client.fileinfo(details))
        except RemoteError as error:
            if error.response_code != FILE_NOT_FOUND:
                raise
            # NCMEC does not know the file id we recorded: send the file again.
            self.sender.update_file(report_file.id, state=FileState.PENDING, remote_file_id=None)
            raise
        self.sender.update_file(report_file.id, state=FileState.DESCRIBED)
        self.sender.update(report.public_id, attempts=0)

    def _finish(self, report: Report) -> None:
        try:
            answer = self.sender.exchange(
                report, "finish", lambda: self.client.finish(str(report.remote_report_id))
            )
        except RemoteError as error:
            if error.response_code != ALREADY_FINISHED or error.answer is None:
                raise
            # Our earlier /finish was accepted and its answer lost (see the module docstring).
            answer = error.answer
        known = {f.remote_file_id for f in report.files if f.remote_file_id}
        unknown = sorted(set(answer.file_ids) - known)
        note = (
            f"Finished; the destination also lists file ids Vigil did not record (an upload "
            f"whose answer was lost): {', '.join(unknown)}"
            if unknown
            else None
        )
        self.sender.update(
            report.public_id,
            state=State.FINISHED,
            receipt=answer.excerpt,
            finished_at=self.sender.clock(),
            attempts=0,
            last_error=note,
        )

    def _expired(self, report: Report) -> bool:
        if report.opened_at is None:
            return False
        deadline = expiry_deadline(report.opened_at, self.sender.last_modification(report))
        return self.sender.clock() >= deadline - EXPIRY_MARGIN

    def _remote_gone(self, report: Report, error: RemoteError) -> bool:
        return (
            report.remote_report_id is not None
            and error.response_code in _GONE_CODES
            and error.endpoint in {"upload", "fileinfo", "finish"}
        )

    def _reopen(self, report: Report, why: str, *, retract: bool = False) -> None:
        old = report.remote_report_id
        if retract:
            # Close to the deadline but perhaps not past it: leave no half report behind.
            with contextlib.suppress(RemoteError, ReportStateError):
                self.retract_remote(report)
        message = (
            f"CyberTipline report {old} expired unfinished ({why}); re-opened as a new "
            "report with all its files."
        )
        self.sender.note(report, "expired", None, error=message)
        with self.sender.database.transaction(write=True) as session:
            row = session.get(Report, report.id)
            assert row is not None
            row.state, row.remote_report_id, row.opened_at = State.DRAFT, None, None
            row.last_error, row.updated_at = message, self.sender.clock()
            for report_file in row.files:
                report_file.state, report_file.remote_file_id = FileState.PENDING, None
        log.warning("report %s: %s", report.public_id, message)


class FileDestination:
    """Writes the report for a manual upload: ``<public_id>.xml`` (or ``.json``) plus each
    file's details, atomically, into the configured directory. The media stay in the encrypted
    vault: a person fetches them through the console for the upload."""

    def __init__(self, sender: ReportSender, directory: Path, kind: str) -> None:
        self.sender = sender
        self.directory = directory
        self.kind = kind
        self.name = sender.name

    def deliver(self, report: Report) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        written = self._write_json(report) if self.kind == "json_file" else self._write_xml(report)
        receipt = json.dumps(
            {
                "written": [str(p) for p in written],
                "sha256": {p.name: _sha256(p.read_bytes()) for p in written},
            }
        )
        # Each file's details are now written beside the report: the file is as far as this
        # destination takes it (left "pending", a finished report looked half sent).
        for report_file in report.files:
            if report_file.file_details_xml:
                self.sender.update_file(report_file.id, state=FileState.DESCRIBED)
        now = self.sender.clock()
        self.sender.update(
            report.public_id,
            state=State.FINISHED,
            finished_at=now,
            opened_at=report.opened_at or now,
            receipt=receipt,
            attempts=0,
            last_error=None,
        )

    def retract_remote(self, report: Report) -> None:
        return None  # nothing left this machine

    def _write_xml(self, report: Report) -> list[Path]:
        written = []
        for index, report_file in enumerate(report.files, start=1):
            if report_file.file_details_xml:
                path = self.directory / f"{report.public_id}.file-{index:03d}.xml"
                write_atomically(path, report_file.file_details_xml.encode())
                written.append(path)
        # The report last: its presence means the whole set is there.
        path = self.directory / f"{report.public_id}.xml"
        write_atomically(path, report.xml.encode())
        return [*written, path]

    def _write_json(self, report: Report) -> list[Path]:
        document = {
            "public_id": report.public_id,
            "kind": report.kind.value,
            "destination": report.destination,
            "created_at": report.created_at.isoformat(),
            "report": _xml_to_data(report.xml),
            "files": [
                {
                    "file_name": f.file_name,
                    "sha256": f.sha256,
                    "viewed_by_esp": f.viewed_by_esp,
                    "evidence_item_id": f.evidence_item_id,
                    "file_details": _xml_to_data(f.file_details_xml)
                    if f.file_details_xml
                    else None,
                }
                for f in report.files
            ],
        }
        path = self.directory / f"{report.public_id}.json"
        write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False).encode())
        return [path]


def _with_ids(details_xml: str, report_id: str, file_id: str) -> bytes:
    """The <fileDetails> with the ids NCMEC assigned, first as the schema's sequence wants."""
    root = etree.fromstring(details_xml.encode(), hardened_parser())
    for tag in ("reportId", "fileId"):
        for element in root.findall(tag):
            root.remove(element)
    for tag, value in (("fileId", file_id), ("reportId", report_id)):
        element = etree.Element(tag)
        element.text = value
        root.insert(0, element)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _xml_to_data(xml: str) -> dict[str, Any]:
    root = etree.fromstring(xml.encode(), hardened_parser())
    return {str(root.tag): _element_data(root)}


def _element_data(element: etree._Element) -> Any:
    children = [c for c in element if isinstance(c.tag, str)]
    attributes = {
        f"@{etree.QName(k).localname}": v
        for k, v in element.attrib.items()
        if etree.QName(k).namespace is None
    }
    if not children:
        text = (element.text or "").strip()
        if not attributes:
            return text if text else True  # an empty element is a flag (e.g. <sextortion/>)
        return {**attributes, **({"#text": text} if text else {})}
    data: dict[str, Any] = dict(attributes)
    for child in children:
        value = _element_data(child)
        if child.tag in data:
            previous = data[child.tag]
            data[child.tag] = (
                [*previous, value] if isinstance(previous, list) else [previous, value]
            )
        else:
            data[child.tag] = value
    return data


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _md5(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()
