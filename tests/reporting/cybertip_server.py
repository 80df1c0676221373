"""A local TEST DOUBLE of the CyberTipline Reporting API, written from NCMEC's published
documentation (../shared/reference/cybertipline/api-documentation.txt and report.xsd). It is
NOT NCMEC's service and has never been compared with it; where the documentation is silent the
choices are ours and are marked below.

What it follows from the documentation:
* endpoints /status (GET), /submit, /upload, /fileinfo, /finish, /retract (POST) under a base
  path, HTTP basic auth on every one;
* /submit and /fileinfo take one XML document (validated against report.xsd), /upload takes
  multipart ``id`` + ``file``, /finish and /retract take multipart ``id`` (curl --form);
* answers are <reportResponse> (<reportDoneResponse> for /finish) with responseCode,
  responseDescription, reportId, fileId and hash, and the Appendix D response codes;
* every answer carries a Request-ID header;
* an unfinished report is deleted 24 hours after it was opened or 1 hour after its last
  modification (file upload or file details), whichever is later; both windows configurable.

Our choices where the documentation is silent: application errors are HTTP 400 with the code
(the documentation shows 400 + 4100 for a /finish validation failure), bad credentials are
HTTP 401 with code 2000, a deleted (expired) report answers 5001, a second /fileinfo for the
same file answers 4000.

Failure injection (:meth:`CyberTipServer.inject`), per endpoint, consumed in order: ``drop``
(close the connection without answering), ``500``/``503``, ``malformed`` (broken XML with
HTTP 200), ``delay`` (answer nothing for ``delay`` seconds, then drop: a client timeout),
``unauthorized`` (401 whatever the credentials), ``raw`` (any status and body); ``skip``
lets the first requests through (e.g. fail the second upload only). By default a
fault replaces the request's effect; ``after=True`` applies the request first and then loses
the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
import time
import uuid
from base64 import b64decode
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

XSD_PATH = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "cybertipline" / ("report.xsd")
)
MAX_REQUEST_BYTES = 16 << 20
BASE_PATH = "/ispws"
FAULT_KINDS = frozenset({"drop", "500", "503", "malformed", "delay", "unauthorized", "raw", "pass"})


@dataclass
class Fault:
    kind: str
    after: bool = False
    delay: float = 1.0
    status: int = 200
    body: bytes = b""


@dataclass
class RemoteReport:
    report_id: str
    xml: bytes
    opened_at: datetime
    modified_at: datetime | None = None
    state: str = "open"  # open, finished, retracted
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    details: dict[str, bytes] = field(default_factory=dict)


class CyberTipServer:
    """Start with ``with CyberTipServer() as server:``; ``server.base_url`` is the API root."""

    def __init__(
        self,
        *,
        username: str = "usr123",
        password: str = "pswd123",
        clock: Callable[[], datetime] | None = None,
        open_window: timedelta = timedelta(hours=24),
        idle_window: timedelta = timedelta(hours=1),
    ) -> None:
        self.username, self.password = username, password
        self.clock = clock or (lambda: datetime.now(UTC))
        self.open_window, self.idle_window = open_window, idle_window
        self.reports: dict[str, RemoteReport] = {}
        self.requests: Counter[str] = Counter()  # endpoint -> requests received
        self.upload_counts: Counter[str] = Counter()  # sha256 of content -> accepted uploads
        self.request_ids: list[str] = []
        self._faults: dict[str, list[Fault]] = {}
        self._next_report = 4564654
        self._lock = threading.Lock()
        self._schema = etree.XMLSchema(etree.parse(str(XSD_PATH)))
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll keeps shutdown() (and so every test's teardown) fast.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{BASE_PATH}"

    def __enter__(self) -> CyberTipServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def inject(
        self, endpoint: str, kind: str, *, times: int = 1, skip: int = 0, **options: object
    ) -> None:
        """Queue ``times`` faults for ``endpoint``, after ``skip`` requests served normally."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            queue = self._faults.setdefault(endpoint, [])
            queue.extend(Fault("pass") for _ in range(skip))
            queue.extend(Fault(kind, **options) for _ in range(times))  # type: ignore[arg-type]

    def expire_all(self) -> None:
        """Delete every open report now, as NCMEC's timeout would."""
        with self._lock:
            for report in list(self.reports.values()):
                if report.state == "open":
                    del self.reports[report.report_id]

    def finished(self) -> list[RemoteReport]:
        return [r for r in self.reports.values() if r.state == "finished"]

    # Request handling (called from the handler thread) ---------------------------------

    def take_fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(endpoint)
            return queue.pop(0) if queue else None

    def authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.username.encode()) & hmac.compare_digest(
            password.encode(), self.password.encode()
        )

    def handle(
        self, endpoint: str, body: bytes, content_type: str, client_ip: str
    ) -> tuple[int, bytes]:
        with self._lock:
            self._expire(self.clock())
            if endpoint == "status":
                return 200, _response(0, f"Remote User : {self.username}, Remote Ip : {client_ip}")
            if endpoint in {"submit", "fileinfo"}:
                document = self._document(body)
                if isinstance(document, tuple):
                    return document
                return self._submit(body) if endpoint == "submit" else self._fileinfo(document)
            form = _multipart(body, content_type)
            if form is None or "id" not in form:
                return 400, _response(4000, "Invalid request")
            report_id = form["id"][1].decode(errors="replace").strip()
            if endpoint == "upload":
                if "file" not in form:
                    return 400, _response(4200, "Malformed file submittal", report_id)
                return self._upload(report_id, *form["file"])
            return self._finish(report_id) if endpoint == "finish" else self._retract(report_id)

    def _expire(self, now: datetime) -> None:
        for report in list(self.reports.values()):
            deadline = report.opened_at + self.open_window
            if report.modified_at is not None:
                deadline = max(deadline, report.modified_at + self.idle_window)
            if report.state == "open" and now >= deadline:
                del self.reports[report.report_id]

    def _document(self, body: bytes) -> etree._Element | tuple[int, bytes]:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        try:
            document = etree.fromstring(body, parser)
        except etree.XMLSyntaxError:
            return 400, _response(4110, "Malformed XML submittal")
        if not self._schema.validate(document):
            return 400, _response(4100, "Validation failed")
        return document

    def _open(self, report_id: str) -> RemoteReport | tuple[int, bytes]:
        report = self.reports.get(report_id)
        if report is None:
            return 400, _response(5001, "Report does not exist", report_id)
        if report.state == "retracted":
            return 400, _response(5101, "Report already retracted", report_id)
        if report.state == "finished":
            return 400, _response(5102, "Report already finished", report_id)
        return report

    def _submit(self, body: bytes) -> tuple[int, bytes]:
        self._next_report += 1
        report_id = str(self._next_report)
        self.reports[report_id] = RemoteReport(report_id, body, self.clock())
        return 200, _response(0, "Success", report_id)

    def _upload(self, report_id: str, name: str, content: bytes) -> tuple[int, bytes]:
        report = self._open(report_id)
        if isinstance(report, tuple):
            return report
        file_id = uuid.uuid4().hex
        report.files[file_id] = (name, content)
        report.modified_at = self.clock()
        self.upload_counts[hashlib.sha256(content).hexdigest()] += 1
        md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
        return 200, _response(0, "Success", report_id, file_id=file_id, md5=md5)

    def _fileinfo(self, document: etree._Element) -> tuple[int, bytes]:
        if document.tag != "fileDetails":
            return 400, _response(4100, "Validation failed")
        report_id = (document.findtext("reportId") or "").strip()
        file_id = (document.findtext("fileId") or "").strip()
        report = self._open(report_id)
        if isinstance(report, tuple):
            return report
        if file_id not in report.files:
            return 400, _response(5002, "File does not exist", report_id)
        if file_id in report.details:
            return 400, _response(4000, "Invalid request", report_id)
        report.details[file_id] = etree.tostring(document)
        report.modified_at = self.clock()
        return 200, _response(0, "Success", report_id)

    def _finish(self, report_id: str) -> tuple[int, bytes]:
        report = self._open(report_id)
        if isinstance(report, tuple):
            return report
        report.state = "finished"
        files = "".join(f"<fileId>{escape(f)}</fileId>" for f in report.files)
        return 200, (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><reportDoneResponse>'
            f"<responseCode>0</responseCode><reportId>{report_id}</reportId>"
            f"<files>{files}</files></reportDoneResponse>"
        ).encode()

    def _retract(self, report_id: str) -> tuple[int, bytes]:
        report = self._open(report_id)
        if isinstance(report, tuple):
            return report
        report.state = "retracted"
        return 200, _response(0, "Success", report_id)


