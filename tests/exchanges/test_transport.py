"""The shared exchange transport against a real HTTP server on loopback: retries, 429,
caps, failure kinds, and no credential in any message or log."""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from tests.exchanges.fakes.serving import FakeRequest, FakeResponse, FakeService, serving
from tests.served import free_port
from vigil.exchanges.protocol import ExchangeConfig, ExchangeError, FailureKind
from vigil.exchanges.transport import RetryPolicy, Transport

PASSWORD = "s3cret-Pa55word"
TOKEN = "tok-ABCDEF0123456789"
NOW = 1_800_000_000.0


class Script:
    """A fake answering from a queue of responses (the last one repeats)."""

    def __init__(self, *responses: FakeResponse) -> None:
        self.responses = list(responses)

    def __call__(self, request: FakeRequest) -> FakeResponse:
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


def ok(body: bytes = b'{"ok": true}') -> FakeResponse:
    return FakeResponse(200, body)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def transport_for(
    service: FakeService | str, sleeps: Sleeps, *, timeout: float = 5.0, **kwargs: object
) -> Transport:
    base = service if isinstance(service, str) else service.url("/root")
    config = ExchangeConfig(
        base_url=base,
        credentials={"username": "alice", "password": PASSWORD, "token": TOKEN},
        timeout_seconds=timeout,
    )
    return Transport(
        config,
        auth=httpx.BasicAuth("alice", PASSWORD),
        sleep=sleeps,
        clock=lambda: NOW,
        jitter=random.Random(7),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def script() -> Iterator[tuple[Script, FakeService]]:
    fake = Script(ok())
    with serving(fake) as service:
        yield fake, service


def run(script: tuple[Script, FakeService], *responses: FakeResponse) -> FakeService:
    script[0].responses = list(responses)
    return script[1]


def failure(call: object) -> ExchangeError:
    assert callable(call)
    with pytest.raises(ExchangeError) as caught:
        call()
    return caught.value


def assert_no_secret(text: str) -> None:
    for secret in (PASSWORD, TOKEN, "Basic ", "YWxpY2"):  # YWxpY2 starts base64("alice:...")
        assert secret not in text


def test_get_joins_the_service_root_and_path_and_sends_basic_auth(script, sleeps) -> None:
    service = run(script, ok(b'{"n": 1}'))
    answer = transport_for(service, sleeps).get("/v2/status", params={"a": "b"})
    assert answer.json() == {"n": 1}
    request = service.requests[-1]
    assert (request.path, request.param("a")) == ("/root/v2/status", "b")
    assert request.basic_auth() == ("alice", PASSWORD)
    assert sleeps == []


def test_get_retries_5xx_with_growing_jittered_backoff_then_succeeds(script, sleeps) -> None:
    service = run(script, FakeResponse(503), FakeResponse(500), FakeResponse(502), ok())
    transport = transport_for(service, sleeps, policy=RetryPolicy(attempts=4, base_delay=1.0))
    assert transport.get("/x").status == 200
    assert len(service.requests) == 4
    assert len(sleeps) == 3
    for retry, slept in enumerate(sleeps):
        assert 0.5 * 2**retry <= slept <= 2**retry
    assert sleeps[0] < sleeps[2]


def test_get_gives_up_after_the_allowed_attempts_with_server(script, sleeps) -> None:
    service = run(script, FakeResponse(500))
    transport = transport_for(service, sleeps, policy=RetryPolicy(attempts=3))
    error = failure(lambda: transport.get("/x"))
    assert error.kind is FailureKind.SERVER and error.retryable
    assert len(service.requests) == 3 and len(sleeps) == 2


def test_backoff_is_capped(script, sleeps) -> None:
    service = run(script, FakeResponse(500))
    policy = RetryPolicy(attempts=8, base_delay=1.0, max_delay=4.0)
    failure(lambda: transport_for(service, sleeps, policy=policy).get("/x"))
    assert max(sleeps) <= 4.0


def test_post_is_never_retried_on_5xx(script, sleeps) -> None:
    service = run(script, FakeResponse(500), ok())
    error = failure(lambda: transport_for(service, sleeps).post("/x", json_body={"a": 1}))
    assert error.kind is FailureKind.SERVER
    assert len(service.requests) == 1 and sleeps == []
    assert service.requests[0].body == b'{"a": 1}'


def test_post_is_never_retried_on_a_cut_short_answer(script, sleeps) -> None:
    service = run(script, FakeResponse(200, b"x" * 100, truncate_to=10), ok())
    error = failure(lambda: transport_for(service, sleeps).post("/x", content=b"1"))
    assert error.kind is FailureKind.MALFORMED
    assert len(service.requests) == 1


def test_429_with_retry_after_seconds_is_honoured_for_get_and_post(script, sleeps) -> None:
    limited = FakeResponse(429, headers={"Retry-After": "7"})
    service = run(script, limited, ok(), limited, ok())
    transport = transport_for(service, sleeps)
    assert transport.get("/x").status == 200
    assert transport.post("/y", content=b"1").status == 200
    assert sleeps == [7.0, 7.0]
    assert [r.method for r in service.requests] == ["GET", "GET", "POST", "POST"]


def test_429_with_an_http_date_waits_until_then_and_is_capped(script, sleeps) -> None:
    soon = format_datetime(datetime.fromtimestamp(NOW + 42, UTC), usegmt=True)
    late = format_datetime(datetime.fromtimestamp(NOW + 86_400, UTC), usegmt=True)
    past = format_datetime(datetime.fromtimestamp(NOW - 100, UTC), usegmt=True)
    service = run(
        script,
        FakeResponse(429, headers={"Retry-After": soon}),
        FakeResponse(429, headers={"Retry-After": late}),
        FakeResponse(429, headers={"Retry-After": past}),
        ok(),
    )
    policy = RetryPolicy(rate_limit_attempts=5, max_retry_after=600)
    assert transport_for(service, sleeps, policy=policy).get("/x").status == 200
    assert sleeps == [42.0, 600.0, 0.0]


def test_429_without_or_with_a_garbled_retry_after_backs_off(script, sleeps) -> None:
    service = run(
        script, FakeResponse(429), FakeResponse(429, headers={"Retry-After": "soon-ish"}), ok()
    )
    assert transport_for(service, sleeps).get("/x").status == 200
    assert len(sleeps) == 2 and all(0 < s <= 2 for s in sleeps)


def test_429_for_ever_ends_rate_limited(script, sleeps) -> None:
    service = run(script, FakeResponse(429, headers={"Retry-After": "1"}))
    policy = RetryPolicy(rate_limit_attempts=3)
    error = failure(lambda: transport_for(service, sleeps, policy=policy).post("/x"))
    assert error.kind is FailureKind.RATE_LIMITED and error.retryable
    assert len(service.requests) == 3


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, FailureKind.CREDENTIALS),
        (403, FailureKind.CREDENTIALS),
        (400, FailureKind.REFUSED),
        (404, FailureKind.REFUSED),
        (302, FailureKind.REFUSED),
    ],
)
def test_4xx_and_redirects_are_not_retried(script, sleeps, status, kind) -> None:
    service = run(script, FakeResponse(status, headers={"Location": "http://example.org/"}))
    error = failure(lambda: transport_for(service, sleeps).get("/x"))
    assert error.kind is kind and not error.retryable
    assert len(service.requests) == 1 and sleeps == []
    assert str(status) in str(error)


