"""A fake NCMEC Hash Sharing API v2, written from the public description of the service (the
python-threatexchange client and its sample pages); no NCMEC answer is copied.

Served under ``/hashsharing`` (the service root), with HTTP basic auth. Entries hold random
hashes only. How it pages, and why the client has to be careful:

- Every entry has a row number that never changes; an update or a deletion changes its
  timestamp. ``/v2/entries?from&to`` lists the window's entries in row order, so an entry
  updated later than rows after it comes out of time order, as NCMEC's do.
- A page's ``next`` link carries ``start`` (the next row), ``max`` (the last row of the
  window when paging began) and a cursor bound to its exact ``from``/``to``/``start``: a
  link used with another window, or after ``expire_links()``, is refused with 400.

Quirks and faults, switched by attributes and methods:
``out_of_order`` (timestamps independent of row order when generating), ``same_second``
(generated entries all in one second), ``fail_entries(response, times, after_pages)``
(503s, malformed XML, cut-short answers, a never-answering request, ...),
``repeat_links`` (a next link that points back at the same page), ``foreign_links``
(a next link for another window), ``delete``/``reclassify``/``add`` (changes after a
fetch), wrong credentials (401).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

from tests.exchanges.fakes.serving import FakeRequest, FakeResponse

ROOT = "/hashsharing"
NAMESPACE = "https://hashsharing.ncmec.org/hashsharing/v2"
USERNAME = "vigil-test"
PASSWORD = "fake-ncmec-Pa55-do-not-log"
BASE_TIME = datetime(2025, 3, 1, tzinfo=UTC)
MEMBERS = {1: "Fake Platform One", 2: "Fake Platform Two", 3: "Fake NGO <&>"}
OWN_MEMBER = 9
REASONS = {
    "MD5": {"11111111-aaaa-4bbb-8ccc-000000000001": "Not CSAM"},
    "SHA1": {"11111111-aaaa-4bbb-8ccc-000000000001": "Not CSAM"},
    "PDQ": {
        "22222222-aaaa-4bbb-8ccc-000000000002": "Not CSAM",
        "22222222-aaaa-4bbb-8ccc-000000000003": "Wrong classification",
    },
}
XML_TYPE = "application/xml"


@dataclass
class FakeEntry:
    row: int
    member_id: int
    entry_id: str
    video: bool
    timestamp: datetime
    classification: str | None
    fingerprints: dict[str, str]
    deleted: bool = False

    @property
    def external_id(self) -> str:
        return f"{self.member_id}-{self.entry_id}"


@dataclass
class _Fault:
    response: FakeResponse
    after_pages: int


@dataclass
class FakeNcmec:
    """The service's state; call it with a request (``serving(fake)``)."""

    page_size: int = 10
    out_of_order: bool = True
    same_second: bool = False
    repeat_links: bool = False
    foreign_links: bool = False
    entries: list[FakeEntry] = field(default_factory=list)
    feedback: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)
    entries_pages_served: int = 0
    _faults: list[_Fault] = field(default_factory=list)
    _secret: bytes = b"cursor-secret-0"
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _random: random.Random = field(default_factory=lambda: random.Random(1679))

    # Content

    def generate(self, count: int, *, span: timedelta = timedelta(days=90)) -> None:
        """``count`` new entries with random hashes: images with MD5, SHA-1 and PDQ (some
        with a PhotoDNA the client cannot use), videos with MD5."""
        for _ in range(count):
            row = len(self.entries) + 1
            if self.same_second:
                moment = BASE_TIME
            elif self.out_of_order:
                moment = BASE_TIME + timedelta(
                    seconds=self._random.randrange(int(span.total_seconds()))
                )
            else:
                moment = BASE_TIME + span * row / (count + len(self.entries) + 1)
            self.add(self._random_entry(row, moment.replace(microsecond=0)))

    def add(self, entry: FakeEntry) -> FakeEntry:
        with self._lock:
            self.entries.append(entry)
        return entry

    def entry(self, external_id: str) -> FakeEntry:
        return next(e for e in self.entries if e.external_id == external_id)

    def delete(self, external_id: str, at: datetime) -> None:
        entry = self.entry(external_id)
        entry.deleted, entry.timestamp, entry.fingerprints = True, at, {}

    def reclassify(self, external_id: str, classification: str, at: datetime) -> None:
        entry = self.entry(external_id)
        entry.classification, entry.timestamp = classification, at

    def live(self) -> dict[str, FakeEntry]:
        return {e.external_id: e for e in self.entries if not e.deleted}

    def expected_signals(self) -> set[tuple[str, str, str]]:
        """(external id, type, hash) of every hash the client should hold."""
        kinds = {"md5": "md5", "sha1": "sha1", "pdq": "pdq"}
        return {
            (e.external_id, kinds[name], value.lower())
            for e in self.live().values()
            for name, value in e.fingerprints.items()
            if name in kinds and not (name == "pdq" and e.video)
        }

    def fail_entries(self, response: FakeResponse, *, times: int = 1, after_pages: int = 0) -> None:
        """The next ``times`` /v2/entries requests, once ``after_pages`` pages have been
        served, get ``response`` instead of their page."""
        self._faults.extend(_Fault(response, after_pages) for _ in range(times))

    def expire_links(self) -> None:
        """Every paging link issued so far stops working (NCMEC's links are short-lived)."""
        self._secret = hashlib.sha256(self._secret).digest()

    def _random_entry(self, row: int, moment: datetime) -> FakeEntry:
        video = self._random.random() < 0.2
        fingerprints = {"md5": self._hex(16)}
        if not video:
            fingerprints["sha1"] = self._hex(20)
            fingerprints["pdq"] = self._hex(32)
            if self._random.random() < 0.3:
                fingerprints["pdna"] = ",".join(str(self._random.randrange(256)) for _ in range(8))
        return FakeEntry(
            row=row,
            member_id=self._random.choice(sorted(MEMBERS)),
            entry_id=f"e{row:07d}",
            video=video,
            timestamp=moment,
            classification=self._random.choice(["A1", "A2", "B1", None]),
            fingerprints=fingerprints,
        )

    def _hex(self, size: int) -> str:
        return self._random.randbytes(size).hex()

    # HTTP

    def __call__(self, request: FakeRequest) -> FakeResponse:
        if not request.path.startswith(ROOT + "/"):
            return FakeResponse(404, b"not found", "text/plain")
        if request.basic_auth() != (USERNAME, PASSWORD):
            return FakeResponse(401, b"<error>unauthorized</error>", XML_TYPE)
        path = request.path[len(ROOT) :]
        parts = path.strip("/").split("/")
        if request.method == "GET" and path == "/v2/status":
            return _xml(
                f"<status xmlns='{NAMESPACE}'><ipAddress>127.0.0.1</ipAddress>"
                f"<username>{USERNAME}</username><member id='{OWN_MEMBER}'>Vigil Test</member>"
                "</status>"
            )
        if request.method == "GET" and path == "/v2/members":
            members = "".join(
                f"<member id='{i}'>{escape(name)}</member>" for i, name in MEMBERS.items()
            )
            return _xml(f"<members xmlns='{NAMESPACE}'>{members}</members>")
        if request.method == "GET" and path == "/v2/entries":
            return self._entries_or_fault(request)
        if request.method == "GET" and parts[:2] == ["v2", "feedback"] and len(parts) == 4:
            return self._reasons(parts[2])
        if request.method == "PUT" and parts[:2] == ["v2", "entries"] and len(parts) == 6:
            return self._take_feedback(parts[2], parts[3], parts[4], request.body)
        return FakeResponse(404, b"not found", "text/plain")

    def _entries_or_fault(self, request: FakeRequest) -> FakeResponse:
        with self._lock:
            due = next(
                (f for f in self._faults if f.after_pages <= self.entries_pages_served), None
            )
            if due is not None:
                self._faults.remove(due)
                return due.response
            answer = self._entries(request)
            if answer.status == 200:
                self.entries_pages_served += 1
            return answer

    def _entries(self, request: FakeRequest) -> FakeResponse:
        try:
            start_time = _parse(request.param("from"))
            end_time = _parse(request.param("to"))
        except ValueError:
            return FakeResponse(400, b"<error>bad from/to</error>", XML_TYPE)
        window = [e for e in self.entries if start_time <= e.timestamp < end_time]
        start_param = request.param("start")
        if start_param is None:
            start, top = 1, max((e.row for e in window), default=0)
        else:
            cursor = self._cursor(
                request.param("from"), request.param("to"), start_param, request.param("max")
            )
            if not hmac.compare_digest(cursor, request.param("cursor") or ""):
                return FakeResponse(400, b"<error>invalid or expired paging link</error>", XML_TYPE)
            start, top = int(start_param), int(request.param("max") or 0)
        selected = sorted((e for e in window if start <= e.row <= top), key=lambda e: e.row)
        page, rest = selected[: self.page_size], selected[self.page_size :]
        link = None
        if rest:
            link = self._link(start_time, end_time, rest[0].row, top)
            if self.repeat_links and start_param is not None:
                link = request.target[len(ROOT) :]
            if self.foreign_links:
                link = self._link(start_time - timedelta(days=1), end_time, rest[0].row, top)
        return _xml(_page_xml(page, link))

    def _link(self, start_time: datetime, end_time: datetime, row: int, top: int) -> str:
        from_text, to_text = _millis(start_time), _millis(end_time)
        query = {
            "from": from_text,
            "to": to_text,
            "start": str(row),
            "size": str(self.page_size),
            "max": str(top),
            "cursor": self._cursor(from_text, to_text, str(row), str(top)),
        }
        return "/v2/entries?" + urlencode(query, quote_via=quote)

    def _cursor(self, *values: str | None) -> str:
        message = "|".join(str(_parse(v)) if i < 2 else str(v) for i, v in enumerate(values))
        return hmac.new(self._secret, message.encode(), "sha256").hexdigest()[:24]

    def _reasons(self, fingerprint: str) -> FakeResponse:
        reasons = REASONS.get(fingerprint)
        if reasons is None:
            return FakeResponse(404, b"<error>unknown type</error>", XML_TYPE)
        body = "".join(
            f"<reason guid='{guid}' name='{escape(name)}' type='{fingerprint}'/>"
            for guid, name in reasons.items()
        )
        return _xml(
            f"<availableFeedbackReasons xmlns='{NAMESPACE}'>{body}</availableFeedbackReasons>"
        )

    def _take_feedback(
        self, member: str, entry_id: str, fingerprint: str, body: bytes
    ) -> FakeResponse:
        if f"{member}-{entry_id}" not in self.live() or fingerprint not in REASONS:
            return FakeResponse(404, b"<error>no such entry</error>", XML_TYPE)
        text = body.decode("utf-8", "replace")
        if "<affirmative" in text:
            verdict, guid = "affirmative", None
        elif "<negative" in text:
            guid = next((g for g in REASONS[fingerprint] if g in text), None)
            if guid is None:
                return FakeResponse(400, b"<error>unknown reason</error>", XML_TYPE)
            verdict = "negative"
        else:
            return FakeResponse(400, b"<error>no verdict</error>", XML_TYPE)
        self.feedback.append((member, entry_id, fingerprint, verdict, guid))
        return _xml(f"<submissionResult xmlns='{NAMESPACE}'/>")


