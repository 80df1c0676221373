"""Client of NCMEC's Hash Sharing API v2: entries fetched by time window, feedback sent.

Written from public client code (python-threatexchange's NCMEC client and its test pages),
not from NCMEC's own specification, which is only given to members. HTTP basic auth; every
path is below the service root (``/v2/status``, ``/v2/members``, ``/v2/entries``).

Fetching. ``/v2/entries?from=..&to=..`` gives the entries (images, videos and deletions)
whose last change falls in the window, 1,000 a page, with a ``paging/next`` link to the
rest. Three known problems shape the checkpoint:

- Entries are not in time order within a window, so nothing is inferred from an entry's
  timestamp: a window counts as fetched only once its last page is stored.
- A paging link is only valid for the exact window it was issued for (facebook/
  ThreatExchange#1744: a resumed fetch with a different window skipped history). The
  checkpoint keeps the window with the link, a resumed fetch follows the link in that very
  window, and a link that names another window is refused. A link older than
  ``LINK_LIFETIME`` (NCMEC asks that links not be kept long), or one the service refuses,
  restarts its window from the beginning: records are upserts by entry id, so fetching a
  window twice changes nothing, while skipping one would lose history.
- Many entries in one second (#1679: HMA shrank its window towards one second and
  stalled): windows are paged through whatever they hold and are never narrowed below the
  entries they contain, so a fetch always ends.

Each run also starts ``overlap`` before the stored window start, so an entry the service
commits late with an earlier timestamp is still fetched; windows double while they are
empty (a first fetch crosses years of nothing in a few calls).

The checkpoint, as JSON::

    {"v": 1, "window_start": "2026-01-01T00:00:00Z",
     "window_end": "2026-01-31T00:00:00Z" | null,
     "next": "/v2/entries?from=...&to=...&start=1001&size=1000&max=3000" | null,
     "next_issued": "2026-02-01T10:00:00Z" | null}

``window_end`` null: everything before ``window_start`` is stored. Otherwise the window is
under way and ``next`` (issued at ``next_issued``) fetches its next page.

Fingerprints: MD5, SHA-1 and PDQ become records (PDQ on images only); others (PhotoDNA,
TMK, Videntifier, ...) are counted in a FormatWarning per page. ``external_id`` is
``<member id>-<entry id>`` (entry ids are per member); ``member`` the member's name as the
page gives it; ``tags`` the entry kind (image or video).

Feedback. ``PUT /v2/entries/{member id}/{entry id}/{MD5|SHA1|PDQ}/feedback`` with a
``feedbackSubmission`` holding ``affirmative`` or ``negative > reasonIds > guid``; the
reasons come from ``GET /v2/feedback/{type}/reasons``. A negative verdict's ``reason`` may
be the reason's GUID or its name; without one, the only reason the service offers is used.

What the public material left unclear: the answer to a feedback PUT (not documented;
any 2xx is taken as accepted) and whether sending it twice is harmless (so it is never
retried except on 429; the feedback queue retries later); whether categorizations other
than ``classification`` exist on entries (none are read); how long a paging link stays
valid (python-threatexchange assumes 12 hours); whether ``from``/``to`` are inclusive
(windows are made to touch, and overlap covers either reading); the largest window the
service will page through (windows here are bounded by ``window_days``).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Final
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from lxml import etree

from vigil.core.xml import UnsafeXml, safe_parse
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
from vigil.exchanges.transport import Response, Transport
from vigil.lists.formats.ncmec_xml import read_ncmec_page
from vigil.lists.formats.records import SignalType, excerpt

log = logging.getLogger(__name__)


class NcmecEnvironment(StrEnum):
    """NCMEC's published hash-sharing databases, each with a test twin (``test_...``)."""

    INDUSTRY = "industry"
    INDUSTRY_EXPLOITATIVE = "industry_exploitative"
    LAW_ENFORCEMENT = "law_enforcement"
    NGO = "ngo"
    NGO_EXPLOITATIVE = "ngo_exploitative"
    NGO_GENERATIVE_AI = "ngo_generative_ai"
    NGO_GENERATIVE_AI_EXPLOITATIVE = "ngo_generative_ai_exploitative"
    TEST_INDUSTRY = "test_industry"
    TEST_INDUSTRY_EXPLOITATIVE = "test_industry_exploitative"
    TEST_LAW_ENFORCEMENT = "test_law_enforcement"
    TEST_NGO = "test_ngo"
    TEST_NGO_EXPLOITATIVE = "test_ngo_exploitative"
    TEST_NGO_GENERATIVE_AI = "test_ngo_generative_ai"
    TEST_NGO_GENERATIVE_AI_EXPLOITATIVE = "test_ngo_generative_ai_exploitative"


