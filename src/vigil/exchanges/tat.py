"""Tech Against Terrorism's hash list (TCAP): hashes of terrorist content its analysts
verified, with the ideology and the file type.

The protocol as python-threatexchange's client and TAT's getting-started page describe it:
``POST token-auth/tcap/`` with the username and password gives a short-lived token (an
expired one is answered 403); ``GET api/hash-list/v2/all`` with ``Authorization: Bearer
<token>``, ``order=asc`` and ``after=<checkpoint>`` returns ``results`` (hash_digest,
algorithm, ideology, file_type, deleted, updated_on, id), ``count``, ``next`` (a link with
an offset) and ``checkpoint``: "<updated_on>,<id>" of the page's last entry.

Paging: the public client resumes a stored fetch with ``after=<checkpoint>``, so the
service must read ``after`` as a position in (updated_on, id) order; each page is therefore
asked for with the previous page's checkpoint rather than by the offset link, so a page
stored is a page never asked for again, and entries updated during the fetch are not
skipped by a shifted offset. Deleted entries come as entries with ``deleted`` set:
deletion records. No feedback or submission is published.
"""

from __future__ import annotations

import itertools
import re
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
    FetchedPage,
    Submission,
)
from vigil.exchanges.provenance import clean_tags
from vigil.exchanges.transport import Transport
from vigil.lists.formats.fields import MAX_LABEL_CHARS, FieldError, identifier, optional_text
from vigil.lists.formats.records import (
    FormatWarning,
    ListRecord,
    ReadItem,
    RecordError,
    SignalType,
    excerpt,
)
from vigil.lists.formats.signals import SignalError, normalise_hex

BASE_URL = "https://app.terrorismanalytics.org"
TOKEN_PATH = "token-auth/tcap/"
LIST_PATH = "api/hash-list/v2/all"
# "<updated_on seconds, maybe fractional>,<entry id>"
POSITION = re.compile(r"\d{1,11}(?:\.\d{1,9})?,\d{1,20}")
SIGNAL_TYPES: Mapping[str, SignalType] = {
    "MD5": SignalType.MD5,  # of the file's bytes, whatever its type
    "SHA1": SignalType.SHA1,
    "SHA256": SignalType.SHA256,
    "PDQ": SignalType.PDQ,
}


@dataclass(frozen=True, slots=True)
class _Answer:
    entries: list[object]
    more: bool
    position: str | None
    count: int | None


class TechAgainstTerrorism:
    """A client of the TCAP hash list for one account."""

    kind: ClassVar[ExchangeType] = ExchangeType.TAT
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    required_credentials: ClassVar[tuple[str, ...]] = ("username", "password")

    def __init__(self, config: ExchangeConfig, transport: Transport | None = None) -> None:
        self._config = config
        self._transport = transport or Transport(config)

    def close(self) -> None:
        """Close the transport's connection; safe to call again."""
        self._transport.close()

    def check(self) -> ExchangeHealth:
        self._sign_in()
        return ExchangeHealth(True, "signed in to TCAP")

    def fetch(self, checkpoint: str | None) -> Iterator[FetchedPage]:
        position = _decode(checkpoint)
        token = self._sign_in()
        positions = itertools.count(1)
        estimated: int | None = None
        while True:
            answer, token = self._page(position, token)
            estimated = answer.count if estimated is None else estimated
            following = answer.position or position
            if answer.more and following == position:
                raise _malformed("more entries announced but the checkpoint did not move")
            items = tuple(_item(entry, next(positions)) for entry in answer.entries)
            encoded = encode_checkpoint(ExchangeType.TAT, {"after": following})
            yield FetchedPage(items, encoded, _moment(following), estimated)
            if not answer.more:
                return
            position = following

    def send_feedback(self, feedback: Feedback) -> None:
        raise ExchangeError(FailureKind.UNSUPPORTED, "the TAT hash list takes no feedback")

    def submit(self, submission: Submission) -> None:
        raise ExchangeError(FailureKind.UNSUPPORTED, "the TAT hash list takes no submissions")

    def _page(self, position: str | None, token: str) -> tuple[_Answer, str]:
        """One page; a token refused (TCAP's tokens last minutes and expire with a 403) is
        renewed once for that page."""
        try:
            return self._list_page(position, token), token
        except ExchangeError as error:
            if error.kind is not FailureKind.CREDENTIALS:
                raise
        token = self._sign_in()
        return self._list_page(position, token), token

    def _list_page(self, position: str | None, token: str) -> _Answer:
        params = {"order": "asc", "after": position or ""}
        headers = {"Authorization": f"Bearer {token}"}
        response = self._transport.get(LIST_PATH, params=params, headers=headers)
        return _answer(response.json())

    def _sign_in(self) -> str:
        # JSON as TAT's getting-started page shows it (python-threatexchange sends a form).
        body = {"username": self._credential("username"), "password": self._credential("password")}
        response = self._transport.post(TOKEN_PATH, json_body=body, accept=(400,))
        if response.status == 400:  # how the sign-in answers a wrong username or password
            raise ExchangeError(FailureKind.CREDENTIALS, "TCAP refused the username or password")
        body = response.json()
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise _malformed("the sign-in answer has no token")
        return token

    def _credential(self, name: str) -> str:
        value = self._config.credentials.get(name)
        if not value:
            raise ExchangeError(FailureKind.CREDENTIALS, f"the credential {name} is not set")
        return value


