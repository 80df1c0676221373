"""The one HTTP transport every exchange client speaks through.

Why one: retries, rate limits, size caps and the rule that no credential reaches a message
are easy to get subtly wrong per client. Here they are written once:

- URLs are the configured service root plus a path; an absolute URL (a paging link the
  service handed out) is followed only on the root's own origin, so credentials never
  travel to another host. Redirects are not followed for the same reason.
- GETs are retried on transport errors and 5xx with exponential backoff and jitter, a
  bounded number of attempts. A 429 is honoured for every method: wait what Retry-After
  says (seconds or an HTTP date, capped), then try again, a bounded number of times. POSTs
  and PUTs are otherwise never retried: one that failed may still have been applied.
- Bodies are read streamed and capped; an answer over the cap, or one cut short, is
  MALFORMED.
- Every failure is an ExchangeError with a FailureKind. Messages name the method and the
  path without its query string (tokens travel in queries on some services) and any
  credential value of the configuration is blotted out of them, so they can be shown to an
  operator and logged.

``sleep``, ``clock`` (wall time, for Retry-After dates) and the jitter's random source are
injectable so that tests wait for nothing.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from vigil.exchanges.protocol import ExchangeConfig, ExchangeError, FailureKind

log = logging.getLogger(__name__)


class _QueryOutOfHttpxLog(logging.Filter):
    """httpx logs every request's full URL at INFO; some services take a token in the query
    (ThreatExchange's access_token), so the query is dropped from those lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_with(query=None) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


if not any(isinstance(f, _QueryOutOfHttpxLog) for f in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(_QueryOutOfHttpxLog())

MAX_BODY_BYTES = 64 * 1024 * 1024  # a page of any service is well under this
_REDACTED = "[redacted]"
_CREDENTIAL_STATUSES = frozenset({401, 403})
_RATE_LIMITED = 429
_DETAIL_CHARS = 200

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying. ``attempts`` bounds a GET's tries on transport errors and
    5xx; ``rate_limit_attempts`` bounds the tries of any request answered 429."""

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    rate_limit_attempts: int = 4
    max_retry_after: float = 300.0

    def backoff(self, retry: int, jitter: random.Random) -> float:
        """Seconds before retry number ``retry`` (0-based): doubling, capped, then shrunk by
        up to half at random so that a fleet of fetchers does not retry in step."""
        ceiling = min(self.max_delay, self.base_delay * (2**retry))
        return ceiling * jitter.uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True)
class Response:
    """A successful (or explicitly accepted) answer, read in full within the cap."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: str = field(repr=False)  # may carry a token in its query

    def json(self) -> Any:
        """The body as JSON; MALFORMED when it is not."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nesting bomb
            raise ExchangeError(
                FailureKind.MALFORMED, f"the answer is not JSON: {_clip(str(exc))}"
            ) from None


class _Retry(Exception):
    """Internal: this attempt failed in a way another attempt may not."""

    def __init__(self, error: ExchangeError, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait  # a server-given wait (Retry-After), else the backoff decides


class Transport:
    """HTTP to one configured exchange. Clients pass their authentication (``auth``, e.g.
    ``httpx.BasicAuth``) and fixed ``headers`` (e.g. a subscription key); every value of
    ``config.credentials`` and any further ``secrets`` are kept out of messages."""

    def __init__(
        self,
        config: ExchangeConfig,
        *,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        policy: RetryPolicy | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
        jitter: random.Random | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = config.base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.max_body_bytes = max_body_bytes
        self._origin = _origin(self.base_url)
        self._secrets = sorted(
            {s for s in [*config.credentials.values(), *secrets] if s}, key=len, reverse=True
        )
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter or random.Random()
        self._timeout = config.timeout_seconds
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(config.timeout_seconds),
            follow_redirects=False,
        )
        self._auth = auth
        self._headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"Transport({self.base_url!r})"

    def close(self) -> None:
        """Close the connection pool; closing again does nothing more."""
        self._client.close()

    @property
    def is_closed(self) -> bool:
        return self._client.is_closed

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def url_for(self, path: str) -> str:
        """The service root plus ``path``; an absolute URL only on the root's own origin."""
        if "://" in path:
            if _origin(path) != self._origin:
                raise ExchangeError(
                    FailureKind.MALFORMED, "the service gave a link to another host; not followed"
                )
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def get(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        accept: Collection[int] = (),
        max_body_bytes: int | None = None,
    ) -> Response:
        """GET, retried on transport errors, 5xx and 429. ``accept``: statuses besides
        2xx to return rather than raise (e.g. a 404 a client gives a meaning); ``auth``:
        this call's authentication instead of the transport's."""
        request = _Request("GET", self.url_for(path), params, None, headers, auth)
        return self._send(request, idempotent=True, accept=accept, cap=max_body_bytes)

    def post(
        self,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        accept: Collection[int] = (),
        max_body_bytes: int | None = None,
    ) -> Response:
        """POST, retried only when answered 429 (the service says it did not process it)."""
        return self._write(
            "POST", path, json_body, content, params, headers, auth, accept, max_body_bytes
        )

    def put(
        self,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        accept: Collection[int] = (),
        max_body_bytes: int | None = None,
    ) -> Response:
        """PUT, retried like a POST: a service's PUT is not known to be idempotent."""
        return self._write(
            "PUT", path, json_body, content, params, headers, auth, accept, max_body_bytes
        )

    def _write(
        self,
        method: str,
        path: str,
        json_body: Any,
        content: bytes | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        auth: httpx.Auth | None,
        accept: Collection[int],
        cap: int | None,
    ) -> Response:
        if json_body is not None:
            content = json.dumps(json_body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        request = _Request(method, self.url_for(path), params, content, headers, auth)
        return self._send(request, idempotent=False, accept=accept, cap=cap)

    # The attempt loop

    def _send(
        self, request: _Request, *, idempotent: bool, accept: Collection[int], cap: int | None
    ) -> Response:
        failures = 0
        rate_limits = 0
        while True:
            try:
                return self._attempt(request, accept, cap or self.max_body_bytes)
            except _Retry as retry:
                rate_limited = retry.error.kind is FailureKind.RATE_LIMITED
                if rate_limited:
                    rate_limits += 1
                    if rate_limits >= self.policy.rate_limit_attempts:
                        raise retry.error from None
                    delay = retry.wait
                    if delay is None:
                        delay = self.policy.backoff(rate_limits - 1, self._jitter)
                else:
                    failures += 1
                    if not idempotent or failures >= self.policy.attempts:
                        raise retry.error from None
                    delay = self.policy.backoff(failures - 1, self._jitter)
                log.warning("%s; retrying in %.1f s", retry.error, delay)
                self._sleep(delay)

    def _attempt(self, request: _Request, accept: Collection[int], cap: int) -> Response:
        where = self._scrub(f"{request.method} {_path_of(request.url)}")
        try:
            with self._client.stream(
                request.method,
                request.url,
                params=request.params,
                content=request.content,
                headers={**self._headers, **(request.headers or {})},
                auth=_chosen(request.auth, self._auth),
            ) as answer:
                self._judge_status(answer, where, accept)
                body = self._read_capped(answer, where, cap)
                return Response(answer.status_code, answer.headers, body, str(answer.url))
        except httpx.TimeoutException:
            message = f"{where}: no answer within {self._timeout:g} s"
            raise _Retry(ExchangeError(FailureKind.UNREACHABLE, message)) from None
        except httpx.RemoteProtocolError as exc:
            # Most often a body cut short: the connection closed before its declared end.
            message = f"{where}: the answer was cut short or garbled ({self._scrub(str(exc))})"
            raise _Retry(ExchangeError(FailureKind.MALFORMED, message)) from None
        except httpx.TransportError as exc:
            detail = self._scrub(str(exc)) or type(exc).__name__
            message = f"{where}: could not reach the service ({detail})"
            raise _Retry(ExchangeError(FailureKind.UNREACHABLE, message)) from None

    def _judge_status(self, answer: httpx.Response, where: str, accept: Collection[int]) -> None:
        status = answer.status_code
        if 200 <= status < 300 or status in accept:
            return
        said = f"{where}: HTTP {status}"
        if status == _RATE_LIMITED:
            wait = self._retry_after(answer.headers.get("Retry-After"))
            error = ExchangeError(FailureKind.RATE_LIMITED, f"{said}, rate limited")
            raise _Retry(error, wait)
        if status >= 500:
            raise _Retry(ExchangeError(FailureKind.SERVER, f"{said}, a server error"))
        if status in _CREDENTIAL_STATUSES:
            message = f"{said}: the service refused the credentials"
            raise ExchangeError(FailureKind.CREDENTIALS, message)
        if 300 <= status < 400:
            raise ExchangeError(FailureKind.REFUSED, f"{said}: redirects are not followed")
        raise ExchangeError(FailureKind.REFUSED, f"{said}: the service refused the request")

    def _read_capped(self, answer: httpx.Response, where: str, cap: int) -> bytes:
        declared = answer.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            raise ExchangeError(FailureKind.MALFORMED, _too_large(where, cap))
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + 4 * self._timeout  # a server trickling bytes forever
        for chunk in answer.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise ExchangeError(FailureKind.MALFORMED, _too_large(where, cap))
            if time.monotonic() > deadline:
                message = f"{where}: the answer did not finish within {4 * self._timeout:g} s"
                raise _Retry(ExchangeError(FailureKind.UNREACHABLE, message))
            chunks.append(chunk)
        return b"".join(chunks)

    def _retry_after(self, value: str | None) -> float | None:
        """Retry-After as seconds from now, capped; None when absent or unreadable."""
        if value is None:
            return None
        value = value.strip()
        seconds: float | None
        if value.isdigit():
            seconds = float(value)
        else:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:
                return None
            seconds = when.timestamp() - self._clock()
        return min(max(seconds, 0.0), self.policy.max_retry_after)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _REDACTED)
        return _clip(text)


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    url: str = field(repr=False)
    params: Mapping[str, str] | None = field(repr=False)
    content: bytes | None = field(repr=False)
    headers: Mapping[str, str] | None = field(repr=False)
    auth: httpx.Auth | None = field(repr=False)


def _chosen(call: httpx.Auth | None, transport: httpx.Auth | None) -> Any:
    chosen = call if call is not None else transport
    return chosen if chosen is not None else httpx.USE_CLIENT_DEFAULT


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or default


def _path_of(url: str) -> str:
    """The path alone: queries may hold tokens, and the host is the operator's own setting."""
    return urlsplit(url).path or "/"


def _too_large(where: str, cap: int) -> str:
    return f"{where}: the answer is larger than {cap} bytes; refused"


def _clip(text: str) -> str:
    return text if len(text) <= _DETAIL_CHARS else text[:_DETAIL_CHARS] + "..."