_E = NcmecEnvironment
SERVICE_ROOTS: Final[Mapping[NcmecEnvironment, str]] = {
    _E.INDUSTRY: "https://report.cybertip.org/hashsharing",
    _E.INDUSTRY_EXPLOITATIVE: "https://report.cybertip.org/exploitative-hashsharing",
    _E.LAW_ENFORCEMENT: "https://lesp.ncmec.org/csam-hashsharing",
    _E.NGO: "https://hashsharing.ncmec.org/npo",
    _E.NGO_EXPLOITATIVE: "https://hashsharing.ncmec.org/exploitative",
    _E.NGO_GENERATIVE_AI: "https://hashsharing.ncmec.org/generative-ai-csam",
    _E.NGO_GENERATIVE_AI_EXPLOITATIVE: "https://hashsharing.ncmec.org/generative-ai-exploitative",
    _E.TEST_INDUSTRY: "https://exttest.cybertip.org/hashsharing",
    _E.TEST_INDUSTRY_EXPLOITATIVE: "https://exttest.cybertip.org/exploitative-hashsharing",
    _E.TEST_LAW_ENFORCEMENT: "https://betalesp.ncmec.org/csam-hashsharing",
    _E.TEST_NGO: "https://hashsharing-test.ncmec.org/npo",
    _E.TEST_NGO_EXPLOITATIVE: "https://hashsharing-test.ncmec.org/exploitative",
    _E.TEST_NGO_GENERATIVE_AI: "https://hashsharing-test.ncmec.org/generative-ai-csam",
    _E.TEST_NGO_GENERATIVE_AI_EXPLOITATIVE: (
        "https://hashsharing-test.ncmec.org/generative-ai-exploitative"
    ),
}
DEFAULT_ENVIRONMENT: Final = NcmecEnvironment.INDUSTRY

NAMESPACE: Final = "https://hashsharing.ncmec.org/hashsharing/v2"
ENTRIES_PATH: Final = "/v2/entries"
LINK_LIFETIME: Final = timedelta(hours=12)
DEFAULT_SINCE: Final = datetime(2000, 1, 1, tzinfo=UTC)  # before any hash was shared
DEFAULT_WINDOW: Final = timedelta(days=30)
MAX_WINDOW: Final = timedelta(days=4 * 365)
DEFAULT_OVERLAP: Final = timedelta(hours=1)
FUTURE_SKEW: Final = timedelta(days=1)  # a checkpoint this far ahead of now was not ours
CHECKPOINT_VERSION: Final = 1
FINGERPRINT_NAMES: Final[Mapping[SignalType, str]] = {
    SignalType.MD5: "MD5",
    SignalType.SHA1: "SHA1",
    SignalType.PDQ: "PDQ",
}
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

Clock = Callable[[], datetime]


def service_root(config: ExchangeConfig) -> str:
    """``config.base_url`` when given (the service root), else the environment's root."""
    if config.base_url:
        return config.base_url.rstrip("/")
    name = config.environment or DEFAULT_ENVIRONMENT
    try:
        return SERVICE_ROOTS[NcmecEnvironment(name)]
    except ValueError:
        known = ", ".join(e.value for e in NcmecEnvironment)
        raise ValueError(f"unknown NCMEC environment {name!r}; known: {known}") from None