def test_an_accepted_status_is_returned(script, sleeps) -> None:
    service = run(script, FakeResponse(404, b"{}"))
    assert transport_for(service, sleeps).get("/x", accept={404}).status == 404


def test_a_body_over_the_cap_is_malformed_declared_or_not(script, sleeps) -> None:
    service = run(script, ok(b"x" * 5000))
    error = failure(lambda: transport_for(service, sleeps, max_body_bytes=4096).get("/x"))
    assert error.kind is FailureKind.MALFORMED
    assert transport_for(service, sleeps).get("/x", max_body_bytes=5000).body == b"x" * 5000


def test_a_streamed_body_over_the_cap_is_malformed(sleeps) -> None:
    """A chunked answer (no Content-Length) is cut off at the cap while being read."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def answer() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        # The client hangs up at the cap, so the rest may meet a reset: that is the point.
        with contextlib.suppress(ConnectionError):
            for _ in range(10):
                connection.sendall(b"400\r\n" + b"y" * 1024 + b"\r\n")
            connection.sendall(b"0\r\n\r\n")
        connection.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    transport = transport_for(f"http://127.0.0.1:{port}", sleeps, max_body_bytes=4096)
    error = failure(lambda: transport.get("/x"))
    assert error.kind is FailureKind.MALFORMED
    thread.join(5)
    listener.close()


def test_a_truncated_get_is_retried_then_malformed(script, sleeps) -> None:
    service = run(script, FakeResponse(200, b"x" * 1000, truncate_to=100))
    error = failure(
        lambda: transport_for(service, sleeps, policy=RetryPolicy(attempts=2)).get("/x")
    )
    assert error.kind is FailureKind.MALFORMED
    assert len(service.requests) == 2


def test_a_truncated_get_that_recovers_returns_the_whole_body(script, sleeps) -> None:
    service = run(script, FakeResponse(200, b"x" * 1000, truncate_to=100), ok(b"y" * 1000))
    assert transport_for(service, sleeps).get("/x").body == b"y" * 1000


def test_a_service_that_never_answers_is_unreachable(script, sleeps) -> None:
    service = run(script, FakeResponse(hang=True))
    transport = transport_for(service, sleeps, timeout=0.3, policy=RetryPolicy(attempts=2))
    error = failure(lambda: transport.get("/x"))
    assert error.kind is FailureKind.UNREACHABLE and error.retryable
    assert len(service.requests) == 2


def test_a_closed_port_is_unreachable_after_retries(sleeps) -> None:
    transport = transport_for(f"http://127.0.0.1:{free_port()}", sleeps)
    error = failure(lambda: transport.get("/x"))
    assert error.kind is FailureKind.UNREACHABLE
    assert len(sleeps) == RetryPolicy().attempts - 1


def test_malformed_json_is_malformed(script, sleeps) -> None:
    service = run(script, ok(b"{not json"))
    answer = transport_for(service, sleeps).get("/x")
    assert failure(answer.json).kind is FailureKind.MALFORMED


def test_links_to_another_host_are_not_followed(script, sleeps) -> None:
    service = run(script, ok())
    transport = transport_for(service, sleeps)
    assert transport.get(service.url("/root/v2/next?p=2")).status == 200
    for elsewhere in ("http://attacker.example/v2/next", "https://127.0.0.1/x"):
        assert failure(lambda url=elsewhere: transport.get(url)).kind is FailureKind.MALFORMED
    assert len(service.requests) == 1


@pytest.mark.parametrize(
    "response",
    [
        FakeResponse(401),
        FakeResponse(500),
        FakeResponse(429),
        FakeResponse(200, b"x" * 50, truncate_to=5),
        FakeResponse(hang=True),
    ],
)
def test_no_credential_in_any_message_or_log(script, sleeps, response, caplog) -> None:
    service = run(script, response)
    transport = transport_for(
        service, sleeps, timeout=0.3, policy=RetryPolicy(attempts=2, rate_limit_attempts=2)
    )
    caplog.set_level(logging.DEBUG)
    error = failure(lambda: transport.get("/v2/entries", params={"access_token": TOKEN}))
    for text in (str(error), repr(error), repr(transport), caplog.text):
        assert_no_secret(text)
    assert "/v2/" in str(error)


def test_put_is_retried_only_on_429_and_a_call_may_bring_its_own_auth(script, sleeps) -> None:
    service = run(script, FakeResponse(429, headers={"Retry-After": "2"}), FakeResponse(502), ok())
    transport = transport_for(service, sleeps)
    error = failure(
        lambda: transport.put("/x", content=b"<a/>", auth=httpx.BasicAuth("bob", "other-pw"))
    )
    assert error.kind is FailureKind.SERVER
    assert [r.method for r in service.requests] == ["PUT", "PUT"]
    assert service.requests[0].basic_auth() == ("bob", "other-pw")
    assert sleeps == [2.0]