def _response(
    code: int,
    description: str,
    report_id: str | None = None,
    *,
    file_id: str | None = None,
    md5: str | None = None,
) -> bytes:
    parts = [
        f"<responseCode>{code}</responseCode>",
        f"<responseDescription>{escape(description)}</responseDescription>",
    ]
    if report_id and report_id.isdigit():
        parts.append(f"<reportId>{report_id}</reportId>")
    if file_id:
        parts.append(f"<fileId>{file_id}</fileId><hash>{md5}</hash>")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<reportResponse>'
        + "".join(parts)
        + "</reportResponse>"
    ).encode()


def _multipart(body: bytes, content_type: str) -> dict[str, tuple[str, bytes]] | None:
    """name -> (file name, content) of a multipart/form-data body; None if it is not one."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    if not message.is_multipart():
        return None
    form: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            form[name] = (part.get_filename() or "", payload)
    return form


def _handler_for(server: CyberTipServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; Nagle would hold the second ~40 ms.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet tests

        def do_GET(self) -> None:
            self._serve({"status"})

        def do_POST(self) -> None:
            self._serve({"submit", "upload", "fileinfo", "finish", "retract"})

        def _serve(self, allowed: set[str]) -> None:
            body = self._body()
            endpoint = self.path.removeprefix(BASE_PATH + "/").split("?")[0]
            if body is None or endpoint not in allowed:
                self._send(404 if body is not None else 413, _response(4000, "Invalid request"))
                return
            server.requests[endpoint] += 1
            fault = server.take_fault(endpoint)
            if fault is not None and fault.kind == "pass":
                fault = None
            if not server.authorised(self.headers.get("Authorization")) or (
                fault is not None and fault.kind == "unauthorized"
            ):
                self._send(
                    401,
                    _response(2000, "Authentication required"),
                    {"WWW-Authenticate": 'Basic realm="CyberTipline"'},
                )
                return
            if fault is None or fault.after:
                status, answer = server.handle(
                    endpoint, body, self.headers.get("Content-Type", ""), self.client_address[0]
                )
            if fault is None:
                self._send(status, answer)
            else:
                self._fail(fault)

        def _fail(self, fault: Fault) -> None:
            if fault.kind == "delay":
                time.sleep(fault.delay)
            if fault.kind in {"drop", "delay"}:
                self.close_connection = True
                return
            if fault.kind in {"500", "503"}:
                self._send(int(fault.kind), b"<html>Service Unavailable</html>")
            elif fault.kind == "malformed":
                self._send(200, b'<?xml version="1.0"?><reportResponse><responseCode>0</resp')
            else:
                self._send(fault.status, fault.body)

        def _body(self) -> bytes | None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BYTES:
                return None
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            request_id = uuid.uuid4().hex
            server.request_ids.append(request_id)
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-ID", request_id)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def running_server(**options: object) -> Iterator[CyberTipServer]:
    with CyberTipServer(**options) as server:  # type: ignore[arg-type]
        yield server