class NcmecExchange:
    """NCMEC Hash Sharing API v2 for one account (``username``, ``password``)."""

    kind: ClassVar[ExchangeType] = ExchangeType.NCMEC
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.FEEDBACK})
    required_credentials: ClassVar[tuple[str, ...]] = ("username", "password")

    def __init__(
        self,
        config: ExchangeConfig,
        transport: Transport | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.config = replace(config, base_url=service_root(config))
        self._transport = transport or Transport(self.config)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._window = _option_days(config, "window_days", DEFAULT_WINDOW)
        self._overlap = _option_seconds(config, "overlap_seconds", DEFAULT_OVERLAP)
        self._since = _option_time(config, "since", DEFAULT_SINCE)
        self._reasons: dict[str, dict[str, str]] = {}  # fingerprint type -> guid -> name

    def __repr__(self) -> str:
        return f"NcmecExchange({self.config.base_url!r})"

    # The service

    def close(self) -> None:
        """Close the transport's connection; safe to call again."""
        self._transport.close()

    def check(self) -> ExchangeHealth:
        root = _xml(self._get("/v2/status"), "/v2/status")
        member = _first(root, "member")
        if member is None:
            raise ExchangeError(FailureKind.MALFORMED, "GET /v2/status: no member in the answer")
        name = excerpt((member.text or "").strip())
        return ExchangeHealth(True, f"signed in as member {name} ({member.get('id')})")

    def members(self) -> dict[str, str]:
        """Member id -> name, to name the members entries come from."""
        root = _xml(self._get("/v2/members"), "/v2/members")
        return {
            str(m.get("id")): (m.text or "").strip()
            for m in root.iter()
            if _local(m) == "member" and m.get("id")
        }

    def fetch(self, checkpoint: str | None) -> Iterator[FetchedPage]:
        state = None if checkpoint is None else _Checkpoint.parse(checkpoint)
        now = self._now()
        if state is not None and state.window_start > now + FUTURE_SKEW:
            raise ExchangeError(FailureKind.CHECKPOINT, "the checkpoint starts in the future")
        if state is not None and state.window_end is not None:
            yield from self._resume(state, now)
            start = state.window_end
        elif state is not None:
            start = max(state.window_start - self._overlap, self._since)
        else:
            start = self._since
        yield from self._windows(start, now)

    def send_feedback(self, feedback: Feedback) -> None:
        fingerprint = FINGERPRINT_NAMES.get(feedback.signal_type)
        if fingerprint is None:
            message = f"NCMEC takes no feedback on {feedback.signal_type} fingerprints"
            raise ExchangeError(FailureKind.UNSUPPORTED, message)
        member_id, entry_id = _split_entry_id(feedback.entry_id)
        vote = etree.Element(f"{{{NAMESPACE}}}feedbackSubmission", nsmap={None: NAMESPACE})
        if feedback.verdict is FeedbackVerdict.AFFIRMATIVE:
            etree.SubElement(vote, f"{{{NAMESPACE}}}affirmative")
        else:
            negative = etree.SubElement(vote, f"{{{NAMESPACE}}}negative")
            ids = etree.SubElement(negative, f"{{{NAMESPACE}}}reasonIds")
            guid = etree.SubElement(ids, f"{{{NAMESPACE}}}guid")
            guid.text = self._reason_guid(fingerprint, feedback.reason)
        path = f"{ENTRIES_PATH}/{member_id}/{entry_id}/{fingerprint}/feedback"
        self._transport.put(
            path,
            content=etree.tostring(vote, xml_declaration=True, encoding="UTF-8"),
            headers={"Content-Type": "application/xml; charset=utf-8"},
            auth=self._auth(),
        )

    def submit(self, submission: Submission) -> None:
        message = "Vigil does not submit hashes to NCMEC (entries are uploaded through NCMEC)"
        raise ExchangeError(FailureKind.UNSUPPORTED, message)

    def feedback_reasons(self, fingerprint: str) -> dict[str, str]:
        """GUID -> name of the negative feedback reasons NCMEC takes for a fingerprint type."""
        if fingerprint not in self._reasons:
            where = f"/v2/feedback/{fingerprint}/reasons"
            root = _xml(self._get(where), where)
            self._reasons[fingerprint] = {
                str(r.get("guid")): str(r.get("name") or "")
                for r in root.iter()
                if _local(r) == "reason" and r.get("guid")
            }
        return self._reasons[fingerprint]

    # Windows and pages

    def _windows(self, start: datetime, end: datetime) -> Iterator[FetchedPage]:
        span = self._window
        while start < end:
            window_end = min(start + span, end)
            entries = yield from self._pages(start, window_end, None)
            span = min(span * 2, MAX_WINDOW) if entries == 0 else self._window
            start = window_end

    def _resume(self, state: _Checkpoint, now: datetime) -> Iterator[FetchedPage]:
        assert state.window_end is not None
        link = state.next
        issued = state.next_issued
        if link is not None and (issued is None or now - issued > LINK_LIFETIME):
            log.info("NCMEC paging link older than %s: its window is fetched again", LINK_LIFETIME)
            link = None
        try:
            yield from self._pages(state.window_start, state.window_end, link)
        except ExchangeError as error:
            if link is None or error.kind is not FailureKind.REFUSED:
                raise
            log.warning("NCMEC refused a stored paging link (%s): fetching its window again", error)
            yield from self._pages(state.window_start, state.window_end, None)

    def _pages(
        self, start: datetime, end: datetime, link: str | None
    ) -> Generator[FetchedPage, None, int]:
        """Every page of one window; returns how many entries it held."""
        window = _Window(start, end)
        seen: set[str] = set()
        entries = 0
        while True:
            if link is None:
                response = self._get(ENTRIES_PATH, params=window.params())
            else:
                response = self._get(link)
            page = read_ncmec_page(io.BytesIO(response.body))
            if page.failure is not None:
                at = f"line {page.failure.position}: " if page.failure.position else ""
                reason = f"{at}{page.failure.message}"
                message = f"GET {ENTRIES_PATH}: the page cannot be read ({reason})"
                raise ExchangeError(FailureKind.MALFORMED, message)
            following = page.next_link
            if following is not None:
                window.check_link(following, previous=link)
                if following in seen:
                    raise ExchangeError(
                        FailureKind.MALFORMED, f"GET {ENTRIES_PATH}: the service repeated a page"
                    )
                seen.add(following)
            entries += len(page.items)
            checkpoint = window.checkpoint(following, self._now())
            through = start if following is not None else end
            yield FetchedPage(page.items, checkpoint, through=through)
            if following is None:
                return entries
            link = following

    # Plumbing

    def _get(self, path: str, *, params: Mapping[str, str] | None = None) -> Response:
        return self._transport.get(path, params=params, auth=self._auth())

    def _auth(self) -> httpx.Auth:
        username = self.config.credentials.get("username", "")
        password = self.config.credentials.get("password", "")
        if not username or not password:
            raise ExchangeError(
                FailureKind.CREDENTIALS, "NCMEC needs a username and a password; one is missing"
            )
        return httpx.BasicAuth(username, password)

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC).replace(microsecond=0)

    def _reason_guid(self, fingerprint: str, reason: str | None) -> str:
        reasons = self.feedback_reasons(fingerprint)
        if reason is None:
            if len(reasons) == 1:
                return next(iter(reasons))
            names = ", ".join(sorted(reasons.values())) or "none offered"
            message = f"NCMEC needs a reason for negative feedback on {fingerprint}: {names}"
            raise ExchangeError(FailureKind.REFUSED, message)
        wanted = reason.strip().casefold()
        for guid, name in reasons.items():
            if wanted in {guid.casefold(), name.strip().casefold()}:
                return guid
        message = f"NCMEC offers no negative feedback reason {excerpt(reason)!r} for {fingerprint}"
        raise ExchangeError(FailureKind.REFUSED, message)


