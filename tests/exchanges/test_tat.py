"""The Tech Against Terrorism client against the fake TCAP hash list over real HTTP on
loopback."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator

import pytest

from tests.exchanges.fakes.faults import cut_short, malformed_json, rate_limited, server_error
from tests.exchanges.fakes.serving import FakeResponse, FakeService, serving
from tests.exchanges.fakes.tat import PASSWORD, USERNAME, FakeTat
from tests.exchanges.no_wait import quick_transport
from tests.exchanges.replica import Crash, Replica, failure_of, fetch_into
from vigil.exchanges.protocol import (
    ExchangeConfig,
    ExchangeError,
    FailureKind,
    Feedback,
    FeedbackVerdict,
    Submission,
)
from vigil.exchanges.tat import CLIENT, TechAgainstTerrorism
from vigil.lists.formats.records import ListRecord, SignalType

LIST = "/api/hash-list/v2/all"


def pdq() -> str:
    return secrets.token_hex(32)


@pytest.fixture
def fake() -> FakeTat:
    service = FakeTat(page_size=3)
    for _ in range(4):  # four entries in one instant: a page boundary falls inside it
        service.add("PDQ", pdq(), file_type="png")
    service.tick()
    service.add("MD5", secrets.token_hex(16), ideology="far-right")
    service.add("MD5", secrets.token_hex(16), file_type="pdf")
    service.tick()
    service.add("PDQ", pdq())
    return service


@pytest.fixture
def service(fake: FakeTat) -> Iterator[FakeService]:
    with serving(fake) as running:
        yield running


def client_for(
    service: FakeService, username: str = USERNAME, password: str = PASSWORD
) -> TechAgainstTerrorism:
    config = ExchangeConfig(
        base_url=service.url(""), credentials={"username": username, "password": password}
    )
    return TechAgainstTerrorism(config, quick_transport(config))


def whole_fetch(service: FakeService) -> Replica:
    return fetch_into(Replica(), client_for(service).fetch)


def record_of(replica: Replica, external_id: str) -> ListRecord:
    (record,) = replica.entries[external_id].values()
    return record


def test_the_module_names_its_client_and_what_it_takes() -> None:
    assert CLIENT is TechAgainstTerrorism
    assert TechAgainstTerrorism.capabilities == frozenset()
    assert TechAgainstTerrorism.required_credentials == ("username", "password")


def test_a_fetch_signs_in_and_brings_every_hash(service: FakeService, fake: FakeTat) -> None:
    stored = whole_fetch(service)
    assert len(stored.entries) == 7
    record = record_of(stored, str(fake.entries[4].id))
    assert (record.signal_type, record.signal) == (SignalType.MD5, fake.entries[4].hash_digest)
    assert record.classification == "far-right"
    assert record.tags == ("file_type:mp4",)
    assert stored.pages == 3
    assert service.requests[0].path == "/token-auth/tcap/"
    assert fake.sign_ins == 1  # one token for the whole fetch


def test_each_page_is_asked_for_after_the_previous_pages_checkpoint(
    service: FakeService, fake: FakeTat
) -> None:
    stored = whole_fetch(service)
    asked = [r for r in service.requests if r.path == LIST]
    assert [r.param("offset") for r in asked] == [None, None, None]
    assert len({r.param("after") for r in asked}) == 3
    last = max(fake.entries, key=lambda entry: entry.key)
    assert json.loads(stored.checkpoint or "{}")["after"] == f"{last.updated_on},{last.id}"


def test_pages_say_how_far_the_fetch_has_come_and_how_much_there_is(
    service: FakeService, fake: FakeTat
) -> None:
    pages = list(client_for(service).fetch(None))
    assert [page.estimated_total for page in pages] == [7, 7, 7]
    last = pages[-1].through
    assert last is not None and last.timestamp() == max(e.updated_on for e in fake.entries)


def test_deletions_of_entries_sent_earlier_remove_them(service: FakeService, fake: FakeTat) -> None:
    stored = whole_fetch(service)
    fake.delete(fake.entries[0])
    fake.delete(fake.entries[5])
    late = fake.add("PDQ", pdq())

    fetch_into(stored, client_for(service).fetch)

    assert str(fake.entries[0].id) not in stored.entries
    assert str(fake.entries[5].id) not in stored.entries
    assert str(late.id) in stored.entries
    # The second fetch asked only for what changed after the first.
    assert [r.param("after") for r in service.requests if r.path == LIST][-2] != ""


def test_a_page_that_repeats_an_entry_changes_nothing(service: FakeService, fake: FakeTat) -> None:
    expected = whole_fetch(service).entries
    fake.repeat_last = True
    assert whole_fetch(service).entries == expected


@pytest.mark.parametrize("crash_after", [1, 2])
def test_a_fetch_resumed_after_a_crash_ends_with_the_same_list(
    service: FakeService, fake: FakeTat, crash_after: int
) -> None:
    expected = whole_fetch(service).entries
    stored = Replica()
    with pytest.raises(Crash):
        fetch_into(stored, client_for(service).fetch, crash_after=crash_after)
    fake.add("PDQ", pdq())  # an entry added while the fetch was down
    expected_after = whole_fetch(service).entries

    fetch_into(stored, client_for(service).fetch)

    assert stored.entries == expected_after
    assert set(expected) < set(expected_after)


def test_a_token_that_expires_during_a_fetch_is_renewed_for_each_page(
    service: FakeService, fake: FakeTat
) -> None:
    expected = whole_fetch(service).entries
    signed_in = fake.sign_ins
    stored = Replica()
    for page in client_for(service).fetch(None):
        stored.apply(page)
        fake.expire_tokens()  # TCAP tokens last minutes: a long fetch outlives several
    assert stored.entries == expected
    assert fake.sign_ins - signed_in == 3


def test_the_sign_in_sends_the_credentials_as_json(service: FakeService) -> None:
    client_for(service).check()
    sign_in = service.requests[-1]
    assert sign_in.headers["content-type"].startswith("application/json")
    assert json.loads(sign_in.body) == {"username": USERNAME, "password": PASSWORD}


def test_unknown_algorithms_are_warnings_and_invalid_hashes_errors(
    service: FakeService, fake: FakeTat
) -> None:
    fake.tick()
    fake.add("TMK", "ab" * 100)
    fake.add("PhotoDNA", "ab" * 72)
    fake.add("PDQ", "f" * 63)
    fake.add("MD5", secrets.token_hex(16), ideology="bad\x00label")
    stored = whole_fetch(service)
    assert len(stored.warnings) == 2
    assert len(stored.errors) == 2
    assert len(stored.entries) == 7


def test_transient_errors_and_429_are_waited_out(service: FakeService, fake: FakeTat) -> None:
    expected = whole_fetch(service).entries
    fake.faults.add(server_error(504), path_suffix="all")
    fake.faults.add(rate_limited("2"), path_suffix="all")
    assert whole_fetch(service).entries == expected


@pytest.mark.parametrize(
    ("fault", "times", "kind"),
    [
        (server_error(500), 4, FailureKind.SERVER),
        (rate_limited("0"), 4, FailureKind.RATE_LIMITED),
        (malformed_json(), 1, FailureKind.MALFORMED),
        (FakeResponse(200, b"[" * 100_000), 1, FailureKind.MALFORMED),  # nesting bomb
        (FakeResponse(200, b'{"count": 1, "next": null}'), 1, FailureKind.MALFORMED),
        (
            FakeResponse(200, b'{"results": [{"id": 1}], "checkpoint": "yesterday"}'),
            1,
            FailureKind.MALFORMED,
        ),
        (
            FakeResponse(200, b'{"results": [], "next": "http://x/?offset=3"}'),
            1,
            FailureKind.MALFORMED,
        ),
        (cut_short, 4, FailureKind.MALFORMED),
        (FakeResponse(403, b"{}"), 2, FailureKind.CREDENTIALS),
    ],
)
def test_a_bad_page_fails_without_handing_out_a_page_past_it(
    service: FakeService, fake: FakeTat, fault: object, times: int, kind: FailureKind
) -> None:
    expected = whole_fetch(service).entries
    stored = Replica()
    pages = client_for(service).fetch(None)
    stored.apply(next(pages))
    fake.faults.add(fault, path_suffix="all", times=times)  # type: ignore[arg-type]

    with pytest.raises(ExchangeError) as raised:
        for page in pages:
            stored.apply(page)

    assert raised.value.kind is kind
    assert stored.pages == 1
    fetch_into(stored, client_for(service).fetch)
    assert stored.entries == expected


def test_a_wrong_password_is_a_credential_failure_that_never_shows_it(
    service: FakeService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-" + secrets.token_hex(8)
    error = failure_of(Replica(), client_for(service, password=wrong).fetch)
    assert error.kind is FailureKind.CREDENTIALS
    assert wrong not in str(error) and wrong not in caplog.text
    assert [r.path for r in service.requests] == ["/token-auth/tcap/"]


def test_a_sign_in_without_a_token_is_malformed(fake: FakeTat) -> None:
    fake.faults.add(FakeResponse(200, b'{"user": {}}'), path_suffix="tcap/")
    with serving(fake) as running:
        error = failure_of(Replica(), client_for(running).fetch)
    assert error.kind is FailureKind.MALFORMED


def test_a_checkpoint_of_another_client_is_refused(service: FakeService) -> None:
    for foreign in [
        '{"client": "threatexchange", "start": 1}',
        '{"client": "tat", "after": "1; DROP TABLE"}',
        "1724856487.709035,10594",
    ]:
        with pytest.raises(ExchangeError) as raised:
            next(client_for(service).fetch(foreign))
        assert raised.value.kind is FailureKind.CHECKPOINT


def test_feedback_and_submission_are_unsupported(service: FakeService) -> None:
    client = client_for(service)
    with pytest.raises(ExchangeError) as raised:
        client.send_feedback(Feedback("1", SignalType.PDQ, pdq(), FeedbackVerdict.NEGATIVE))
    assert raised.value.kind is FailureKind.UNSUPPORTED
    with pytest.raises(ExchangeError) as raised:
        client.submit(Submission(SignalType.PDQ, pdq()))
    assert raised.value.kind is FailureKind.UNSUPPORTED


def test_check_signs_in(service: FakeService) -> None:
    assert client_for(service).check().reachable
    with pytest.raises(ExchangeError) as raised:
        client_for(service, username="nobody").check()
    assert raised.value.kind is FailureKind.CREDENTIALS
