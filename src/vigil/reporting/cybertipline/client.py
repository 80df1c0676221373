"""HTTP client for the NCMEC CyberTipline Reporting API (/status, /submit, /upload, /fileinfo,
/finish, /retract), written from ../shared/reference/cybertipline/api-documentation.txt.

Every call returns a :class:`RemoteAnswer` or raises a :class:`RemoteError` whose ``kind`` says
what went wrong in terms the state machine can act on (retry or stop). Answers are parsed with
entity expansion, DTD loading and network access off, and are bounded in size: the answer is
untrusted input even from the clearinghouse. The password is only ever handed to httpx's basic
auth; it is in no message, repr or log line.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypeAlias
from urllib.parse import urlsplit

import httpx
from lxml import etree
from pydantic import SecretStr

from vigil.core.errors import ConfigurationError
from vigil.core.settings import DestinationConfig
from vigil.core.xml import UnsafeXml, safe_parse

PRODUCTION_URL = "https://report.cybertip.org/ispws"
TEST_URL = "https://exttest.cybertip.org/ispws"
ENVIRONMENT_URLS: dict[str, str] = {"test": TEST_URL, "production": PRODUCTION_URL}
_PRODUCTION_HOST = "report.cybertip.org"
_TEST_HOST = "exttest.cybertip.org"

MAX_ANSWER_BYTES = 1 << 20  # the documented answers are a few hundred bytes
EXCERPT_CHARS = 8192  # what ReportExchange.answer keeps
_REQUEST_ID_CHARS = 128
# One part of a multipart body, as httpx takes it: (file name, content, type) or (None, value).
MultipartPart: TypeAlias = tuple[str | None, bytes, str] | tuple[None, bytes]

Environment = Literal["test", "production"]

# Appendix D codes (non-exhaustive list). Server-side failures may succeed on a later try.
SUCCESS = 0
TRANSIENT_CODES = frozenset({1000, 1100, 1110, 1111, 1300})
AUTH_CODES = frozenset({2000, 3000, 3100, 3300})
REPORT_NOT_FOUND = 5001
FILE_NOT_FOUND = 5002
ALREADY_RETRACTED = 5101
ALREADY_FINISHED = 5102


class RemoteErrorKind(StrEnum):
    AUTH = "auth"  # 401/403 or an authorisation response code: a person must fix credentials
    TIMEOUT = "timeout"
    CONNECTION = "connection"  # refused, reset, dropped before an answer
    SERVER = "server"  # 5xx, 408, 429: the destination is unwell or busy
    MALFORMED = "malformed"  # an answer that is not the documented XML
    REJECTED = "rejected"  # a documented non-zero responseCode


_TRANSIENT_KINDS = frozenset(
    {
        RemoteErrorKind.TIMEOUT,
        RemoteErrorKind.CONNECTION,
        RemoteErrorKind.SERVER,
        RemoteErrorKind.MALFORMED,
    }
)


@dataclass(frozen=True)
class RemoteAnswer:
    """One answer of the API. ``excerpt`` is the body as text, at most EXCERPT_CHARS."""

    endpoint: str
    http_status: int
    response_code: int | None = None
    response_description: str | None = None
    report_id: str | None = None
    file_id: str | None = None
    request_id: str | None = None
    excerpt: str = ""
    md5: str | None = None  # /upload: the hash of what the server received
    file_ids: tuple[str, ...] = field(default_factory=tuple)  # /finish: the report's files
    duration_ms: int = 0


class RemoteError(Exception):
    """A call that did not succeed. ``str(error)`` is a plain sentence fit for a person."""

    def __init__(
        self,
        kind: RemoteErrorKind,
        message: str,
        *,
        endpoint: str,
        answer: RemoteAnswer | None = None,
        duration_ms: int = 0,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.endpoint = endpoint
        self.answer = answer
        self.duration_ms = duration_ms

    @property
    def response_code(self) -> int | None:
        return self.answer.response_code if self.answer else None

    @property
    def transient(self) -> bool:
        """Worth retrying later without a person changing anything."""
        if self.kind in _TRANSIENT_KINDS:
            return True
        return self.kind is RemoteErrorKind.REJECTED and self.response_code in TRANSIENT_CODES


def cybertipline_base_url(destination: DestinationConfig) -> str:
    """The base URL a CyberTipline destination may use, or ConfigurationError.

    The environment must be named explicitly, production may only mean NCMEC's production URL,
    and a test configuration may never point at it: a report sent to the wrong one is either a
    real report of test data or a real report that never arrived.
    """
    label = f"reporting destination {destination.name!r}"
    if destination.kind != "cybertipline":
        raise ConfigurationError(f"{label} is of kind {destination.kind}, not cybertipline")
    if "environment" not in destination.model_fields_set:
        raise ConfigurationError(f'{label}: set environment = "test" or "production" explicitly')
    url = (
        ENVIRONMENT_URLS[destination.environment]
        if destination.base_url is None
        else (destination.base_url.strip().rstrip("/"))
    )
    check_environment_url(url, destination.environment, label=label)
    return url


def check_environment_url(url: str, environment: Environment, *, label: str = "base_url") -> None:
    """Raise ConfigurationError unless ``url`` is a sound base URL for ``environment``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host:
        raise ConfigurationError(f"{label}: base_url must be an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(f"{label}: put credentials in username/password, not the URL")
    if environment == "production":
        if parts.scheme != "https" or host != _PRODUCTION_HOST:
            raise ConfigurationError(
                f"{label}: the production environment must use {PRODUCTION_URL}"
            )
        return
    if host == _PRODUCTION_HOST:
        raise ConfigurationError(
            f"{label}: a test environment must never point at the production URL"
        )
    if parts.scheme != "https" and not _loopback(host):
        raise ConfigurationError(f"{label}: use https (plain http only for a local test server)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CyberTiplineClient:
    """One set of credentials against one base URL. Not thread-safe; one per worker."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str | SecretStr,
        *,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigurationError("CyberTipline base_url must be an http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise ConfigurationError("CyberTipline base_url must not contain credentials")
        if not username:
            raise ConfigurationError("CyberTipline username is empty")
        secret = password.get_secret_value() if isinstance(password, SecretStr) else password
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._auth = httpx.BasicAuth(username, secret)
        self._timeout = httpx.Timeout(timeout)
        self._owns_client = client is None
        # Without TCP_NODELAY a POST body waits on the peer's delayed ACK of the headers.
        self._http = client or httpx.Client(
            transport=httpx.HTTPTransport(
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
            )
        )

    @classmethod
    def from_destination(
        cls,
        destination: DestinationConfig,
        *,
        client: httpx.Client | None = None,
    ) -> CyberTiplineClient:
        url = cybertipline_base_url(destination)
        if not destination.username or destination.password is None:
            raise ConfigurationError(
                f"reporting destination {destination.name!r}: username and password are needed"
            )
        return cls(
            url,
            destination.username,
            destination.password,
            timeout=destination.timeout,
            client=client,
        )

    def __repr__(self) -> str:
        return f"CyberTiplineClient({self.base_url!r}, username={self.username!r})"

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> CyberTiplineClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # The documented endpoints --------------------------------------------------------------

    def status(self) -> RemoteAnswer:
        """GET /status: can we connect and authenticate?"""
        return self._call("status", "GET", "reportResponse")

    def submit(self, report_xml: bytes) -> RemoteAnswer:
        """POST /submit: open a report; the answer carries its report id."""
        answer = self._call(
            "submit",
            "POST",
            "reportResponse",
            content=report_xml,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        if not answer.report_id:
            raise _malformed("submit", "the answer to /submit has no reportId", answer)
        return answer

    def upload(self, report_id: str, file_name: str, content: bytes) -> RemoteAnswer:
        """POST /upload (multipart: id, file); the answer carries the file id and MD5."""
        files: dict[str, MultipartPart] = {
            "id": (None, report_id.encode()),
            "file": (file_name, content, "application/octet-stream"),
        }
        answer = self._call("upload", "POST", "reportResponse", files=files)
        if not answer.file_id:
            raise _malformed("upload", "the answer to /upload has no fileId", answer)
        return answer

    def fileinfo(self, file_details_xml: bytes) -> RemoteAnswer:
        """POST /fileinfo: the <fileDetails> of an uploaded file (once per file)."""
        return self._call(
            "fileinfo",
            "POST",
            "reportResponse",
            content=file_details_xml,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )

    def finish(self, report_id: str) -> RemoteAnswer:
        """POST /finish (multipart: id): the answer is the receipt, with the report's files."""
        return self._call(
            "finish", "POST", "reportDoneResponse", files={"id": (None, report_id.encode())}
        )

    def retract(self, report_id: str) -> RemoteAnswer:
        """POST /retract (multipart: id): cancel a report that is not finished."""
        return self._call(
            "retract", "POST", "reportResponse", files={"id": (None, report_id.encode())}
        )

    # Transport and answer parsing ----------------------------------------------------------

    def _call(
        self,
        endpoint: str,
        method: str,
        root: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        files: dict[str, MultipartPart] | None = None,
    ) -> RemoteAnswer:
        started = time.monotonic()
        elapsed: Callable[[], int] = lambda: int((time.monotonic() - started) * 1000)  # noqa: E731
        try:
            with self._http.stream(
                method,
                f"{self.base_url}/{endpoint}",
                content=content,
                files=files,
                headers=headers,
                auth=self._auth,
                timeout=self._timeout,
            ) as response:
                body, too_large = _bounded_body(response.iter_bytes())
        except httpx.TimeoutException:
            raise RemoteError(
                RemoteErrorKind.TIMEOUT,
                f"/{endpoint}: no answer within the time limit",
                endpoint=endpoint,
                duration_ms=elapsed(),
            ) from None
        except httpx.TransportError as exc:
            raise RemoteError(
                RemoteErrorKind.CONNECTION,
                f"/{endpoint}: the connection failed ({type(exc).__name__})",
                endpoint=endpoint,
                duration_ms=elapsed(),
            ) from None
        answer = RemoteAnswer(
            endpoint=endpoint,
            http_status=response.status_code,
            request_id=_request_id(response),
            excerpt=_excerpt(body),
            duration_ms=elapsed(),
        )
        if too_large:
            raise _malformed(
                endpoint, f"the answer is larger than {MAX_ANSWER_BYTES} bytes", answer
            )
        return _interpret(endpoint, root, body, answer)


def _interpret(endpoint: str, root: str, body: bytes, answer: RemoteAnswer) -> RemoteAnswer:
    status = answer.http_status
    if status in {401, 403}:
        raise RemoteError(
            RemoteErrorKind.AUTH,
            f"/{endpoint}: the destination refused the credentials (HTTP {status})",
            endpoint=endpoint,
            answer=answer,
            duration_ms=answer.duration_ms,
        )
    if status >= 500 or status in {408, 429}:
        parsed = _try_parse(root, body, answer)
        raise RemoteError(
            RemoteErrorKind.SERVER,
            f"/{endpoint}: the destination answered HTTP {status}",
            endpoint=endpoint,
            answer=parsed or answer,
            duration_ms=answer.duration_ms,
        )
    try:
        parsed = _parse(root, body, answer)
    except _Unparseable as exc:
        if 200 <= status < 300:
            raise _malformed(endpoint, str(exc), answer) from None
        raise RemoteError(
            RemoteErrorKind.REJECTED,
            f"/{endpoint}: the destination answered HTTP {status} without a response code",
            endpoint=endpoint,
            answer=answer,
            duration_ms=answer.duration_ms,
        ) from None
    code = parsed.response_code
    if code == SUCCESS and 200 <= status < 300:
        return parsed
    if code == SUCCESS:
        raise _malformed(endpoint, f"HTTP {status} with response code 0", parsed)
    kind = RemoteErrorKind.AUTH if code in AUTH_CODES else RemoteErrorKind.REJECTED
    description = parsed.response_description or "no description"
    raise RemoteError(
        kind,
        f"/{endpoint}: the destination refused with code {code} ({_plain(description)})",
        endpoint=endpoint,
        answer=parsed,
        duration_ms=parsed.duration_ms,
    )


class _Unparseable(ValueError):
    pass


def _parse(root: str, body: bytes, answer: RemoteAnswer) -> RemoteAnswer:
    try:
        tree = safe_parse(body, max_bytes=MAX_ANSWER_BYTES)
    except UnsafeXml as exc:  # not XML, or a DOCTYPE, which the API never sends
        raise _Unparseable(f"the answer was refused: {exc}") from None
    if tree.tag not in {root, "reportResponse", "reportDoneResponse"}:
        raise _Unparseable(f"the answer's root is <{_plain(str(tree.tag))}>, not <{root}>")
    code_text = tree.findtext("responseCode")
    try:
        code = int((code_text or "").strip())
    except ValueError:
        raise _Unparseable("the answer has no integer responseCode") from None
    return RemoteAnswer(
        endpoint=answer.endpoint,
        http_status=answer.http_status,
        response_code=code,
        response_description=_text(tree, "responseDescription"),
        report_id=_text(tree, "reportId"),
        file_id=_text(tree, "fileId"),
        request_id=answer.request_id,
        excerpt=answer.excerpt,
        md5=_text(tree, "hash"),
        file_ids=tuple(t.strip() for t in tree.xpath("files/fileId/text()")),
        duration_ms=answer.duration_ms,
    )


def _try_parse(root: str, body: bytes, answer: RemoteAnswer) -> RemoteAnswer | None:
    try:
        return _parse(root, body, answer)
    except _Unparseable:
        return None


def _text(tree: etree._Element, tag: str) -> str | None:
    value = tree.findtext(tag)
    return value.strip()[:500] if value and value.strip() else None


def _bounded_body(chunks: Iterator[bytes]) -> tuple[bytes, bool]:
    buffer = bytearray()
    for chunk in chunks:
        buffer.extend(chunk)
        if len(buffer) > MAX_ANSWER_BYTES:
            return bytes(buffer[:MAX_ANSWER_BYTES]), True
    return bytes(buffer), False


def _request_id(response: httpx.Response) -> str | None:
    value = response.headers.get("Request-ID")
    return _plain(value)[:_REQUEST_ID_CHARS] if value else None


def _excerpt(body: bytes) -> str:
    return body[:EXCERPT_CHARS].decode("utf-8", errors="replace")


def _plain(text: str) -> str:
    """Control characters out: the text ends up in messages and logs."""
    return "".join(c if c.isprintable() else " " for c in text)[:200]


def _malformed(endpoint: str, why: str, answer: RemoteAnswer) -> RemoteError:
    return RemoteError(
        RemoteErrorKind.MALFORMED,
        f"/{endpoint}: unusable answer: {why}",
        endpoint=endpoint,
        answer=answer,
        duration_ms=answer.duration_ms,
    )
