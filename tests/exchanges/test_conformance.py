"""The checks every hash exchange client passes against its fake service over real HTTP.

Each client is one ``Subject`` in ``SUBJECTS``: how to start its fake with a few pages of
entries, how to build the client for that fake's address and a set of credentials, and a
good and a wrong set of credentials. To add a client, write its fake (tests/exchanges/fakes/)
and append one ``Subject(...)`` to ``SUBJECTS``; every check below then runs against it.

The checks: the class declares its kind, capabilities and required credentials and its
module exports it as ``CLIENT``; ``check()`` works with good credentials and fails with
CREDENTIALS on wrong ones; a fetch from nothing reaches the end with records that name
their entry; a fetch from the last checkpoint brings nothing new; a fetch interrupted after
a page and resumed from that page's checkpoint ends with the same records; a checkpoint the
client did not write is refused with CHECKPOINT; feedback and submission raise UNSUPPORTED
when the client does not declare them (and feedback works when it does); no credential
appears in any error message or repr.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import pytest

from tests.exchanges.fakes import ncmec as fake_ncmec
from tests.exchanges.fakes import stopncii as fake_stopncii
from tests.exchanges.fakes import tat as fake_tat
from tests.exchanges.fakes import threatexchange as fake_te
from tests.exchanges.fakes.serving import serving
from tests.exchanges.replica import Crash, Replica, fetch_into
from tests.served import free_port
from vigil.exchanges.ncmec import NcmecExchange
from vigil.exchanges.protocol import (
    Capability,
    Exchange,
    ExchangeConfig,
    ExchangeError,
    ExchangeType,
    FailureKind,
    Feedback,
    FeedbackVerdict,
    Submission,
)
from vigil.exchanges.transport import RetryPolicy, Transport
from vigil.lists.formats.records import ListRecord, SignalType

NO_WAIT = RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0, max_retry_after=0.0)


def quick_transport(config: ExchangeConfig) -> Transport:
    """Retries at once: the checks wait for nothing."""
    return Transport(config, policy=NO_WAIT, sleep=lambda _: None)


@dataclass(frozen=True)
class Subject:
    """One client and its fake. ``serve`` starts the fake holding a few pages of entries
    and yields the service root URL; ``client`` builds the client for a root URL and a set
    of credentials (use ``quick_transport``)."""

    name: str
    serve: Callable[[], AbstractContextManager[str]]
    client: Callable[[str, Mapping[str, str]], Exchange]
    credentials: Mapping[str, str]
    wrong_credentials: Mapping[str, str]


def _config(root: str, credentials: Mapping[str, str]) -> ExchangeConfig:
    return ExchangeConfig(base_url=root, credentials=dict(credentials), timeout_seconds=5)


@contextmanager
def _serve_ncmec() -> Iterator[str]:
    fake = fake_ncmec.FakeNcmec(page_size=5)
    fake.generate(40)
    with serving(fake) as service:
        yield service.url(fake_ncmec.ROOT)


def _ncmec(root: str, credentials: Mapping[str, str]) -> Exchange:
    config = _config(root, credentials)
    return NcmecExchange(config, quick_transport(config))


SUBJECTS: list[Subject] = [
    Subject(
        "ncmec",
        _serve_ncmec,
        _ncmec,
        {"username": fake_ncmec.USERNAME, "password": fake_ncmec.PASSWORD},
        {"username": fake_ncmec.USERNAME, "password": "wrong-Pa55word-xyz"},
    ),
    Subject(
        "stopncii",
        fake_stopncii.sample_service,
        fake_stopncii.sample_client,
        fake_stopncii.KEYS,
        fake_stopncii.WRONG_KEYS,
    ),
    Subject(
        "threatexchange",
        fake_te.sample_service,
        fake_te.sample_client,
        fake_te.CREDENTIALS,
        fake_te.WRONG_CREDENTIALS,
    ),
    Subject(
        "tat",
        fake_tat.sample_service,
        fake_tat.sample_client,
        fake_tat.CREDENTIALS,
        fake_tat.WRONG_CREDENTIALS,
    ),
]


@pytest.fixture(params=SUBJECTS, ids=lambda subject: subject.name)
def subject(request: pytest.FixtureRequest) -> Subject:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def root(subject: Subject) -> Iterator[str]:
    with subject.serve() as url:
        yield url


def whole_fetch(client: Exchange) -> Replica:
    return fetch_into(Replica(), client.fetch)


def secrets_of(subject: Subject) -> list[str]:
    values = [*subject.credentials.values(), *subject.wrong_credentials.values()]
    # Short values (a user name such as "bob") may appear by chance; the secrets are long.
    return [v for v in values if len(v) >= 8 and v not in _PUBLIC_NAMES]


_PUBLIC_NAMES = {fake_ncmec.USERNAME}


def test_the_class_declares_itself(subject: Subject, root: str) -> None:
    client = subject.client(root, subject.credentials)
    kind = type(client)
    assert isinstance(kind.kind, ExchangeType)
    assert kind.capabilities <= set(Capability)
    assert set(kind.required_credentials) <= set(subject.credentials)
    assert importlib.import_module(kind.__module__).CLIENT is kind


def test_check_takes_good_credentials_and_refuses_wrong_ones(subject: Subject, root: str) -> None:
    assert subject.client(root, subject.credentials).check().reachable
    with pytest.raises(ExchangeError) as refused:
        subject.client(root, subject.wrong_credentials).check()
    assert refused.value.kind is FailureKind.CREDENTIALS
    assert not refused.value.retryable


def test_wrong_credentials_fail_the_fetch_before_any_page(subject: Subject, root: str) -> None:
    replica = Replica()
    with pytest.raises(ExchangeError) as refused:
        fetch_into(replica, subject.client(root, subject.wrong_credentials).fetch)
    assert refused.value.kind is FailureKind.CREDENTIALS
    assert replica.pages == 0 and replica.checkpoint is None


def test_a_fetch_from_nothing_reaches_the_end_with_named_records(
    subject: Subject, root: str
) -> None:
    replica = whole_fetch(subject.client(root, subject.credentials))
    records = list(replica.records())
    assert records, "the fake holds entries; the fetch brought none"
    assert replica.pages >= 2, "the fake should hold more than one page"
    assert all(isinstance(r, ListRecord) and r.external_id for r in records)
    assert replica.errors == []
    assert replica.checkpoint is not None


def test_a_fetch_from_the_last_checkpoint_brings_nothing_new(subject: Subject, root: str) -> None:
    client = subject.client(root, subject.credentials)
    replica = whole_fetch(client)
    before = replica.signals()
    fetch_into(replica, client.fetch)
    assert replica.signals() == before


@pytest.mark.parametrize("crash_after", [1, 2, 3])
def test_an_interrupted_fetch_resumed_from_its_checkpoint_converges(
    subject: Subject, root: str, crash_after: int
) -> None:
    client = subject.client(root, subject.credentials)
    whole = whole_fetch(client)
    interrupted = Replica()
    with pytest.raises(Crash):
        fetch_into(interrupted, client.fetch, crash_after=crash_after)
    fetch_into(interrupted, client.fetch)
    assert interrupted.signals() == whole.signals()


@pytest.mark.parametrize("checkpoint", ["not a checkpoint {", "[]", '{"v": 99}', "null", "1"])
def test_a_checkpoint_it_did_not_write_is_refused(
    subject: Subject, root: str, checkpoint: str
) -> None:
    client = subject.client(root, subject.credentials)
    with pytest.raises(ExchangeError) as refused:
        next(iter(client.fetch(checkpoint)))
    assert refused.value.kind is FailureKind.CHECKPOINT


def test_capabilities_are_honoured(subject: Subject, root: str) -> None:
    client = subject.client(root, subject.credentials)
    record = next(whole_fetch(client).records())
    assert record.signal_type is not None and isinstance(record.signal, str)
    feedback = Feedback(
        entry_id=str(record.external_id),
        signal_type=record.signal_type,
        signal=record.signal,
        verdict=FeedbackVerdict.AFFIRMATIVE,
    )
    if Capability.FEEDBACK in client.capabilities:
        client.send_feedback(feedback)
    else:
        _assert_unsupported(lambda: client.send_feedback(feedback))
    submission = Submission(SignalType.MD5, "0" * 31 + "1")
    if Capability.SUBMIT not in client.capabilities:
        _assert_unsupported(lambda: client.submit(submission))


def _assert_unsupported(call: Callable[[], None]) -> None:
    with pytest.raises(ExchangeError) as refused:
        call()
    assert refused.value.kind is FailureKind.UNSUPPORTED


def test_no_credential_in_any_error_or_repr(subject: Subject, root: str) -> None:
    texts: list[str] = []
    for credentials in (subject.credentials, subject.wrong_credentials):
        client = subject.client(root, credentials)
        texts.append(repr(client))
        try:
            client.check()
            next(iter(client.fetch("not a checkpoint {")))
        except ExchangeError as error:
            texts += [str(error), repr(error)]
    unreachable = subject.client(f"http://127.0.0.1:{free_port()}/root", subject.credentials)
    with pytest.raises(ExchangeError) as failed:
        unreachable.check()
    assert failed.value.kind is FailureKind.UNREACHABLE
    texts += [str(failed.value), repr(failed.value)]
    for text in texts:
        for secret in secrets_of(subject):
            assert secret not in text, (secret, text)
        assert "Authorization" not in text and "Basic " not in text


def test_close_lets_go_of_the_connection_and_is_idempotent(subject: Subject, root: str) -> None:
    client = subject.client(root, subject.credentials)
    assert client.check().reachable
    transport = vars(client)["_transport"]
    assert isinstance(transport, Transport) and not transport.is_closed
    client.close()
    client.close()
    assert transport.is_closed
