"""StopNCII.org: hashes people submitted of their own intimate images, shared with platforms.

The protocol as python-threatexchange's client describes it: ``GET FetchHashes`` with
``startTimestamp``, ``pageSize`` and ``nextPageToken`` returns ``hashRecords`` (signal type,
hash, aggregate ``hashStatus``, per-case statuses, platforms' feedback), ``hasMoreRecords``,
``nextPageToken`` and ``nextSetTimestamp``; ``POST SubmitHashes`` and ``POST
SubmitFeedback``. Every call sends the ``Ocp-Apim-Subscription-Key`` and the endpoint's own
``x-functions-key``.

Checkpoint: a page token is documented as short-lived and belongs to the sequence started
at one ``startTimestamp``, so the checkpoint keeps both; the sequence's start moves to
``nextSetTimestamp`` only once the sequence is finished. A resumed fetch whose token the
service no longer takes starts that sequence again from its start: records are upserts by
hash, so the repeat changes nothing, and nothing is skipped.

A record is the current state of one hash: Withdrawn or Deleted become deletion records
(the person withdrew their case), Received and Active are list entries.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from vigil.exchanges.client_checkpoints import decode_checkpoint, encode_checkpoint
from vigil.exchanges.protocol import (
    Capability,
    ExchangeConfig,
    ExchangeError,
    ExchangeHealth,
    ExchangeType,
    FailureKind,
    Feedback,
    FeedbackVerdict,
    FetchedPage,
    Submission,
)
from vigil.exchanges.provenance import clean_tags
from vigil.exchanges.transport import Transport
from vigil.lists.formats.fields import MAX_NOTE_CHARS, FieldError, optional_text
from vigil.lists.formats.records import (
    FormatWarning,
    ListRecord,
    ReadItem,
    RecordError,
    SignalType,
    excerpt,
)
from vigil.lists.formats.signals import SignalError, normalise_hex

BASE_URL = "https://api.stopncii.org/v1"
PAGE_SIZE = 800
FIRST_START = 10  # the earliest start the public client uses; 0 may mean "unset"
LAST_PLAUSIBLE_SECONDS = 10**11  # beyond this a timestamp is not seconds since 1970

# StopNCII names -> Vigil's. VideoMD5 is the MD5 of the file bytes: the same signal as ours.
SIGNAL_TYPES: Mapping[str, SignalType] = {
    "ImagePDQ": SignalType.PDQ,
    "VideoMD5": SignalType.MD5,
}
SERVICE_TYPES: Mapping[SignalType, str] = {value: key for key, value in SIGNAL_TYPES.items()}
KEPT_STATUSES = frozenset({"Received", "Active"})
DELETING_STATUSES = frozenset({"Withdrawn", "Deleted"})
VERDICT_VALUES: Mapping[FeedbackVerdict, str] = {
    FeedbackVerdict.AFFIRMATIVE: "Blocked",  # reviewed: this is NCII
    FeedbackVerdict.NEGATIVE: "NotBlocked",  # reviewed: not (or not clearly) NCII
}


@dataclass(frozen=True, slots=True)
class _Position:
    """Where a fetch is: the sequence's start and the token of its next page (None: the
    sequence has not begun, so the next request starts it)."""

    start: int
    token: str | None = None

    def encode(self) -> str:
        return encode_checkpoint(ExchangeType.STOPNCII, {"start": self.start, "token": self.token})

    @classmethod
    def decode(cls, checkpoint: str | None) -> _Position:
        if checkpoint is None:
            return cls(FIRST_START)
        fields = decode_checkpoint(ExchangeType.STOPNCII, checkpoint)
        start, token = fields.get("start"), fields.get("token")
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise ExchangeError(FailureKind.CHECKPOINT, "the stored checkpoint has no start time")
        if token is not None and not isinstance(token, str):
            raise ExchangeError(FailureKind.CHECKPOINT, "the stored checkpoint's token is garbled")
        return cls(start, token or None)


@dataclass(frozen=True, slots=True)
class _Answer:
    records: list[object]
    has_more: bool
    next_token: str | None
    next_set: int | None


class StopNcii:
    """A client of the StopNCII hash API for one platform's keys."""

    kind: ClassVar[ExchangeType] = ExchangeType.STOPNCII
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.SUBMIT, Capability.FEEDBACK}
    )
    required_credentials: ClassVar[tuple[str, ...]] = (
        "subscription_key",
        "fetch_function_key",
        "submit_function_key",
        "feedback_function_key",
    )

    def __init__(self, config: ExchangeConfig, transport: Transport | None = None) -> None:
        self._config = config
        self._transport = transport or Transport(config)

    def close(self) -> None:
        """Close the transport's connection; safe to call again."""
        self._transport.close()

    def check(self) -> ExchangeHealth:
        # No status endpoint is published: ask for one record changed from now on.
        params = {"startTimestamp": str(int(time.time())), "pageSize": "1"}
        self._transport.get("FetchHashes", params=params, headers=self._headers("fetch"))
        return ExchangeHealth(True, "FetchHashes answered")

    def fetch(self, checkpoint: str | None) -> Iterator[FetchedPage]:
        position = _Position.decode(checkpoint)
        positions = itertools.count(1)
        seen_tokens: set[str] = set()
        restarted = False
        while True:
            try:
                answer = self._fetch_page(position)
            except ExchangeError as error:
                if error.kind is not FailureKind.REFUSED or position.token is None or restarted:
                    raise
                # An expired page token: start this sequence again (upserts repeat harmlessly).
                position, restarted = _Position(position.start), True
                continue
            following = _following(position, answer, seen_tokens)
            items = tuple(_item(record, next(positions)) for record in answer.records)
            yield FetchedPage(items, following.encode(), through=_latest(answer.records))
            if following.token is None:
                return
            position = following

    def submit(self, submission: Submission) -> None:
        service_type = SERVICE_TYPES.get(submission.signal_type)
        if service_type is None:
            raise ExchangeError(
                FailureKind.UNSUPPORTED, f"StopNCII takes no {submission.signal_type} hashes"
            )
        record = {
            "lastModtimestamp": int(time.time()),
            "signalType": service_type,
            "hashValue": submission.signal,
            "CSPFeedbacks": [{"tags": list(submission.tags), "feedbackValue": "Blocked"}],
        }
        body = {"count": 1, "hashRecords": [record]}
        self._transport.post("SubmitHashes", json_body=body, headers=self._headers("submit"))

    def send_feedback(self, feedback: Feedback) -> None:
        if feedback.signal_type not in SERVICE_TYPES:
            raise ExchangeError(
                FailureKind.UNSUPPORTED, f"StopNCII has no {feedback.signal_type} hashes"
            )
        entry = {
            "hashValue": feedback.signal,
            "feedbackValue": VERDICT_VALUES[feedback.verdict],
            "tags": [feedback.reason] if feedback.reason else [],
        }
        body = {"count": 1, "hashFeedbacks": [entry]}
        self._transport.post("SubmitFeedback", json_body=body, headers=self._headers("feedback"))

    def _fetch_page(self, position: _Position) -> _Answer:
        params = {"startTimestamp": str(position.start), "pageSize": str(PAGE_SIZE)}
        if position.token is not None:
            params["nextPageToken"] = position.token
        response = self._transport.get("FetchHashes", params=params, headers=self._headers("fetch"))
        return _answer(response.json())

    def _headers(self, endpoint: str) -> dict[str, str]:
        return {
            "Ocp-Apim-Subscription-Key": self._credential("subscription_key"),
            "x-functions-key": self._credential(f"{endpoint}_function_key"),
        }

    def _credential(self, name: str) -> str:
        value = self._config.credentials.get(name)
        if not value:
            raise ExchangeError(FailureKind.CREDENTIALS, f"the credential {name} is not set")
        return value


