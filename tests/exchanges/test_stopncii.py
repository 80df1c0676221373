"""The StopNCII client against the fake StopNCII service over real HTTP on loopback."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator

import pytest

from tests.exchanges.fakes.faults import cut_short, malformed_json, rate_limited, server_error
from tests.exchanges.fakes.serving import FakeResponse, FakeService, serving
from tests.exchanges.fakes.stopncii import KEYS, FakeStopNcii
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
from vigil.exchanges.stopncii import CLIENT, StopNcii
from vigil.exchanges.transport import RetryPolicy, Transport
from vigil.lists.formats.records import ListRecord, SignalType


def pdq() -> str:
    return secrets.token_hex(32)


def md5() -> str:
    return secrets.token_hex(16)


@pytest.fixture
def fake() -> FakeStopNcii:
    service = FakeStopNcii(page_size=3)
    for _ in range(7):
        service.add("ImagePDQ", pdq(), "Active", cases={"c1": "Active"})
    service.add("VideoMD5", md5(), "Received")
    service.add("VideoMD5", md5(), "Active")
    return service


@pytest.fixture
def service(fake: FakeStopNcii) -> Iterator[FakeService]:
    with serving(fake) as running:
        yield running


def client_for(service: FakeService, **credentials: str) -> StopNcii:
    config = ExchangeConfig(base_url=service.url("/v1"), credentials={**KEYS, **credentials})
    return StopNcii(config, quick_transport(config))


def whole_fetch(service: FakeService) -> Replica:
    return fetch_into(Replica(), client_for(service).fetch)


def held(replica: Replica) -> set[tuple[str, str]]:
    return {(signal_type, signal) for _, signal_type, signal in replica.signals()}


def record_of(replica: Replica, external_id: str) -> ListRecord:
    (record,) = replica.entries[external_id].values()
    return record


def test_the_module_names_its_client_and_what_it_takes() -> None:
    assert CLIENT is StopNcii
    assert StopNcii.capabilities == {Capability.SUBMIT, Capability.FEEDBACK}
    assert set(StopNcii.required_credentials) == set(KEYS)


def test_a_fetch_brings_every_hash_with_its_type(service: FakeService, fake: FakeStopNcii) -> None:
    stored = whole_fetch(service)
    expected = {
        (str(SignalType.PDQ if h.signal_type == "ImagePDQ" else SignalType.MD5), h.value)
        for h in fake.hashes
    }
    assert held(stored) == expected
    assert stored.pages == 3
    request = service.requests[0]
    assert request.path == "/v1/FetchHashes"
    assert request.headers["ocp-apim-subscription-key"] == KEYS["subscription_key"]
    assert request.headers["x-functions-key"] == KEYS["fetch_function_key"]


def test_pages_say_how_far_in_time_the_fetch_has_come(
    service: FakeService, fake: FakeStopNcii
) -> None:
    pages = list(client_for(service).fetch(None))
    seconds = [page.through.timestamp() for page in pages if page.through is not None]
    assert seconds == sorted(seconds) and len(seconds) == len(pages)
    assert seconds[-1] == max(h.modified for h in fake.hashes)


def test_withdrawn_and_deleted_hashes_sent_earlier_are_removed(
    service: FakeService, fake: FakeStopNcii
) -> None:
    stored = whole_fetch(service)
    withdrawn, deleted = fake.hashes[0], fake.hashes[7]
    fake.change(withdrawn, "Withdrawn")
    fake.change(deleted, "Deleted")
    late = fake.add("ImagePDQ", pdq())

    fetch_into(stored, client_for(service).fetch)

    assert (str(SignalType.PDQ), withdrawn.value) not in held(stored)
    assert (str(SignalType.MD5), deleted.value) not in held(stored)
    assert (str(SignalType.PDQ), late.value) in held(stored)
    # The second fetch starts where the first sequence ended, not from the beginning.
    assert service.requests[-1].param("startTimestamp") != "10"


def test_a_page_that_repeats_a_hash_changes_nothing(
    service: FakeService, fake: FakeStopNcii
) -> None:
    expected = whole_fetch(service).entries
    fake.repeat_last = True
    assert whole_fetch(service).entries == expected


@pytest.mark.parametrize("crash_after", [1, 2])
def test_a_fetch_resumed_after_a_crash_ends_with_the_same_list(
    service: FakeService, fake: FakeStopNcii, crash_after: int
) -> None:
    expected = whole_fetch(service).entries
    stored = Replica()
    with pytest.raises(Crash):
        fetch_into(stored, client_for(service).fetch, crash_after=crash_after)
    resumed_from = json.loads(stored.checkpoint or "{}")
    assert resumed_from["token"]  # mid-sequence: the token is kept with its start

    fetch_into(stored, client_for(service).fetch)

    assert stored.entries == expected


def test_a_resumed_fetch_whose_token_expired_starts_its_sequence_again(
    service: FakeService, fake: FakeStopNcii
) -> None:
    expected = whole_fetch(service).entries
    stored = Replica()
    with pytest.raises(Crash):
        fetch_into(stored, client_for(service).fetch, crash_after=2)
    fake.expire_tokens()

    fetch_into(stored, client_for(service).fetch)

    assert stored.entries == expected


def test_unknown_types_are_warnings_and_invalid_hashes_errors(
    service: FakeService, fake: FakeStopNcii
) -> None:
    fake.add("VideoTMK", "ab" * 100)
    fake.add("URL", "https://example.org/")
    fake.add("ImagePDQ", "not-a-hash")
    fake.add("ImagePDQ", "0" * 64)  # the reference PDQ's "too small to hash"
    fake.add("ImagePDQ", pdq(), "SomethingNew")

    stored = whole_fetch(service)

    assert len(stored.warnings) == 2
    assert len(stored.errors) == 3
    assert len(stored.entries) == 9


def test_hostile_provenance_refuses_the_record_not_the_page(
    service: FakeService, fake: FakeStopNcii
) -> None:
    fake.add("ImagePDQ", pdq(), feedbacks=[{"feedbackValue": "Blocked", "tags": ["ok\x1b[31m"]}])
    kept = fake.add(
        "ImagePDQ",
        pdq(),
        feedbacks=[{"feedbackValue": "Blocked", "tags": ["ncii", "ncii"], "source": "P1"}],
    )
    stored = whole_fetch(service)
    assert len(stored.errors) == 1
    record = record_of(stored, f"ImagePDQ:{kept.value}")
    assert record.tags == ("ncii",)
    assert record.note is not None and "Blocked by P1" in record.note


def test_transient_errors_and_429_are_waited_out(service: FakeService, fake: FakeStopNcii) -> None:
    expected = whole_fetch(service).entries
    waits: list[float] = []
    config = ExchangeConfig(base_url=service.url("/v1"), credentials=KEYS)
    transport = Transport(config, policy=RetryPolicy(base_delay=0.0), sleep=waits.append)
    fake.faults.add(server_error(503), path_suffix="FetchHashes")
    fake.faults.add(rate_limited("7"), path_suffix="FetchHashes")

    stored = fetch_into(Replica(), StopNcii(config, transport).fetch)

    assert stored.entries == expected
    assert 7.0 in waits


@pytest.mark.parametrize(
    ("fault", "times", "kind"),
    [
        (server_error(500), 4, FailureKind.SERVER),
        (rate_limited("0"), 4, FailureKind.RATE_LIMITED),
        (malformed_json(), 1, FailureKind.MALFORMED),
        (FakeResponse(200, b"[" * 100_000), 1, FailureKind.MALFORMED),  # nesting bomb
        (FakeResponse(200, b"[1, 2]"), 1, FailureKind.MALFORMED),
        (FakeResponse(200, b'{"hashRecords": []}'), 1, FailureKind.MALFORMED),
        (
            FakeResponse(200, b'{"hasMoreRecords": true, "hashRecords": []}'),
            1,
            FailureKind.MALFORMED,
        ),
        (cut_short, 4, FailureKind.MALFORMED),
        (FakeResponse(404, b"{}"), 2, FailureKind.REFUSED),  # once is an expired token
    ],
)
def test_a_bad_page_fails_without_handing_out_a_page_past_it(
    service: FakeService,
    fake: FakeStopNcii,
    fault: object,
    times: int,
    kind: FailureKind,
) -> None:
    expected = whole_fetch(service).entries
    stored = Replica()
    client = client_for(service)
    pages = client.fetch(None)
    stored.apply(next(pages))
    fake.faults.add(fault, path_suffix="FetchHashes", times=times)  # type: ignore[arg-type]

    with pytest.raises(ExchangeError) as raised:
        for page in pages:
            stored.apply(page)

    assert raised.value.kind is kind
    assert stored.pages == 1
    fetch_into(stored, client_for(service).fetch)  # the next fetch resumes
    assert stored.entries == expected


def test_a_page_token_that_comes_back_again_is_refused(service: FakeService) -> None:
    looping = b'{"hasMoreRecords": true, "nextPageToken": "same", "hashRecords": []}'
    with serving(lambda request: FakeResponse(200, looping)) as loop:
        error = failure_of(Replica(), client_for(loop).fetch)
    assert error.kind is FailureKind.MALFORMED


@pytest.mark.parametrize(
    "wrong", ["subscription_key", "fetch_function_key"], ids=["subscription", "function"]
)
def test_wrong_credentials_are_credential_failures_that_name_no_key(
    service: FakeService, wrong: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = "wrong-" + secrets.token_hex(8)
    error = failure_of(Replica(), client_for(service, **{wrong: bad}).fetch)
    assert error.kind is FailureKind.CREDENTIALS
    for secret in [bad, *KEYS.values()]:
        assert secret not in str(error)
        assert secret not in caplog.text


def test_a_missing_credential_is_a_credential_failure(service: FakeService) -> None:
    config = ExchangeConfig(base_url=service.url("/v1"), credentials={})
    with pytest.raises(ExchangeError) as raised:
        next(StopNcii(config, quick_transport(config)).fetch(None))
    assert raised.value.kind is FailureKind.CREDENTIALS


def test_a_checkpoint_of_another_client_is_refused(service: FakeService) -> None:
    for foreign in ['{"client": "tat", "checkpoint": "1,2"}', "1700000000", "{"]:
        with pytest.raises(ExchangeError) as raised:
            next(client_for(service).fetch(foreign))
        assert raised.value.kind is FailureKind.CHECKPOINT


def test_feedback_goes_with_the_feedback_key(service: FakeService, fake: FakeStopNcii) -> None:
    value = fake.hashes[0].value
    client = client_for(service)
    client.send_feedback(
        Feedback(f"ImagePDQ:{value}", SignalType.PDQ, value, FeedbackVerdict.AFFIRMATIVE)
    )
    client.send_feedback(
        Feedback(f"ImagePDQ:{value}", SignalType.PDQ, value, FeedbackVerdict.NEGATIVE, "adult")
    )
    assert service.requests[-1].headers["x-functions-key"] == KEYS["feedback_function_key"]
    sent = [body["hashFeedbacks"][0] for body in fake.feedback]
    assert [(s["hashValue"], s["feedbackValue"]) for s in sent] == [
        (value, "Blocked"),
        (value, "NotBlocked"),
    ]
    assert sent[1]["tags"] == ["adult"]


def test_submission_goes_with_the_submit_key(service: FakeService, fake: FakeStopNcii) -> None:
    value = pdq()
    client_for(service).submit(Submission(SignalType.PDQ, value, tags=("ncii",)))
    record = fake.submitted[0]["hashRecords"][0]
    assert (record["signalType"], record["hashValue"]) == ("ImagePDQ", value)
    assert record["CSPFeedbacks"][0]["tags"] == ["ncii"]
    assert service.requests[-1].headers["x-functions-key"] == KEYS["submit_function_key"]


def test_types_stopncii_has_not_are_unsupported(service: FakeService) -> None:
    client = client_for(service)
    with pytest.raises(ExchangeError) as raised:
        client.submit(Submission(SignalType.SHA256, secrets.token_hex(32)))
    assert raised.value.kind is FailureKind.UNSUPPORTED
    with pytest.raises(ExchangeError) as raised:
        client.send_feedback(
            Feedback("x", SignalType.SHA1, secrets.token_hex(20), FeedbackVerdict.NEGATIVE)
        )
    assert raised.value.kind is FailureKind.UNSUPPORTED


def test_a_refused_post_is_not_sent_twice(service: FakeService, fake: FakeStopNcii) -> None:
    fake.faults.add(server_error(502), path_suffix="SubmitFeedback")
    value = fake.hashes[0].value
    with pytest.raises(ExchangeError) as raised:
        client_for(service).send_feedback(
            Feedback("x", SignalType.PDQ, value, FeedbackVerdict.AFFIRMATIVE)
        )
    assert raised.value.kind is FailureKind.SERVER
    assert [r.path for r in service.requests].count("/v1/SubmitFeedback") == 1


def test_check_reports_reachable_or_the_credential_failure(service: FakeService) -> None:
    assert client_for(service).check().reachable
    with pytest.raises(ExchangeError) as raised:
        client_for(service, subscription_key="nope").check()
    assert raised.value.kind is FailureKind.CREDENTIALS
