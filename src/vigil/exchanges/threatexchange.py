"""Meta's ThreatExchange: hashes its members share in a privacy group, over the Graph API.

The protocol as python-threatexchange's client and the public Graph API reference describe
it: ``GET /{privacy_group}/threat_updates`` with ``start_time``, ``stop_time``, ``limit``
and ``fields`` returns indicators changed in that window (id, indicator, type,
last_updated, should_delete, and the members' descriptors with owner, tags, status and
reactions), paged by a cursor (``paging.cursors.after``); reactions are ``POST
/{descriptor_id}`` with ``reactions``. The access token is a query parameter of the GETs;
the transport keeps queries and every credential out of its messages, paging links (which
repeat the token) are never followed or kept: only their cursor is.

Checkpoint: a cursor is valid only for the window it was handed out in (the cause of
facebook/ThreatExchange#1744, where a resumed fetch skipped all history), so the checkpoint
keeps the window (start, stop) with the cursor, and a resumed fetch asks for the same
window. A finished window's stop becomes the next start, one second early because the
public material does not say whether the bounds are inclusive; records are upserts by
indicator id, so the overlap repeats harmlessly.

Deletions: ``should_delete``, an indicator without visible descriptors (see
facebook/ThreatExchange#834), and one every visible member marks NON_MALICIOUS.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

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
from vigil.exchanges.provenance import clean_member, clean_tags
from vigil.exchanges.transport import Response, Transport
from vigil.lists.formats.fields import FieldError, identifier, known_classification
from vigil.lists.formats.records import (
    FormatWarning,
    ListRecord,
    ReadItem,
    RecordError,
    SignalType,
    excerpt,
)
from vigil.lists.formats.signals import SignalError, normalise_hex

BASE_URL = "https://graph.facebook.com/v21.0"
PAGE_SIZE = 500
OVERLAP_SECONDS = 1
DELETIONS_KEPT_SECONDS = 90 * 24 * 3600  # threat_updates keeps deletions this long
FIELDS = (
    "id,indicator,type,last_updated,should_delete,descriptors{id,owner{id},tags,status,reactions}"
)
# Indicator types that hash a media file's bytes (or its PDQ). HASH_MD5 and the others are
# file hashes; URL and text hashes have the same hex shapes but would match wrongly.
SIGNAL_TYPES: Mapping[str, SignalType] = {
    "HASH_PDQ": SignalType.PDQ,
    "HASH_MD5": SignalType.MD5,
    "HASH_VIDEO_MD5": SignalType.MD5,
    "HASH_SHA1": SignalType.SHA1,
    "HASH_SHA256": SignalType.SHA256,
    "HASH_VIDEO_SHA256": SignalType.SHA256,
}
REACTIONS: Mapping[FeedbackVerdict, str] = {
    FeedbackVerdict.AFFIRMATIVE: "HELPFUL",
    # What python-threatexchange and HMA read as a member's "false positive".
    FeedbackVerdict.NEGATIVE: "DISAGREE_WITH_TAGS",
}
NOT_HARMFUL = "NON_MALICIOUS"
# Graph API error codes (answered with HTTP 400): token or permission, and rate limits.
_CREDENTIAL_CODES = frozenset({10, 102, 104, 190, *range(200, 300)})
_RATE_CODES = frozenset({4, 17, 32, 613})


@dataclass(frozen=True, slots=True)
class _Window:
    """A window of last_updated times and how far into it the fetch is. ``stop`` None:
    the window is not opened yet (it ends when the next fetch begins)."""

    start: int
    stop: int | None = None
    cursor: str | None = None

    def encode(self) -> str:
        fields = {"start": self.start, "stop": self.stop, "cursor": self.cursor}
        return encode_checkpoint(ExchangeType.THREATEXCHANGE, fields)

    @classmethod
    def decode(cls, checkpoint: str | None) -> _Window:
        if checkpoint is None:
            return cls(0)
        fields = decode_checkpoint(ExchangeType.THREATEXCHANGE, checkpoint)
        start, stop, cursor = fields.get("start"), fields.get("stop"), fields.get("cursor")
        if not isinstance(start, int) or not _whole(start):
            raise ExchangeError(FailureKind.CHECKPOINT, "the stored checkpoint has no window")
        if stop is not None and (not isinstance(stop, int) or not _whole(stop)):
            raise ExchangeError(FailureKind.CHECKPOINT, "the stored checkpoint has no window")
        if cursor is not None and not isinstance(cursor, str):
            raise ExchangeError(FailureKind.CHECKPOINT, "the stored checkpoint's cursor is garbled")
        return cls(start, stop, cursor)


@dataclass(frozen=True, slots=True)
class _Answer:
    updates: list[object]
    cursor: str | None


class ThreatExchange:
    """A client of one ThreatExchange privacy group (``options["privacy_group"]``)."""

    kind: ClassVar[ExchangeType] = ExchangeType.THREATEXCHANGE
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.FEEDBACK})
    required_credentials: ClassVar[tuple[str, ...]] = ("access_token",)

    def __init__(self, config: ExchangeConfig, transport: Transport | None = None) -> None:
        self._config = config
        self._transport = transport or Transport(config)

    def close(self) -> None:
        """Close the transport's connection; safe to call again."""
        self._transport.close()

    def check(self) -> ExchangeHealth:
        group = self._privacy_group()
        params = {"fields": "id,name,threat_updates_enabled"}
        answer = _object(self._get(group, params), "the privacy group")
        name = answer.get("name")
        detail = f"privacy group {excerpt(name) if isinstance(name, str) else group}"
        if answer.get("threat_updates_enabled") is False:
            detail += ": threat_updates is not enabled for it"
        return ExchangeHealth(True, detail)

    def fetch(self, checkpoint: str | None) -> Iterator[FetchedPage]:
        window = _Window.decode(checkpoint)
        warning = _staleness(window)
        if window.stop is None:
            window = replace(window, stop=int(time.time()))
        positions = itertools.count(1)
        cursors: set[str] = set()
        restarted = False
        while True:
            try:
                answer = self._updates_page(window)
            except ExchangeError as error:
                if error.kind is not FailureKind.REFUSED or window.cursor is None or restarted:
                    raise
                # A cursor the service no longer takes: this window again, from its start.
                window, restarted = replace(window, cursor=None), True
                continue
            following = _following(window, answer, cursors)
            items = tuple(_item(update, next(positions)) for update in answer.updates)
            if warning is not None:
                items, warning = (warning, *items), None
            through = _latest(answer.updates)
            yield FetchedPage(items, following.encode(), through=through)
            if following.stop is None:
                return
            window = following

    def send_feedback(self, feedback: Feedback) -> None:
        """React to each other member's descriptor of the indicator (the entry)."""
        entry = identifier(feedback.entry_id)
        if entry is None or not entry.isdigit():
            raise ExchangeError(FailureKind.REFUSED, "a ThreatExchange entry id is a number")
        fields = {"fields": "descriptors{id,owner{id}}"}
        answer = _object(self._get(entry, fields), "the indicator")
        descriptors = _others_descriptors(answer, _app_id(self._token()))
        if not descriptors:
            message = f"indicator {entry} has no descriptor of another member to react to"
            raise ExchangeError(FailureKind.REFUSED, message)
        for descriptor in descriptors:
            self._react(descriptor, REACTIONS[feedback.verdict])

    def submit(self, submission: Submission) -> None:
        raise ExchangeError(
            FailureKind.UNSUPPORTED, "Vigil does not share hashes to ThreatExchange"
        )

    def _updates_page(self, window: _Window) -> _Answer:
        params = {"limit": str(PAGE_SIZE), "fields": FIELDS, "stop_time": str(window.stop)}
        if window.start > 0:
            params["start_time"] = str(window.start)
        if window.cursor is not None:
            params["after"] = window.cursor
        path = f"{self._privacy_group()}/threat_updates/"
        return _answer(self._get(path, params))

    def _get(self, path: str, params: dict[str, str]) -> Any:
        params = {**params, "access_token": self._token()}
        response = self._transport.get(path, params=params, accept=(400,))
        return _graph_body(response, self._token())

    def _react(self, descriptor: str, reaction: str) -> None:
        # The token travels in the body here, not in a URL that could be logged.
        form = urlencode({"reactions": reaction, "access_token": self._token()}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        response = self._transport.post(
            f"{descriptor}/", content=form, headers=headers, accept=(400,)
        )
        answer = _object(_graph_body(response, self._token()), "the reaction answer")
        if answer.get("success") is False:
            raise ExchangeError(FailureKind.REFUSED, f"the reaction to {descriptor} was refused")

    def _privacy_group(self) -> str:
        group = self._config.options.get("privacy_group", "")
        if not group.isdigit():
            raise ExchangeError(
                FailureKind.REFUSED, "the exchange has no privacy group (a number) configured"
            )
        return group

    def _token(self) -> str:
        token = self._config.credentials.get("access_token")
        if not token:
            raise ExchangeError(FailureKind.CREDENTIALS, "the credential access_token is not set")
        return token


def _graph_body(response: Response, token: str) -> Any:
    """The JSON of a Graph API answer; a 400's error object told apart by its code."""
    if response.status != 400:
        return response.json()
    try:
        body = response.json()
    except ExchangeError:
        raise ExchangeError(FailureKind.REFUSED, "ThreatExchange refused the request") from None
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code, message = error.get("code"), error.get("message")
    said = excerpt(message.replace(token, "[redacted]")) if isinstance(message, str) else ""
    if code in _CREDENTIAL_CODES or error.get("type") == "OAuthException":
        raise ExchangeError(FailureKind.CREDENTIALS, f"ThreatExchange refused the token: {said}")
    if code in _RATE_CODES:
        raise ExchangeError(FailureKind.RATE_LIMITED, f"ThreatExchange rate limit: {said}")
    raise ExchangeError(FailureKind.REFUSED, f"ThreatExchange refused the request: {said}")


def _answer(body: Any) -> _Answer:
    """The page's data and its cursor, checked before any record is handed out."""
    page = _object(body, "the threat_updates answer")
    updates = page.get("data")
    if not isinstance(updates, list):
        raise _malformed("the threat_updates answer has no data list")
    paging = page.get("paging", {})
    if not isinstance(paging, dict):
        raise _malformed("paging is not an object")
    if paging.get("next") is None:
        return _Answer(updates, None)
    return _Answer(updates, _cursor(paging))


def _cursor(paging: dict[str, Any]) -> str:
    """The ``after`` cursor of a page that has a next one: from ``cursors``, or read out of
    the ``next`` link (which is never requested: it repeats the token)."""
    cursors = paging.get("cursors")
    cursor = cursors.get("after") if isinstance(cursors, dict) else None
    if cursor is None and isinstance(paging.get("next"), str):
        found = parse_qs(urlsplit(paging["next"]).query).get("after")
        cursor = found[0] if found else None
    if not isinstance(cursor, str) or not cursor:
        raise _malformed("a next page is announced without a cursor")
    return cursor


def _following(window: _Window, answer: _Answer, cursors: set[str]) -> _Window:
    if answer.cursor is not None:
        if answer.cursor in cursors or answer.cursor == window.cursor:
            raise _malformed("a cursor came back again: the pages would repeat forever")
        cursors.add(answer.cursor)
        return replace(window, cursor=answer.cursor)
    assert window.stop is not None
    return _Window(max(window.start, window.stop - OVERLAP_SECONDS))


def _item(raw: object, position: int) -> ReadItem:
    if not isinstance(raw, dict):
        return RecordError(position, "an update is not a JSON object", excerpt(str(raw)))
    try:
        entry = identifier(raw.get("id"), "id")
        if entry is None:
            raise FieldError("the update has no id")
        if raw.get("should_delete") is True:  # a tombstone need not say more than its id
            return ListRecord(None, None, entry, deleted=True, position=position)
        kind = raw.get("type")
        signal_type = SIGNAL_TYPES.get(kind) if isinstance(kind, str) else None
        if signal_type is None:
            return FormatWarning(position, f"indicator type {excerpt(str(kind))!r} is not matched")
        return _record(raw, entry, signal_type, position)
    except (SignalError, FieldError) as exc:
        return RecordError(position, str(exc), excerpt(str(raw)))


def _record(raw: dict[str, Any], entry: str, signal_type: SignalType, position: int) -> ListRecord:
    should_delete = raw.get("should_delete", False)
    if not isinstance(should_delete, bool):
        raise FieldError("should_delete is not true/false")
    descriptors = _descriptors(raw.get("descriptors"))
    statuses = {d.get("status") for d in descriptors}
    if should_delete or not descriptors or statuses == {NOT_HARMFUL}:
        return ListRecord(None, None, entry, deleted=True, position=position)
    indicator = raw.get("indicator")
    if not isinstance(indicator, str):
        raise SignalError("the indicator is missing")
    tags = clean_tags(_tags(descriptors))
    return ListRecord(
        signal_type,
        normalise_hex(signal_type, indicator),
        entry,
        classification=next(filter(None, map(known_classification, tags)), None),
        position=position,
        member=clean_member(_owner(d) for d in descriptors),
        tags=tags,
    )


def _descriptors(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    data = value.get("data") if isinstance(value, dict) else None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise FieldError("descriptors is not a list of objects")
    return data


def _tags(descriptors: list[dict[str, Any]]) -> Iterator[object]:
    """Each member's tags, and reactions as ``reaction:KIND`` (who found it helpful, who
    disagreed): provenance a reviewer reads."""
    for descriptor in descriptors:
        tags = descriptor.get("tags") or []
        if isinstance(tags, dict):  # the Graph API's {"data": [{"text": ...}]} form
            tags = tags.get("data")
            if not isinstance(tags, list):
                raise FieldError("tags is not a list")
            tags = [tag.get("text") if isinstance(tag, dict) else tag for tag in tags]
        if not isinstance(tags, list):
            raise FieldError("tags is not a list")
        yield from tags
        reactions = descriptor.get("reactions") or []
        if not isinstance(reactions, list):
            raise FieldError("reactions is not a list")
        for reaction in reactions:
            key = reaction.get("key") if isinstance(reaction, dict) else reaction
            yield f"reaction:{key}" if isinstance(key, str) else key


def _owner(descriptor: dict[str, Any]) -> object:
    owner = descriptor.get("owner")
    return owner.get("id") if isinstance(owner, dict) else None


def _others_descriptors(answer: dict[str, Any], app_id: str | None) -> list[str]:
    """Ids of the indicator's descriptors shared by other members: a reaction to one's own
    descriptor tells the exchange nothing."""
    try:
        descriptors = _descriptors(answer.get("descriptors"))
        found = [(identifier(d.get("id"), "descriptor id"), _owner(d)) for d in descriptors]
    except FieldError as exc:
        raise _malformed(str(exc)) from None
    return [
        descriptor
        for descriptor, owner in found
        if descriptor is not None and descriptor.isdigit() and str(owner) != app_id
    ]


def _app_id(token: str) -> str | None:
    """The app an app access token ("<app id>|<secret>") belongs to; None for other tokens."""
    app, separator, _ = token.partition("|")
    return app if separator and app.isdigit() else None


def _latest(updates: list[object]) -> datetime | None:
    """The newest last_updated of a page (a number, or its digits as text)."""
    times = (_seconds(u.get("last_updated")) for u in updates if isinstance(u, dict))
    seconds = [t for t in times if t is not None]
    return datetime.fromtimestamp(max(seconds), UTC) if seconds else None


def _seconds(value: object) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and _whole(value) else None


def _staleness(window: _Window) -> FormatWarning | None:
    """threat_updates keeps deletions for 90 days: after a longer pause some are lost."""
    if window.start == 0 or time.time() - window.start < DELETIONS_KEPT_SECONDS:
        return None
    return FormatWarning(
        0,
        "the last fetch was more than 90 days ago: ThreatExchange no longer sends the "
        "deletions of that time; fetch from the beginning to drop what was deleted",
    )


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**11


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _malformed(f"{what} is not a JSON object")
    return body


def _malformed(message: str) -> ExchangeError:
    return ExchangeError(FailureKind.MALFORMED, f"ThreatExchange: {message}")


CLIENT = ThreatExchange