def _page_xml(page: list[FakeEntry], link: str | None) -> str:
    images = [e for e in page if not e.video]
    videos = [e for e in page if e.video]
    parts = [f"<queryResult xmlns='{NAMESPACE}'>"]
    for name, group in (("images", images), ("videos", videos)):
        top = max((e.timestamp for e in group), default=None)
        stamp = f" maxTimestamp='{_seconds(top)}'" if top else ""
        parts.append(f"<{name} count='{len(group)}'{stamp}>")
        parts.extend(_entry_xml(e) for e in group)
        parts.append(f"</{name}>")
    if link is not None:
        parts.append(f"<paging><next>{escape(link)}</next></paging>")
    parts.append("</queryResult>")
    return "".join(parts)


def _entry_xml(entry: FakeEntry) -> str:
    kind = "video" if entry.video else "image"
    tag = f"deleted{kind.capitalize()}" if entry.deleted else kind
    member = f"<member id='{entry.member_id}'>{escape(MEMBERS[entry.member_id])}</member>"
    stamp = f"<timestamp>{_seconds(entry.timestamp)}</timestamp>"
    head = f"<{tag}>{member}{stamp}<id>{entry.entry_id}</id>"
    if entry.deleted:
        return head + f"</{tag}>"
    label = (
        f"<classification>{entry.classification}</classification>" if entry.classification else ""
    )
    prints = "".join(f"<{k}>{v}</{k}>" for k, v in entry.fingerprints.items())
    return head + label + f"<fingerprints>{prints}</fingerprints></{tag}>"


def _xml(text: str) -> FakeResponse:
    declaration = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    return FakeResponse(200, (declaration + text).encode(), XML_TYPE)


def _parse(text: str | None) -> datetime:
    if not text or not text.endswith("Z"):
        raise ValueError(text)
    return datetime.fromisoformat(text[:-1] + "+00:00")


def _seconds(moment: datetime | None) -> str:
    assert moment is not None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _millis(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def malformed_page() -> FakeResponse:
    return FakeResponse(200, b"<queryResult><images><image><id>x</id></images>", XML_TYPE)


def wrong_root() -> FakeResponse:
    return FakeResponse(200, b"<html><body>maintenance</body></html>", "text/html")


def cut_short() -> FakeResponse:
    """A valid page of entries whose body stops half way (the length announces all of it)."""
    donor = FakeNcmec()
    donor.generate(5)
    body = _xml(_page_xml(donor.entries, None)).body
    return FakeResponse(200, body, XML_TYPE, truncate_to=len(body) // 2)


def never_answers() -> FakeResponse:
    return FakeResponse(hang=True)


def server_error(status: int = 503) -> FakeResponse:
    return FakeResponse(status, b"<error>try again</error>", XML_TYPE)
