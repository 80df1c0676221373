"""The webhook dispatcher against a real HTTP receiver on 127.0.0.1 (nothing mocked).

Loopback is not a public address, so these settings allow 127.0.0.0/8 as an operator would
allow an on-premises receiver's network. Retries are driven by passing ``now=`` to run_once
instead of sleeping.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from vigil.core.periodic import repeat_until_stopped, start_daemon
from vigil.core.settings import WebhookSettings
from vigil.screening.webhooks import WebhookDispatcher, verify_signature
from vigil.store import Database, open_database
from vigil.store.evidence import MasterKey
from vigil.store.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, utcnow
from vigil.store.records.outbox import disable_endpoint, enqueue_event, register_endpoint

SETTINGS = WebhookSettings(
    max_attempts=4,
    backoff_seconds=1,
    max_backoff_seconds=4,
    timeout=2,
    poll_seconds=0.05,
    allowed_networks=["127.0.0.0/8"],
)
KEY = MasterKey.generate()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool


@dataclass
class Receiver:
    """A platform endpoint: answers 200, or fails/hangs/redirects as a test tells it to."""

    secret: str = ""  # set once the endpoint is registered; used to verify like a receiver
    fail_first: int = 0
    fail_body: bytes = b"receiver down"
    mode: str = "ok"  # ok | hang | redirect
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/vigil"

    def posts_to_hook(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == "/hooks/vigil"]

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        verified = verify_signature(
            self.secret, handler.headers.get("Vigil-Signature", ""), body, now=int(time.time())
        )
        with self.lock:
            self.requests.append(Received(handler.path, dict(handler.headers), body, verified))
            count = len(self.requests)
        if self.mode == "hang":
            self.release.wait(10)
            _answer(handler, 200)
        elif self.mode == "redirect":
            _answer(handler, 302, location=self.url.replace("/hooks/vigil", "/elsewhere"))
        elif count <= self.fail_first:
            _answer(handler, 500, self.fail_body)
        else:
            _answer(handler, 204)


def _answer(
    handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", location: str | None = None
) -> None:
    handler.send_response(status)
    if location:
        handler.send_header("Location", location)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _start(receiver: Receiver) -> Receiver:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver.handle(self)

        def log_message(self, *_args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, *_args: Any) -> None:
            pass  # the dispatcher hung up on a hanging handler: expected

    receiver.server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.server.serve_forever, args=(0.05,), daemon=True).start()
    return receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from _running(Receiver())


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    yield from _running(Receiver())


def _running(receiver: Receiver) -> Iterator[Receiver]:
    _start(receiver)
    try:
        yield receiver
    finally:
        receiver.release.set()
        assert receiver.server is not None
        receiver.server.shutdown()
        receiver.server.server_close()


def _register(
    database: Database,
    receiver: Receiver,
    events: tuple[str, ...] = ("verdict",),
    url: str | None = None,
) -> int:
    with database.transaction(write=True) as session:
        endpoint, secret = register_endpoint(
            session, url or receiver.url, events, created_by="admin", master_key=KEY
        )
    receiver.secret = secret
    return endpoint.id


def _enqueue(database: Database, now: datetime, count: int = 1) -> None:
    with database.transaction(write=True) as session:
        for n in range(count):
            enqueue_event(session, "verdict", {"record": n, "verdict": "match"}, now=now)


def _dispatcher(
    database: Database, settings: WebhookSettings = SETTINGS, **options: Any
) -> WebhookDispatcher:
    return WebhookDispatcher(database, settings, KEY, jitter=lambda: 0.0, **options)


def _deliveries(database: Database) -> list[WebhookDelivery]:
    with database.session() as session:
        query = select(WebhookDelivery).order_by(WebhookDelivery.id)
        return list(session.scalars(query))


def _log(database: Database) -> list[WebhookAttempt]:
    with database.session() as session:
        return list(session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)))


def test_delivered_after_retries_with_a_signed_documented_request(
    database: Database,
    receiver: Receiver,
) -> None:
    receiver.fail_first = 2
    _register(database, receiver)
    t0 = utcnow()
    _enqueue(database, t0)
    with _dispatcher(database) as dispatcher:
        assert dispatcher.run_once(now=t0) == 1
        assert dispatcher.run_once(now=t0) == 0  # not due: 1 s backoff
        assert dispatcher.run_once(now=t0 + timedelta(seconds=1)) == 1
        assert dispatcher.run_once(now=t0 + timedelta(seconds=2)) == 0
        assert dispatcher.run_once(now=t0 + timedelta(seconds=3)) == 1
        assert dispatcher.run_once(now=t0 + timedelta(seconds=60)) == 0  # delivered: done

    [delivery] = _deliveries(database)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert delivery.delivered_at == t0 + timedelta(seconds=3)
    log = _log(database)
    assert [a.status_code for a in log] == [500, 500, 204]
    assert all("HTTP 500" in (a.error or "") for a in log[:2])
    assert log[2].error is None

    requests = receiver.posts_to_hook()
    assert len(requests) == 3 and all(r.verified for r in requests)
    documents = [json.loads(r.body) for r in requests]
    assert [d["attempt"] for d in documents] == [1, 2, 3]
    assert {d["id"] for d in documents} == {delivery.event_id}
    assert {d["delivery"] for d in documents} == {delivery.id}
    assert documents[0]["event"] == "verdict"
    assert documents[0]["data"] == {"record": 0, "verdict": "match"}
    assert datetime.fromisoformat(documents[0]["created_at"]) == delivery.created_at
    headers = {k.lower(): v for k, v in requests[0].headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Vigil-Webhooks"
    assert headers["vigil-event"] == "verdict"
    assert headers["vigil-delivery"] == str(delivery.id)
    assert receiver.secret not in repr(requests)


def test_signature_fails_with_another_secret(database: Database, receiver: Receiver) -> None:
    _register(database, receiver)
    real_secret = receiver.secret
    receiver.secret = "not-the-endpoint-secret"
    _enqueue(database, utcnow())
    with _dispatcher(database) as dispatcher:
        dispatcher.run_once()
    [request] = receiver.posts_to_hook()
    assert not request.verified
    header = request.headers["Vigil-Signature"]
    assert verify_signature(real_secret, header, request.body, now=int(time.time()))


def test_gives_up_after_max_attempts(database: Database, receiver: Receiver) -> None:
    receiver.fail_first = 1000
    _register(database, receiver)
    now = utcnow()
    _enqueue(database, now)
    with _dispatcher(database) as dispatcher:
        for _ in range(SETTINGS.max_attempts):
            assert dispatcher.run_once(now=now) == 1
            now += timedelta(seconds=SETTINGS.max_backoff_seconds)
        assert dispatcher.run_once(now=now + timedelta(days=1)) == 0
    [delivery] = _deliveries(database)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == SETTINGS.max_attempts
    assert [a.status_code for a in _log(database)] == [500] * SETTINGS.max_attempts
    assert len(receiver.posts_to_hook()) == SETTINGS.max_attempts


def test_hanging_receiver_times_out_and_is_retried(
    database: Database,
    receiver: Receiver,
) -> None:
    receiver.mode = "hang"
    _register(database, receiver)
    now = utcnow()
    _enqueue(database, now)
    quick = SETTINGS.model_copy(update={"timeout": 0.3})
    started = time.monotonic()
    with _dispatcher(database, quick) as dispatcher:
        assert dispatcher.run_once(now=now) == 1
    assert time.monotonic() - started < 3
    [attempt] = _log(database)
    assert attempt.status_code is None and "timed out" in (attempt.error or "")
    assert attempt.duration_ms >= 250
    [delivery] = _deliveries(database)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at == now + timedelta(seconds=quick.backoff_seconds)


def test_redirect_is_a_failure_and_not_followed(database: Database, receiver: Receiver) -> None:
    receiver.mode = "redirect"
    _register(database, receiver)
    _enqueue(database, utcnow())
    # Even a client configured to follow redirects must not follow a webhook's.
    with httpx.Client(follow_redirects=True) as client:
        assert _dispatcher(database, client=client).run_once() == 1
    with receiver.lock:
        assert [r.path for r in receiver.requests] == ["/hooks/vigil"]
    [attempt] = _log(database)
    assert attempt.status_code == 302 and "redirect not followed" in (attempt.error or "")
    [delivery] = _deliveries(database)
    assert delivery.status == DeliveryStatus.PENDING and delivery.delivered_at is None


def test_unreachable_endpoint_is_logged_as_an_error(
    database: Database,
    receiver: Receiver,
) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    _register(database, receiver, url=f"http://127.0.0.1:{port}/gone")
    _enqueue(database, utcnow())
    with _dispatcher(database) as dispatcher:
        assert dispatcher.run_once() == 1
    [attempt] = _log(database)
    assert attempt.status_code is None and attempt.error == "could not connect"


def test_the_log_keeps_a_status_and_a_fixed_description_never_the_body(
    database: Database,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _register(database, receiver)
    # What a service behind the endpoint answers (a database banner, an internal page, the
    # secret echoed back) must not be readable through the delivery log.
    receiver.fail_first = 1
    receiver.fail_body = b"PostgreSQL banner: " + receiver.secret.encode() + b" internal" * 999
    _enqueue(database, utcnow())
    caplog.set_level(logging.DEBUG)
    with _dispatcher(database) as dispatcher:
        assert dispatcher.run_once() == 1
    [attempt] = _log(database)
    assert attempt.status_code == 500
    assert attempt.error == "HTTP 500: the receiver did not accept the delivery"
    assert "banner" not in caplog.text and receiver.secret not in caplog.text


def test_two_dispatchers_never_send_the_same_delivery(
    database: Database,
    database_url: str,
    receiver: Receiver,
) -> None:
    _register(database, receiver)
    now = utcnow()
    _enqueue(database, now, count=24)
    second_database = open_database(database_url)  # as another worker process would
    dispatchers = [_dispatcher(database, batch_size=3), _dispatcher(second_database, batch_size=3)]
    start = threading.Barrier(2)
    made = [0, 0]
    errors: list[BaseException] = []

    def drain(index: int) -> None:
        try:
            start.wait()
            while (count := dispatchers[index].run_once(now=now)) > 0:
                made[index] += count
        except BaseException as exc:  # reported below; a thread cannot fail the test
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        for dispatcher in dispatchers:
            dispatcher.close()
        second_database.dispose()
    assert errors == []
    counts = Counter(json.loads(r.body)["delivery"] for r in receiver.posts_to_hook())
    assert len(counts) == 24 and set(counts.values()) == {1}
    assert sum(made) == 24
    assert all(
        d.status == DeliveryStatus.DELIVERED and d.attempts == 1 for d in _deliveries(database)
    )
    assert len(_log(database)) == 24


def test_disabled_endpoint_gets_nothing(
    database: Database,
    receiver: Receiver,
    other_receiver: Receiver,
) -> None:
    enabled = _register(database, receiver)
    disabled = _register(database, other_receiver)
    now = utcnow()
    _enqueue(database, now)  # queued for both, then one is disabled
    with database.transaction(write=True) as session:
        disable_endpoint(session, disabled)
    _enqueue(database, now)  # queued for the enabled one only
    with _dispatcher(database) as dispatcher:
        assert dispatcher.run_once(now=now) == 2
        assert dispatcher.run_once(now=now + timedelta(days=1)) == 0
    assert len(receiver.posts_to_hook()) == 2
    assert other_receiver.requests == []
    waiting = [d for d in _deliveries(database) if d.endpoint_id == disabled]
    assert [d.status for d in waiting] == [DeliveryStatus.PENDING]
    assert all(
        d.status == DeliveryStatus.DELIVERED
        for d in _deliveries(database)
        if d.endpoint_id == enabled
    )


def test_the_job_loop_survives_errors_and_delivers(
    database: Database,
    receiver: Receiver,
) -> None:
    # The loop every registered job runs in (vigil.jobs.runner), with the dispatcher's pace.
    _register(database, receiver)
    _enqueue(database, utcnow())
    calls = 0

    def flaky_clock() -> datetime:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("clock trouble")
        return utcnow()

    dispatcher = _dispatcher(database, clock=flaky_clock)
    thread, stop = start_daemon(
        lambda stop: repeat_until_stopped(
            dispatcher.run_once,
            stop,
            SETTINGS.poll_seconds,
            what="webhooks",
            log=logging.getLogger(__name__),
            again_at_once=dispatcher.full_batch,
        ),
        "webhooks",
    )
    try:
        deadline = time.monotonic() + 5
        while not receiver.posts_to_hook() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(5)
        dispatcher.close()
    assert not thread.is_alive()
    assert calls >= 2 and len(receiver.posts_to_hook()) == 1
    [delivery] = _deliveries(database)
    assert delivery.status == DeliveryStatus.DELIVERED


def test_a_full_batch_means_the_next_run_goes_at_once(database: Database) -> None:
    with _dispatcher(database, batch_size=3) as dispatcher:
        assert dispatcher.full_batch(3) and dispatcher.full_batch(4)
        assert not dispatcher.full_batch(2) and not dispatcher.full_batch(0)
        assert not dispatcher.full_batch(None)  # a run skipped or failed: the usual pause


def test_a_non_public_destination_is_refused_at_delivery(
    database: Database,
    receiver: Receiver,
) -> None:
    # Registered while it was allowed (or by a name that resolved elsewhere then): every
    # send checks again, and nothing reaches the address.
    _register(database, receiver)
    _enqueue(database, utcnow())
    closed = SETTINGS.model_copy(update={"allowed_networks": ()})
    with _dispatcher(database, closed) as dispatcher:
        assert dispatcher.run_once() == 1
    assert receiver.requests == []
    [attempt] = _log(database)
    assert attempt.status_code is None
    assert attempt.error == "refused: the destination is not a public address"


def test_a_name_is_resolved_once_and_the_checked_address_is_the_one_connected(
    database: Database,
    receiver: Receiver,
) -> None:
    """DNS rebinding: a name that answers an allowed address to the check and another one to
    a second lookup. The dispatcher looks up once and connects to what it checked; the name
    exists only in this resolver, so reaching the receiver proves no other lookup was made."""
    assert receiver.server is not None
    port = receiver.server.server_address[1]
    answers = iter([[ipaddress.ip_address("127.0.0.1")], [ipaddress.ip_address("10.9.9.9")]])
    asked: list[tuple[str, int]] = []

    def rebinding(host: str, asked_port: int) -> list[ipaddress.IPv4Address]:
        asked.append((host, asked_port))
        return next(answers)

    _register(database, receiver, url=f"http://hooks.rebind.invalid:{port}/hooks/vigil")
    _enqueue(database, utcnow())
    with _dispatcher(database, resolve=rebinding) as dispatcher:
        assert dispatcher.run_once() == 1
    assert asked == [("hooks.rebind.invalid", port)]
    [request] = receiver.posts_to_hook()
    assert request.verified
    assert request.headers["Host"] == f"hooks.rebind.invalid:{port}"
    assert _deliveries(database)[0].status == DeliveryStatus.DELIVERED


def test_a_name_with_any_refused_address_is_refused(
    database: Database,
    receiver: Receiver,
) -> None:
    _register(database, receiver, url="http://hooks.mixed.invalid/hooks/vigil")
    _enqueue(database, utcnow())
    closed = SETTINGS.model_copy(update={"allowed_networks": ()})

    def mixed(_host: str, _port: int) -> list[ipaddress.IPv4Address]:
        return [ipaddress.IPv4Address("8.8.8.8"), ipaddress.IPv4Address("169.254.169.254")]

    with _dispatcher(database, closed, resolve=mixed) as dispatcher:
        assert dispatcher.run_once() == 1
    [attempt] = _log(database)
    assert attempt.error == "refused: the destination is not a public address"


def test_a_secret_sealed_under_another_key_is_not_sent_unsigned(
    database: Database,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _register(database, receiver)
    _enqueue(database, utcnow())
    with WebhookDispatcher(
        database, SETTINGS, MasterKey.generate(), jitter=lambda: 0.0
    ) as dispatcher:
        assert dispatcher.run_once() == 1
    assert receiver.requests == []
    [attempt] = _log(database)
    assert attempt.status_code is None and "cannot sign" in (attempt.error or "")
    assert "cannot open its signing secret" in caplog.text
    [delivery] = _deliveries(database)
    assert delivery.status == DeliveryStatus.PENDING  # retried, e.g. once the key is back
