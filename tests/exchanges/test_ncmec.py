"""The NCMEC Hash Sharing client against the fake NCMEC service over real HTTP on loopback:
whole and interrupted fetches, each quirk of the service, each bad answer, feedback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.exchanges.fakes import ncmec as fakes
from tests.exchanges.fakes.ncmec import BASE_TIME, ROOT, FakeEntry, FakeNcmec
from tests.exchanges.fakes.serving import FakeService, serving
from tests.exchanges.replica import Crash, Replica, failure_of, fetch_into
from vigil.exchanges.ncmec import (
    LINK_LIFETIME,
    SERVICE_ROOTS,
    NcmecEnvironment,
    NcmecExchange,
    service_root,
)
from vigil.exchanges.protocol import (
    ExchangeConfig,
    FailureKind,
    Feedback,
    FeedbackVerdict,
)
from vigil.exchanges.transport import RetryPolicy, Transport
from vigil.lists.formats.records import SignalType

NOW = BASE_TIME + timedelta(days=120)
NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0, max_retry_after=0.0)
GOOD = {"username": fakes.USERNAME, "password": fakes.PASSWORD}


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def client_for(
    service: FakeService,
    *,
    clock: Clock | None = None,
    credentials: dict[str, str] | None = None,
    timeout: float = 5.0,
    options: dict[str, str] | None = None,
) -> NcmecExchange:
    config = ExchangeConfig(
        base_url=service.url(ROOT),
        credentials=GOOD if credentials is None else credentials,
        timeout_seconds=timeout,
        options=options or {},
    )
    transport = Transport(config, policy=NO_WAIT, sleep=lambda _: None)
    return NcmecExchange(config, transport, clock=clock or Clock())


def held(replica: Replica) -> set[tuple[str, str, str]]:
    return replica.signals()


@pytest.fixture
def fake() -> FakeNcmec:
    service = FakeNcmec(page_size=7)
    service.generate(60)
    return service


@pytest.fixture
def service(fake: FakeNcmec) -> Iterator[FakeService]:
    with serving(fake) as running:
        yield running


def entries_requests(service: FakeService) -> list[str]:
    return [r.target for r in service.requests if r.path == ROOT + "/v2/entries"]


# Whole fetches


def test_a_whole_fetch_holds_every_supported_hash_with_its_provenance(
    fake: FakeNcmec, service: FakeService
) -> None:
    replica = fetch_into(Replica(), client_for(service).fetch)
    assert held(replica) == fake.expected_signals()
    entry = next(e for e in fake.entries if not e.video and e.classification)
    records = replica.entries[entry.external_id]
    assert {r.signal_type for r in records.values()} == {
        SignalType.MD5,
        SignalType.SHA1,
        SignalType.PDQ,
    }
    record = next(iter(records.values()))
    assert record.classification == entry.classification
    assert record.member == fakes.MEMBERS[entry.member_id]
    assert record.tags == ("image",)
    video = next(e for e in fake.entries if e.video)
    assert {r.tags for r in replica.entries[video.external_id].values()} == {("video",)}


def test_requests_are_below_the_service_root_with_a_utc_window(service: FakeService) -> None:
    fetch_into(Replica(), client_for(service).fetch)
    first = next(r for r in service.requests if r.path.endswith("/v2/entries"))
    assert first.path == ROOT + "/v2/entries"
    assert first.param("from") == "2000-01-01T00:00:00Z"
    assert first.basic_auth() == (fakes.USERNAME, fakes.PASSWORD)


def test_unsupported_fingerprints_are_counted_not_matched(
    fake: FakeNcmec, service: FakeService
) -> None:
    replica = fetch_into(Replica(), client_for(service).fetch)
    photodna = sum("pdna" in e.fingerprints for e in fake.entries)
    assert photodna > 0
    counted = [w.message for w in replica.warnings if "'pdna'" in w.message]
    assert sum(int(m.split(": ")[1].split()[0]) for m in counted) == photodna
    assert all(
        r.signal_type in {SignalType.MD5, SignalType.SHA1, SignalType.PDQ}
        for r in replica.records()
    )


def test_the_last_checkpoint_is_between_windows_and_ends_at_now(service: FakeService) -> None:
    replica = fetch_into(Replica(), client_for(service).fetch)
    assert replica.checkpoint is not None
    assert json.loads(replica.checkpoint) == {
        "v": 1,
        "window_start": _utc(NOW),
        "window_end": None,
        "next": None,
        "next_issued": None,
    }


@pytest.mark.parametrize("crash_after", [1, 3, 6, 9, 12, 15])
def test_a_crash_mid_fetch_resumes_to_the_same_records(
    fake: FakeNcmec, service: FakeService, crash_after: int
) -> None:
    whole = fetch_into(Replica(), client_for(service).fetch)
    interrupted = Replica()
    with pytest.raises(Crash):
        fetch_into(interrupted, client_for(service).fetch, crash_after=crash_after)
    fetch_into(interrupted, client_for(service).fetch)
    assert held(interrupted) == held(whole) == fake.expected_signals()


def test_crashing_after_every_page_still_converges(fake: FakeNcmec, service: FakeService) -> None:
    """Each run stores one page and dies; the runs still get to the end of the history."""
    replica = Replica()
    runs = 0
    since = {"since": _utc(BASE_TIME - timedelta(days=1))}
    while json.loads(replica.checkpoint or "{}").get("window_start") != _utc(NOW):
        with pytest.raises(Crash):
            fetch_into(replica, client_for(service, options=since).fetch, crash_after=1)
        runs += 1
        assert runs < 200, "a fetch resumed page by page never ended"
    assert held(replica) == fake.expected_signals()


# The service's quirks


def test_many_entries_in_one_second_never_stall() -> None:
    fake = FakeNcmec(page_size=7, same_second=True)
    fake.generate(120)
    with serving(fake) as service:
        replica = fetch_into(Replica(), client_for(service).fetch)
    assert held(replica) == fake.expected_signals()
    pages_of_that_second = [t for t in entries_requests(service) if "start=" in t]
    assert len(pages_of_that_second) == 120 // 7


def test_entries_out_of_time_order_are_all_kept(fake: FakeNcmec, service: FakeService) -> None:
    timestamps = [e.timestamp for e in sorted(fake.entries, key=lambda e: e.row)]
    assert timestamps != sorted(timestamps), "the fake should serve entries out of time order"
    assert held(fetch_into(Replica(), client_for(service).fetch)) == fake.expected_signals()


def test_a_paging_link_is_bound_to_its_window_at_the_fake(service: FakeService) -> None:
    """The quirk itself: reuse a link with another window and the service refuses it."""
    auth = (fakes.USERNAME, fakes.PASSWORD)
    url = service.url(ROOT + "/v2/entries")
    window = {"from": "2000-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
    first = httpx.get(url, params=window, auth=auth)
    link = first.text.split("<next>")[1].split("</next>")[0].replace("&amp;", "&")
    assert httpx.get(service.url(ROOT + link), auth=auth).status_code == 200
    moved = link.replace("from=2000-01-01", "from=2001-01-01")
    assert httpx.get(service.url(ROOT + moved), auth=auth).status_code == 400


def test_a_resumed_fetch_follows_its_link_in_the_same_window(
    fake: FakeNcmec, service: FakeService
) -> None:
    replica = Replica()
    with pytest.raises(Crash):
        fetch_into(replica, client_for(service).fetch, crash_after=12)
    state = json.loads(str(replica.checkpoint))
    assert state["next"] is not None, "the crash should fall inside a window"
    before = len(service.requests)
    fetch_into(replica, client_for(service).fetch)
    resumed = service.requests[before]
    assert resumed.target == ROOT + state["next"]
    assert held(replica) == fake.expected_signals()


def test_an_expired_link_refetches_its_window_and_skips_nothing(
    fake: FakeNcmec, service: FakeService
) -> None:
    replica = Replica()
    with pytest.raises(Crash):
        fetch_into(replica, client_for(service).fetch, crash_after=12)
    fake.expire_links()
    fetch_into(replica, client_for(service).fetch)
    assert held(replica) == fake.expected_signals()


def test_a_link_older_than_its_lifetime_is_not_used(fake: FakeNcmec, service: FakeService) -> None:
    replica = Replica()
    with pytest.raises(Crash):
        fetch_into(replica, client_for(service).fetch, crash_after=12)
    state = json.loads(str(replica.checkpoint))
    later = Clock(NOW + LINK_LIFETIME + timedelta(minutes=1))
    before = len(service.requests)
    fetch_into(replica, client_for(service, clock=later).fetch)
    restarted = service.requests[before]
    assert restarted.param("start") is None
    assert (restarted.param("from"), restarted.param("to")) == (
        state["window_start"],
        state["window_end"],
    )
    assert held(replica) == fake.expected_signals()


def test_a_late_entry_inside_the_overlap_is_fetched(fake: FakeNcmec, service: FakeService) -> None:
    replica = fetch_into(Replica(), client_for(service).fetch)
    late = fake.add(_entry(fake, NOW - timedelta(minutes=10)))
    clock = Clock(NOW + timedelta(hours=2))
    fetch_into(replica, client_for(service, clock=clock).fetch)
    assert late.external_id in replica.entries
    assert held(replica) == fake.expected_signals()


def test_deletions_of_entries_sent_earlier_remove_them(
    fake: FakeNcmec, service: FakeService
) -> None:
    replica = fetch_into(Replica(), client_for(service).fetch)
    gone = [e.external_id for e in fake.entries[:5]]
    for external_id in gone:
        fake.delete(external_id, NOW + timedelta(hours=1))
    fetch_into(replica, client_for(service, clock=Clock(NOW + timedelta(hours=2))).fetch)
    assert not set(gone) & set(replica.entries)
    assert held(replica) == fake.expected_signals()


def test_an_update_changes_the_classification(fake: FakeNcmec, service: FakeService) -> None:
    replica = fetch_into(Replica(), client_for(service).fetch)
    entry = fake.entries[7]
    fake.reclassify(entry.external_id, "B2", NOW + timedelta(hours=1))
    fetch_into(replica, client_for(service, clock=Clock(NOW + timedelta(hours=2))).fetch)
    assert {r.classification for r in replica.entries[entry.external_id].values()} == {"B2"}


def test_a_transient_5xx_is_retried_within_the_fetch(fake: FakeNcmec, service: FakeService) -> None:
    fake.fail_entries(fakes.server_error(), times=2, after_pages=4)
    replica = fetch_into(Replica(), client_for(service).fetch)
    assert held(replica) == fake.expected_signals()


# Bad answers: the right failure, no page past the problem, the next fetch resumes


@pytest.mark.parametrize(
    ("fault", "times", "kind"),
    [
        (fakes.server_error(), NO_WAIT.attempts, FailureKind.SERVER),
        (fakes.malformed_page(), 1, FailureKind.MALFORMED),
        (fakes.wrong_root(), 1, FailureKind.MALFORMED),
        (fakes.cut_short(), NO_WAIT.attempts, FailureKind.MALFORMED),
        (fakes.never_answers(), NO_WAIT.attempts, FailureKind.UNREACHABLE),
        (fakes.server_error(401), 1, FailureKind.CREDENTIALS),
    ],
    ids=["5xx", "malformed", "not-ncmec", "truncated", "timeout", "401"],
)
def test_a_bad_page_stops_the_fetch_at_the_last_good_page(
    fake: FakeNcmec, service: FakeService, fault: fakes.FakeResponse, times: int, kind: FailureKind
) -> None:
    whole = fetch_into(Replica(), client_for(service).fetch)
    fake.entries_pages_served = 0
    fake.fail_entries(fault, times=times, after_pages=5)
    replica = Replica()
    error = failure_of(replica, client_for(service, timeout=0.3).fetch)
    assert error.kind is kind
    assert replica.pages == 5
    fetch_into(replica, client_for(service).fetch)
    assert held(replica) == held(whole)


@pytest.mark.parametrize("quirk", ["repeat_links", "foreign_links"])
def test_a_page_that_repeats_or_leaves_its_window_is_refused(
    fake: FakeNcmec, service: FakeService, quirk: str
) -> None:
    setattr(fake, quirk, True)
    replica = Replica()
    error = failure_of(replica, client_for(service).fetch)
    assert error.kind is FailureKind.MALFORMED
    setattr(fake, quirk, False)
    fetch_into(replica, client_for(service).fetch)
    assert held(replica) == fake.expected_signals()


def test_an_invalid_hash_is_a_record_error_and_the_rest_is_kept(
    fake: FakeNcmec, service: FakeService
) -> None:
    bad = fake.add(_entry(fake, BASE_TIME, md5="not-a-hash"))
    replica = fetch_into(Replica(), client_for(service).fetch)
    [error] = replica.errors
    assert "not-a-hash" in error.raw_excerpt
    assert bad.external_id not in replica.entries
    assert held(replica) == fake.expected_signals() - {(bad.external_id, "md5", "not-a-hash")}


@pytest.mark.parametrize(
    "checkpoint",
    [
        "",
        '{"v": 1}',
        '{"v": 1, "window_start": "2025-01-01T00:00:00"}',
        '{"v": 1, "window_start": "2025-02-01T00:00:00Z", "window_end": "2025-01-01T00:00:00Z"}',
        '{"v": 1, "window_start": "2025-01-01T00:00:00Z", "next": "/v2/entries?start=5"}',
        '{"v": 1, "window_start": "2025-01-01T00:00:00Z", "window_end": "2025-02-01T00:00:00Z",'
        ' "next": "/v2/entries?from=2024-01-01T00%3A00%3A00.000Z&start=5"}',
        '{"v": 1, "window_start": "2025-01-01T00:00:00Z", "window_end": "2025-02-01T00:00:00Z",'
        ' "next": "https://elsewhere.example/v2/entries"}',
        '{"v": 1, "window_start": "2099-01-01T00:00:00Z"}',
    ],
    ids=[
        "empty",
        "no-start",
        "not-utc",
        "backwards",
        "link-without-window",
        "link-other-window",
        "link-elsewhere",
        "future",
    ],
)
def test_a_checkpoint_it_did_not_write_is_refused(service: FakeService, checkpoint: str) -> None:
    error = failure_of(Replica(checkpoint=checkpoint), client_for(service).fetch)
    assert error.kind is FailureKind.CHECKPOINT
    assert entries_requests(service) == []


# Feedback


def test_affirmative_feedback_is_put_on_the_fingerprint(
    fake: FakeNcmec, service: FakeService
) -> None:
    entry = next(e for e in fake.entries if not e.video)
    client = client_for(service)
    client.send_feedback(_feedback(entry, SignalType.MD5, FeedbackVerdict.AFFIRMATIVE))
    assert fake.feedback == [(str(entry.member_id), entry.entry_id, "MD5", "affirmative", None)]
    put = service.requests[-1]
    assert put.method == "PUT" and put.path.endswith(f"/{entry.entry_id}/MD5/feedback")


def test_negative_feedback_names_its_reason_by_name_guid_or_the_only_one(
    fake: FakeNcmec, service: FakeService
) -> None:
    entry = next(e for e in fake.entries if not e.video)
    client = client_for(service)
    client.send_feedback(
        _feedback(entry, SignalType.PDQ, FeedbackVerdict.NEGATIVE, "wrong classification")
    )
    guid = "22222222-aaaa-4bbb-8ccc-000000000002"
    client.send_feedback(_feedback(entry, SignalType.PDQ, FeedbackVerdict.NEGATIVE, guid))
    client.send_feedback(_feedback(entry, SignalType.SHA1, FeedbackVerdict.NEGATIVE))
    assert [f[3:] for f in fake.feedback] == [
        ("negative", "22222222-aaaa-4bbb-8ccc-000000000003"),
        ("negative", guid),
        ("negative", "11111111-aaaa-4bbb-8ccc-000000000001"),
    ]


@pytest.mark.parametrize(
    ("signal_type", "reason", "entry_id", "kind"),
    [
        (SignalType.PDQ, None, None, FailureKind.REFUSED),  # two reasons offered: say which
        (SignalType.PDQ, "no such reason", None, FailureKind.REFUSED),
        (SignalType.SHA256, None, None, FailureKind.UNSUPPORTED),
        (SignalType.MD5, None, "no-member-id", FailureKind.REFUSED),
        (SignalType.MD5, None, "1-e9999999", FailureKind.REFUSED),  # unknown entry: 404
    ],
)
def test_feedback_the_service_cannot_take_is_refused(
    fake: FakeNcmec,
    service: FakeService,
    signal_type: SignalType,
    reason: str | None,
    entry_id: str | None,
    kind: FailureKind,
) -> None:
    entry = next(e for e in fake.entries if not e.video)
    feedback = _feedback(entry, signal_type, FeedbackVerdict.NEGATIVE, reason)
    if entry_id is not None:
        feedback = Feedback(entry_id, signal_type, "0" * 32, FeedbackVerdict.NEGATIVE, reason)
    with pytest.raises(Exception) as refused:
        client_for(service).send_feedback(feedback)
    assert getattr(refused.value, "kind", None) is kind
    assert fake.feedback == []


# Environments


def test_every_environment_has_a_root_and_a_test_twin() -> None:
    names = {e.value for e in NcmecEnvironment}
    for environment, root in SERVICE_ROOTS.items():
        assert root.startswith("https://") and not root.endswith("/")
        if not environment.value.startswith("test_"):
            assert f"test_{environment.value}" in names
    assert set(SERVICE_ROOTS) == set(NcmecEnvironment)


def test_the_base_url_overrides_the_environment() -> None:
    assert service_root(ExchangeConfig(base_url="", environment="test_ngo")) == (
        "https://hashsharing-test.ncmec.org/npo"
    )
    assert service_root(ExchangeConfig(base_url="")) == "https://report.cybertip.org/hashsharing"
    override = ExchangeConfig(base_url="http://127.0.0.1:1/root/", environment="ngo")
    assert service_root(override) == "http://127.0.0.1:1/root"
    with pytest.raises(ValueError, match="unknown NCMEC environment"):
        service_root(ExchangeConfig(base_url="", environment="moon"))


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(fake: FakeNcmec, moment: datetime, *, md5: str | None = None) -> FakeEntry:
    row = len(fake.entries) + 1
    return FakeEntry(
        row=row,
        member_id=2,
        entry_id=f"late{row}",
        video=True,
        timestamp=moment.astimezone(UTC),
        classification="A1",
        fingerprints={"md5": md5 or f"{row:032x}"},
    )


def _feedback(
    entry: FakeEntry, signal_type: SignalType, verdict: FeedbackVerdict, reason: str | None = None
) -> Feedback:
    signal = entry.fingerprints.get(str(signal_type), "0" * 32)
    return Feedback(entry.external_id, signal_type, signal, verdict, reason)