CLIENT = NcmecExchange


@dataclass(frozen=True, slots=True)
class _Window:
    """One ``from``/``to`` window and the rules its paging links must follow."""

    start: datetime
    end: datetime

    def params(self) -> dict[str, str]:
        return {"from": _format(self.start), "to": _format(self.end)}

    def check_link(self, link: str, *, previous: str | None) -> None:
        """A link must stay in this window and move forward; anything else would page
        through another window's results or loop."""
        parts = urlsplit(link)
        query = parse_qs(parts.query)
        if parts.scheme or parts.netloc or not parts.path.endswith(ENTRIES_PATH):
            raise ExchangeError(FailureKind.MALFORMED, "the service gave a paging link elsewhere")
        for name, bound in (("from", self.start), ("to", self.end)):
            given = query.get(name)
            if given and _time_or_none(given[0]) != bound:
                message = "the service gave a paging link for another window; not followed"
                raise ExchangeError(FailureKind.MALFORMED, message)
        before = _start_of(previous)
        after = _start_of(link)
        if before is not None and after is not None and after <= before:
            raise ExchangeError(FailureKind.MALFORMED, "the service's paging went backwards")

    def checkpoint(self, link: str | None, now: datetime) -> str:
        if link is None:
            return _Checkpoint(self.end, None, None, None).dump()
        return _Checkpoint(self.start, self.end, link, now).dump()


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    window_start: datetime
    window_end: datetime | None
    next: str | None
    next_issued: datetime | None

    def dump(self) -> str:
        return json.dumps(
            {
                "v": CHECKPOINT_VERSION,
                "window_start": _format(self.window_start),
                "window_end": None if self.window_end is None else _format(self.window_end),
                "next": self.next,
                "next_issued": None if self.next_issued is None else _format(self.next_issued),
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, text: str) -> _Checkpoint:
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("v") != CHECKPOINT_VERSION:
                raise ValueError("not a version 1 NCMEC checkpoint")
            state = cls(
                _required_time(data.get("window_start")),
                _optional_time(data.get("window_end")),
                _optional_link(data.get("next")),
                _optional_time(data.get("next_issued")),
            )
            state.validate()
        except (ValueError, TypeError) as exc:
            reason = excerpt(str(exc))
            message = f"the stored NCMEC checkpoint is not one this client wrote: {reason}"
            raise ExchangeError(FailureKind.CHECKPOINT, message) from None
        return state

    def validate(self) -> None:
        if self.window_end is None:
            if self.next is not None:
                raise ValueError("a paging link without its window")
            return
        if self.window_end <= self.window_start:
            raise ValueError("the window ends before it starts")
        if self.next is not None:
            try:
                _Window(self.window_start, self.window_end).check_link(self.next, previous=None)
            except ExchangeError as error:
                raise ValueError(f"the paging link does not fit its window ({error})") from None


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def _parse_time(text: str) -> datetime:
    """``2017-10-20T00:00:00Z`` or with milliseconds, as NCMEC's links give it; UTC only."""
    if not isinstance(text, str) or not text.endswith("Z"):
        raise ValueError(f"not a UTC time: {excerpt(str(text))}")
    moment = datetime.fromisoformat(text[:-1] + "+00:00")
    return moment.astimezone(UTC)


def _time_or_none(text: str) -> datetime | None:
    try:
        return _parse_time(text)
    except ValueError:
        return None


def _required_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("window_start is missing")
    return _parse_time(value).replace(microsecond=0)


def _optional_time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a time is not text")
    return _parse_time(value).replace(microsecond=0)


def _optional_link(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 4096:
        raise ValueError("the paging link is not a path")
    return value


def _start_of(link: str | None) -> int | None:
    if link is None:
        return None
    values = parse_qs(urlsplit(link).query).get("start")
    return int(values[0]) if values and values[0].isdigit() else None


def _split_entry_id(entry_id: str) -> tuple[str, str]:
    """``<member id>-<entry id>`` as records carry it."""
    member_id, dash, rest = entry_id.partition("-")
    if not dash or not member_id.isdigit() or not rest or "/" in rest:
        message = f"{excerpt(entry_id)!r} is not an NCMEC entry id (<member id>-<entry id>)"
        raise ExchangeError(FailureKind.REFUSED, message)
    return member_id, quote(rest, safe="")


def _xml(response: Response, where: str) -> etree._Element:
    try:
        return safe_parse(response.body)
    except UnsafeXml as exc:
        raise ExchangeError(FailureKind.MALFORMED, f"GET {where}: {excerpt(str(exc))}") from None


def _first(root: etree._Element, name: str) -> etree._Element | None:
    return next((e for e in root.iter() if _local(e) == name), None)


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname) if isinstance(element.tag, str) else ""


def _option_days(config: ExchangeConfig, name: str, default: timedelta) -> timedelta:
    value = config.options.get(name)
    return default if value is None else timedelta(days=_positive(name, value))


def _option_seconds(config: ExchangeConfig, name: str, default: timedelta) -> timedelta:
    value = config.options.get(name)
    return default if value is None else timedelta(seconds=_positive(name, value, zero=True))


def _option_time(config: ExchangeConfig, name: str, default: datetime) -> datetime:
    value = config.options.get(name)
    return default if value is None else _parse_time(value)


def _positive(name: str, value: str, *, zero: bool = False) -> float:
    number = float(value)
    if number < 0 or (number == 0 and not zero):
        raise ValueError(f"option {name} must be a positive number")
    return number