def _answer(body: Any) -> _Answer:
    """The page's paging fields, checked before any record is handed out."""
    if not isinstance(body, dict):
        raise _malformed("the FetchHashes answer is not a JSON object")
    records = body.get("hashRecords", [])
    has_more = body.get("hasMoreRecords")
    token = body.get("nextPageToken")
    next_set = body.get("nextSetTimestamp")
    if not isinstance(records, list):
        raise _malformed("hashRecords is not a list")
    if not isinstance(has_more, bool):
        raise _malformed("hasMoreRecords is missing or not true/false")
    if token is not None and not isinstance(token, str):
        raise _malformed("nextPageToken is not text")
    if next_set is not None and (not isinstance(next_set, int) or isinstance(next_set, bool)):
        raise _malformed("nextSetTimestamp is not a whole number")
    if has_more and not token:
        raise _malformed("more records announced without a nextPageToken")
    return _Answer(records, has_more, token or None, next_set)


def _following(position: _Position, answer: _Answer, seen_tokens: set[str]) -> _Position:
    """Where the fetch continues after this page; a token handed out twice in one fetch
    would page in a circle forever."""
    if answer.has_more and answer.next_token is not None:
        if answer.next_token in seen_tokens or answer.next_token == position.token:
            raise _malformed("a page token came back again: the pages would repeat forever")
        seen_tokens.add(answer.next_token)
        return _Position(position.start, answer.next_token)
    if answer.next_set is None or answer.next_set < position.start:
        return _Position(position.start)  # nothing better: the next fetch repeats this window
    return _Position(answer.next_set)