def _decode(checkpoint: str | None) -> str | None:
    if checkpoint is None:
        return None
    after = decode_checkpoint(ExchangeType.TAT, checkpoint).get("after")
    if after is not None and not (isinstance(after, str) and POSITION.fullmatch(after)):
        raise ExchangeError(FailureKind.CHECKPOINT, "the stored checkpoint's position is garbled")
    return after


def _answer(body: Any) -> _Answer:
    """The page's entries and position, checked before any entry is handed out."""
    if not isinstance(body, dict):
        raise _malformed("the hash list answer is not a JSON object")
    entries, following, position = body.get("results"), body.get("next"), body.get("checkpoint")
    count = body.get("count")
    if not isinstance(entries, list):
        raise _malformed("the hash list answer has no results list")
    if following is not None and not isinstance(following, str):
        raise _malformed("next is not a link")
    if position in ("", None):
        position = None
    elif not isinstance(position, str) or not POSITION.fullmatch(position):
        raise _malformed(f"the checkpoint {excerpt(str(position))!r} is not '<time>,<id>'")
    if entries and position is None:
        raise _malformed("a page of entries came without a checkpoint")
    whole = isinstance(count, int) and not isinstance(count, bool) and count >= 0
    return _Answer(entries, bool(following), position, count if whole else None)


def _item(raw: object, position: int) -> ReadItem:
    if not isinstance(raw, dict):
        return RecordError(position, "an entry is not a JSON object", excerpt(str(raw)))
    try:
        entry = identifier(raw.get("id"), "id")
        if entry is None:
            raise FieldError("the entry has no id")
        algorithm = raw.get("algorithm")
        signal_type = SIGNAL_TYPES.get(algorithm.upper()) if isinstance(algorithm, str) else None
        if signal_type is None:
            return FormatWarning(position, f"algorithm {excerpt(str(algorithm))!r} is not matched")
        return _record(raw, entry, signal_type, position)
    except (SignalError, FieldError) as exc:
        return RecordError(position, str(exc), excerpt(str(raw)))


def _record(raw: dict[str, Any], entry: str, signal_type: SignalType, position: int) -> ListRecord:
    deleted = raw.get("deleted", False)
    if not isinstance(deleted, bool):
        raise FieldError("deleted is not true/false")
    if deleted:
        return ListRecord(None, None, entry, deleted=True, position=position)
    digest = raw.get("hash_digest")
    if not isinstance(digest, str):
        raise SignalError("hash_digest is missing")
    ideology = optional_text(raw.get("ideology"), "ideology", MAX_LABEL_CHARS)
    file_type = optional_text(raw.get("file_type"), "file_type", MAX_LABEL_CHARS)
    return ListRecord(
        signal_type,
        normalise_hex(signal_type, digest),
        entry,
        classification=ideology,
        position=position,
        tags=clean_tags([f"file_type:{file_type}" if file_type else None]),
    )


def _moment(position: str | None) -> datetime | None:
    if position is None:
        return None
    return datetime.fromtimestamp(float(position.partition(",")[0]), UTC)


def _malformed(message: str) -> ExchangeError:
    return ExchangeError(FailureKind.MALFORMED, f"TAT: {message}")


CLIENT = TechAgainstTerrorism
