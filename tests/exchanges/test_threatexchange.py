"""The ThreatExchange client against the fake Graph API over real HTTP on loopback."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterator

import pytest

from tests.exchanges.fakes.faults import cut_short, malformed_json, rate_limited, server_error
from tests.exchanges.fakes.serving import FakeResponse, FakeService, serving
from tests.exchanges.fakes.threatexchange import APP, GROUP, TOKEN, FakeThreatExchange
from tests.exchanges.no_wait import quick_transport
from tests.exchanges.replica import Crash, Replica, failure_of, fetch_into
from vigil.exchanges.protocol import (
    Capability,
    ExchangeConfig,
    ExchangeError,
    FailureKind,
    Feedback,
    FeedbackVerdict,
    Submission,
)
from vigil.exchanges.threatexchange import CLIENT, ThreatExchange
from vigil.lists.formats.records import ListRecord, SignalType


def pdq() -> str:
    return secrets.token_hex(32)


@pytest.fixture
def fake() -> FakeThreatExchange:
    service = FakeThreatExchange(page_size=3)
    for _ in range(5):
        service.add("HASH_PDQ", pdq(), tags=("terrorism",), age=100)
    service.add("HASH_MD5", secrets.token_hex(16), owner="777", age=100)
    service.add("HASH_VIDEO_MD5", secrets.token_hex(16), age=50)
    service.add("HASH_SHA256", secrets.token_hex(32), age=50)
    return service


@pytest.fixture
def service(fake: FakeThreatExchange) -> Iterator[FakeService]:
    with serving(fake) as running:
        yield running


def client_for(service: FakeService, token: str = TOKEN, group: str = GROUP) -> ThreatExchange:
    config = ExchangeConfig(
        base_url=service.url("/v21.0"),
        credentials={"access_token": token},
        options={"privacy_group": group},
    )
    return ThreatExchange(config, quick_transport(config))


def whole_fetch(service: FakeService) -> Replica:
    return fetch_into(Replica(), client_for(service).fetch)


def record_of(replica: Replica, external_id: str) -> ListRecord:
    (record,) = replica.entries[external_id].values()
    return record


def test_the_module_names_its_client_and_what_it_takes() -> None:
    assert CLIENT is ThreatExchange
    assert ThreatExchange.capabilities == {Capability.FEEDBACK}
    assert ThreatExchange.required_credentials == ("access_token",)


def test_a_fetch_brings_every_hash_with_its_provenance(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    stored = whole_fetch(service)
    assert len(stored.entries) == 8
    first = fake.indicators[0]
    record = record_of(stored, first.id)
    assert (record.signal_type, record.signal) == (SignalType.PDQ, first.indicator)
    assert record.member == "555"
    assert record.tags == ("terrorism",)
    assert record_of(stored, fake.indicators[5].id).member == "777"
    assert record_of(stored, fake.indicators[6].id).signal_type is SignalType.MD5
    request = service.requests[0]
    assert request.path == f"/v21.0/{GROUP}/threat_updates/"
    assert request.param("stop_time") is not None


def test_pages_say_how_far_in_time_the_fetch_has_come(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    pages = list(client_for(service).fetch(None))
    last = pages[-1].through
    assert last is not None
    assert last.timestamp() == max(i.last_updated for i in fake.indicators)


def test_reactions_and_classification_tags_are_provenance(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    indicator = fake.add("HASH_PDQ", pdq(), tags=("A1", "csam"), age=10)
    indicator.descriptors[0]["reactions"] = [{"key": "HELPFUL", "value": "1,2"}]
    record = record_of(whole_fetch(service), indicator.id)
    assert record.classification == "A1"
    assert record.tags == ("A1", "csam", "reaction:HELPFUL")


def test_deletions_of_indicators_sent_earlier_remove_them(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    stored = whole_fetch(service)
    gone, disputed = fake.indicators[0], fake.indicators[1]
    fake.delete(gone)
    disputed.descriptors[0]["status"] = "NON_MALICIOUS"
    fake.touch(disputed)
    late = fake.add("HASH_PDQ", pdq())

    fetch_into(stored, client_for(service).fetch)

    assert gone.id not in stored.entries
    assert disputed.id not in stored.entries
    assert late.id in stored.entries
    # The second window starts where the first ended (a second early), not at the beginning.
    assert int(service.requests[-1].param("start_time") or 0) > 0


def test_a_tombstone_with_nothing_but_its_id_deletes(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    stored = whole_fetch(service)
    gone = fake.indicators[2]
    fake.delete(gone)
    gone.type, gone.indicator = "", ""
    fetch_into(stored, client_for(service).fetch)
    assert gone.id not in stored.entries
    assert stored.warnings == [] and stored.errors == []


def test_pages_out_of_time_order_or_repeating_change_nothing(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    expected = whole_fetch(service).entries
    fake.shuffle_pages = True
    fake.repeat_last = True
    assert whole_fetch(service).entries == expected


@pytest.mark.parametrize("crash_after", [1, 2])
def test_a_fetch_resumed_after_a_crash_asks_for_the_same_window(
    service: FakeService, fake: FakeThreatExchange, crash_after: int
) -> None:
    expected = whole_fetch(service).entries
    stored = Replica()
    with pytest.raises(Crash):
        fetch_into(stored, client_for(service).fetch, crash_after=crash_after)
    window = json.loads(stored.checkpoint or "{}")
    time.sleep(1.1)  # a resumed fetch must not open a new window: its cursor is bound to it

    fetch_into(stored, client_for(service).fetch)

    assert stored.entries == expected
    assert service.requests[-1].param("stop_time") == str(window["stop"])


def test_a_resumed_fetch_whose_cursor_expired_starts_its_window_again(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    expected = whole_fetch(service).entries
    stored = Replica()
    with pytest.raises(Crash):
        fetch_into(stored, client_for(service).fetch, crash_after=2)
    fake.expire_cursors()

    fetch_into(stored, client_for(service).fetch)

    assert stored.entries == expected


def test_unknown_types_are_warnings_and_invalid_hashes_errors(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    fake.add("HASH_URL_MD5", secrets.token_hex(16), age=10)
    fake.add("HASH_TMK", "ab" * 300, age=10)
    fake.add("HASH_PDQ", "xyz", age=10)
    fake.add("HASH_MD5", "d41d8cd98f00b204e9800998ecf8427e", age=10)  # md5 of nothing
    fake.add("HASH_PDQ", pdq(), tags=("bad\u202etag",), age=10)

    stored = whole_fetch(service)

    assert len(stored.warnings) == 2
    assert len(stored.errors) == 3
    assert len(stored.entries) == 8


def test_transient_errors_and_429_are_waited_out(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    expected = whole_fetch(service).entries
    fake.faults.add(server_error(502), path_suffix="threat_updates/")
    fake.faults.add(rate_limited("1"), path_suffix="threat_updates/")
    assert whole_fetch(service).entries == expected


@pytest.mark.parametrize(
    ("fault", "times", "kind"),
    [
        (server_error(500), 4, FailureKind.SERVER),
        (rate_limited("0"), 4, FailureKind.RATE_LIMITED),
        (malformed_json(), 1, FailureKind.MALFORMED),
        (FakeResponse(200, b"[" * 100_000), 1, FailureKind.MALFORMED),  # nesting bomb
        (FakeResponse(200, b'{"paging": {}}'), 1, FailureKind.MALFORMED),
        (FakeResponse(200, b'{"data": [], "paging": {"next": "x"}}'), 1, FailureKind.MALFORMED),
        (cut_short, 4, FailureKind.MALFORMED),
        (
            FakeResponse(400, b'{"error": {"code": 4, "message": "Application request limit"}}'),
            1,
            FailureKind.RATE_LIMITED,
        ),
        (FakeResponse(400, b"<html>Bad Request</html>"), 2, FailureKind.REFUSED),
    ],
)
def test_a_bad_page_fails_without_handing_out_a_page_past_it(
    service: FakeService,
    fake: FakeThreatExchange,
    fault: object,
    times: int,
    kind: FailureKind,
) -> None:
    expected = whole_fetch(service).entries
    stored = Replica()
    pages = client_for(service).fetch(None)
    stored.apply(next(pages))
    fake.faults.add(fault, path_suffix="threat_updates/", times=times)  # type: ignore[arg-type]

    with pytest.raises(ExchangeError) as raised:
        for page in pages:
            stored.apply(page)

    assert raised.value.kind is kind
    assert stored.pages == 1
    fetch_into(stored, client_for(service).fetch)
    assert stored.entries == expected


def test_a_wrong_token_is_a_credential_failure_that_never_shows_the_token(
    service: FakeService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "999999999|" + secrets.token_hex(16)
    error = failure_of(Replica(), client_for(service, token=wrong).fetch)
    assert error.kind is FailureKind.CREDENTIALS
    for secret in (wrong, TOKEN):
        assert secret not in str(error)
        assert secret not in caplog.text


def test_no_message_or_log_shows_the_token_even_when_the_service_echoes_it(
    fake: FakeThreatExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = json.dumps({"error": {"code": 100, "message": f"bad request for {TOKEN}"}})
    fake.faults.add(FakeResponse(400, echo.encode()))
    fake.faults.add(server_error(503), times=4)
    with serving(fake) as running:
        for _ in range(2):
            error = failure_of(Replica(), client_for(running).fetch)
            assert TOKEN not in str(error)
    assert TOKEN not in caplog.text


def test_no_privacy_group_is_refused_before_anything_is_sent(service: FakeService) -> None:
    with pytest.raises(ExchangeError) as raised:
        next(client_for(service, group="").fetch(None))
    assert raised.value.kind is FailureKind.REFUSED
    assert service.requests == []


def test_a_checkpoint_of_another_client_is_refused(service: FakeService) -> None:
    for foreign in ['{"client": "stopncii", "start": 1, "token": null}', "1700000000", "[]"]:
        with pytest.raises(ExchangeError) as raised:
            next(client_for(service).fetch(foreign))
        assert raised.value.kind is FailureKind.CHECKPOINT


def test_a_checkpoint_older_than_the_kept_deletions_warns(service: FakeService) -> None:
    old = json.dumps({"client": "threatexchange", "start": 1_600_000_000, "stop": None})
    stored = Replica(checkpoint=old)
    fetch_into(stored, client_for(service).fetch)
    assert any("90 days" in warning.message for warning in stored.warnings)


def test_feedback_reacts_to_the_indicators_descriptors(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    indicator = fake.indicators[0]
    client = client_for(service)
    for verdict in FeedbackVerdict:
        client.send_feedback(Feedback(indicator.id, SignalType.PDQ, indicator.indicator, verdict))
    descriptor = indicator.descriptors[0]["id"]
    assert fake.reactions == [(descriptor, "HELPFUL"), (descriptor, "DISAGREE_WITH_TAGS")]
    post = service.requests[-1]
    assert post.method == "POST" and "access_token" not in post.query  # token in the body


def test_feedback_skips_this_platforms_own_descriptor(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    indicator = fake.indicators[0]
    other = indicator.descriptors[0]["id"]
    fake.share_too(indicator, owner=APP)  # the token's app shared it as well
    client_for(service).send_feedback(
        Feedback(indicator.id, SignalType.PDQ, indicator.indicator, FeedbackVerdict.NEGATIVE)
    )
    assert fake.reactions == [(other, "DISAGREE_WITH_TAGS")]


def test_feedback_on_an_entry_only_this_platform_shared_is_refused(
    service: FakeService, fake: FakeThreatExchange
) -> None:
    mine = fake.add("HASH_PDQ", pdq(), owner=APP)
    with pytest.raises(ExchangeError) as raised:
        client_for(service).send_feedback(
            Feedback(mine.id, SignalType.PDQ, mine.indicator, FeedbackVerdict.AFFIRMATIVE)
        )
    assert raised.value.kind is FailureKind.REFUSED
    assert fake.reactions == []


def test_feedback_on_an_unknown_entry_is_refused(service: FakeService) -> None:
    with pytest.raises(ExchangeError) as raised:
        client_for(service).send_feedback(
            Feedback("42", SignalType.PDQ, pdq(), FeedbackVerdict.AFFIRMATIVE)
        )
    assert raised.value.kind is FailureKind.REFUSED


def test_submission_is_unsupported(service: FakeService) -> None:
    with pytest.raises(ExchangeError) as raised:
        client_for(service).submit(Submission(SignalType.PDQ, pdq()))
    assert raised.value.kind is FailureKind.UNSUPPORTED


def test_check_names_the_privacy_group(service: FakeService) -> None:
    health = client_for(service).check()
    assert health.reachable and "Fake collaboration" in health.detail
    with pytest.raises(ExchangeError) as raised:
        client_for(service, token="nope").check()
    assert raised.value.kind is FailureKind.CREDENTIALS