def _item(raw: object, position: int) -> ReadItem:
    if not isinstance(raw, dict):
        return RecordError(position, "a hash record is not a JSON object", excerpt(str(raw)))
    name = raw.get("signalType")
    if not isinstance(name, str):
        return RecordError(position, "signalType is missing", excerpt(str(raw)))
    signal_type = SIGNAL_TYPES.get(name)
    if signal_type is None:
        return FormatWarning(position, f"StopNCII signal type {excerpt(name)!r} is not matched")
    try:
        return _record(raw, signal_type, position)
    except (SignalError, FieldError) as exc:
        return RecordError(position, str(exc), excerpt(str(raw)))


def _record(raw: dict[str, Any], signal_type: SignalType, position: int) -> ListRecord:
    value = raw.get("hashValue")
    if not isinstance(value, str):
        raise SignalError("hashValue is missing")
    signal = normalise_hex(signal_type, value)
    external_id = f"{SERVICE_TYPES[signal_type]}:{signal}"
    status = raw.get("hashStatus")
    if status in DELETING_STATUSES:
        return ListRecord(signal_type, signal, external_id, deleted=True, position=position)
    if status not in KEPT_STATUSES:
        raise FieldError(f"hash status {excerpt(str(status))!r} is not one Vigil knows")
    feedbacks = _feedbacks(raw.get("CSPFeedbacks"))
    return ListRecord(
        signal_type,
        signal,
        external_id,
        note=_note(raw.get("caseNumbers"), feedbacks),
        position=position,
        tags=clean_tags(tag for feedback in feedbacks for tag in _list(feedback.get("tags"))),
    )


def _feedbacks(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise FieldError("CSPFeedbacks is not a list of objects")
    return value


def _list(value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError("feedback tags are not a list")
    return value


def _note(cases: object, feedbacks: list[dict[str, Any]]) -> str | None:
    """How many cases stand behind the hash and what platforms said of it."""
    parts = [f"cases: {len(cases)}"] if isinstance(cases, dict) and cases else []
    said = [
        f"{feedback.get('feedbackValue')} by {feedback.get('source') or 'a platform'}"
        for feedback in feedbacks
        if feedback.get("feedbackValue") in VERDICT_VALUES.values()
    ]
    if said:
        parts.append("feedback: " + ", ".join(sorted(said)))
    note = "; ".join(parts)
    return optional_text(note[:MAX_NOTE_CHARS], "note", MAX_NOTE_CHARS)


def _latest(records: list[object]) -> datetime | None:
    """The newest modification time of a page, for progress."""
    times = [r.get("lastModtimestamp") for r in records if isinstance(r, dict)]
    seconds = [t for t in times if type(t) is int and 0 < t < LAST_PLAUSIBLE_SECONDS]
    return datetime.fromtimestamp(max(seconds), UTC) if seconds else None


def _malformed(message: str) -> ExchangeError:
    return ExchangeError(FailureKind.MALFORMED, f"StopNCII: {message}")


CLIENT = StopNcii
