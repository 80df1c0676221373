"""A classifier that is a remote HTTP service: POST the media, read back a score.

The protocol is documented in docs/classifiers.md. The service is trusted with the media but
not with anything else: its answer is size-bounded and validated before it is believed, a
redirect is never followed (the media would go somewhere nobody configured), and the bearer
token never appears in an error.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from vigil.screening.classifiers.base import ClassifierError, ClassifierResult

MEDIA_TYPES = frozenset({"photo", "video"})
MAX_RESPONSE_BYTES = 64 * 1024
MAX_LABELS = 32
MAX_LABEL_CHARS = 64
MAX_MODEL_CHARS = 128
MAX_BACKOFF_SECONDS = 2.0
# Overloaded or broken right now, so asking again later may work; other 4xx will not change.
RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))


class _TransientError(ClassifierError):
    """The request did not complete (connection, timeout): another attempt may work."""


class HttpClassifier:
    """Scores media by POSTing it to ``url``; see docs/classifiers.md for the protocol."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        threshold: float,
        token: str | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
        client: httpx.Client | None = None,
    ) -> None:
        if not 0 <= threshold <= 1:
            raise ClassifierError(f"classifier {name!r}: threshold must be within [0, 1]")
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ClassifierError(
                f"classifier {name!r}: timeout, retries and backoff must be positive"
            )
        self.name = name
        self.threshold = threshold
        self.url = checked_url(name, url)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._token = token or None
        self._owns_client = client is None
        # trust_env off: a .netrc entry or proxy variable must not silently add credentials
        # or a middlebox between us and the service the operator configured.
        self._client = client or httpx.Client(follow_redirects=False, trust_env=False)

    def __repr__(self) -> str:
        return f"HttpClassifier(name={self.name!r}, url={self.url!r})"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def classify(self, media: bytes, media_type: str) -> ClassifierResult:
        if media_type not in MEDIA_TYPES:
            raise ClassifierError(f"classifier {self.name!r}: unknown media type {media_type!r}")
        if not media:
            raise ClassifierError(f"classifier {self.name!r}: the media is empty")
        status, body = self._post_with_retries(media, media_type)
        if status in (401, 403):
            raise ClassifierError(
                f"classifier {self.name!r}: the service refused the request "
                f"(HTTP {status}); check the token"
            )
        if status != 200:
            raise ClassifierError(f"classifier {self.name!r}: the service answered HTTP {status}")
        return self._result(body)

    def _post_with_retries(self, media: bytes, media_type: str) -> tuple[int, bytes]:
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                status, body = self._post(media, media_type)
            except _TransientError:
                if attempt == attempts:
                    raise
            else:
                if status not in RETRY_STATUSES or attempt == attempts:
                    return status, body
            time.sleep(min(self.backoff * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _post(self, media: bytes, media_type: str) -> tuple[int, bytes]:
        """One attempt: (status, body); transport failures become ClassifierError."""
        try:
            with self._client.stream(
                "POST",
                self.url,
                content=media,
                headers=self._headers(media_type),
                timeout=self.timeout,
                follow_redirects=False,
            ) as response:
                return response.status_code, self._bounded_body(response)
        except httpx.TimeoutException:
            raise _TransientError(
                f"classifier {self.name!r}: timed out after {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            # from None: the chained exception carries the request, and so the token.
            raise _TransientError(
                f"classifier {self.name!r}: request failed ({self._scrubbed(exc)})"
            ) from None

    def _headers(self, media_type: str) -> dict[str, str]:
        headers = {
            "Content-Type": "application/octet-stream",
            "X-Vigil-Media-Type": media_type,
            "Accept": "application/json",
            # Compressed answers could expand far past the size bound in one chunk.
            "Accept-Encoding": "identity",
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _bounded_body(self, response: httpx.Response) -> bytes:
        if response.status_code != 200:
            return b""  # never read: an error page has nothing we would use
        if response.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
            raise ClassifierError(
                f"classifier {self.name!r}: the answer is compressed; send it uncompressed"
            )
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                raise ClassifierError(
                    f"classifier {self.name!r}: the answer exceeds {MAX_RESPONSE_BYTES} bytes"
                )
        return bytes(body)

    def _scrubbed(self, exc: Exception) -> str:
        text = f"{type(exc).__name__}: {exc}"
        return text.replace(self._token, "***") if self._token else text

    def _result(self, body: bytes) -> ClassifierResult:
        try:
            answer = parse_answer(body)
        except ValueError as exc:
            raise ClassifierError(f"classifier {self.name!r}: invalid answer: {exc}") from None
        details = {"model": answer["model"]} if "model" in answer else {}
        return ClassifierResult(
            self.name, answer["score"], answer["labels"], self.threshold, details
        )


def checked_url(name: str, url: str) -> str:
    """The URL if it is plain http(s) with a host and no embedded credentials."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise ClassifierError(f"classifier {name!r}: the url is malformed") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClassifierError(
            f"classifier {name!r}: the url must be http:// or https:// with a host"
        )
    if parts.username is not None or parts.password is not None:
        raise ClassifierError(
            f"classifier {name!r}: put credentials in the token setting, not in the url"
        )
    return url


def parse_answer(body: bytes) -> dict[str, Any]:
    """{"score": float, "labels": tuple[str, ...], "model"?: str}; ValueError says what is wrong.

    Unknown keys are ignored so a service can add fields without breaking older Vigils."""
    try:
        answer = json.loads(body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(answer, dict):
        raise ValueError("not a JSON object")
    parsed: dict[str, Any] = {
        "score": _score(answer.get("score")),
        "labels": _labels(answer.get("labels", [])),
    }
    if "model" in answer:
        parsed["model"] = _model(answer["model"])
    return parsed


def _refuse_constant(constant: str) -> float:
    raise ValueError(f"{constant} is not a score")


def _score(value: object) -> float:
    # bool is an int in Python, but true is not a score.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("score must be a number")
    score = float(value)
    if not math.isfinite(score) or not 0 <= score <= 1:
        raise ValueError("score must be within [0, 1]")
    return score


def _labels(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_LABELS:
        raise ValueError(f"labels must be a list of at most {MAX_LABELS} strings")
    for label in value:
        if not isinstance(label, str) or not 0 < len(label) <= MAX_LABEL_CHARS:
            raise ValueError(f"each label must be a string of 1 to {MAX_LABEL_CHARS} characters")
        if not label.isprintable():
            raise ValueError("labels must be printable text")
    return tuple(value)


def _model(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_MODEL_CHARS or not value.isprintable():
        raise ValueError(f"model must be printable text of at most {MAX_MODEL_CHARS} characters")
    return value
