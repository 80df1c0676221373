"""The HTTP classifier against a real local HTTP server, scripted per test."""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from vigil.screening.classifiers import ClassifierError, HttpClassifier
from vigil.screening.classifiers.http import MAX_RESPONSE_BYTES

TOKEN = "tok-3f9a1c77e2-very-secret"
MEDIA = bytes(range(256)) * 40  # arbitrary bytes: the service, not Vigil, decodes them

Action = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Service:
    """Answers the n-th request with the n-th scripted action (the last one repeats)."""

    url: str
    client: httpx.Client  # shared by the tests' classifiers unless they bring their own
    script: list[Action] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_action(self) -> Action:
        with self.lock:
            index = min(len(self.received) - 1, len(self.script) - 1)
            return self.script[index]


def reply(
    status: int,
    body: bytes | str | object,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    length: bool = True,
) -> Action:
    raw = (
        body
        if isinstance(body, bytes)
        else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    )

    def act(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        if length:
            handler.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(raw)

    return act


def score(value: object, **extra: object) -> Action:
    return reply(200, {"score": value, **extra})


@pytest.fixture(scope="module")
def shared_client() -> Iterator[httpx.Client]:
    # Building a client costs ~50 ms (TLS context); one per test would dominate the run.
    with httpx.Client() as client:
        yield client


@pytest.fixture
def service(shared_client: httpx.Client) -> Iterator[Service]:
    holder: list[Service] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            svc = holder[0]
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with svc.lock:
                svc.received.append(Received(self.path, dict(self.headers.items()), body))
            # The client may have given up already (timeout tests).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                svc.next_action()(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder.append(Service(f"http://127.0.0.1:{server.server_port}/classify", shared_client))
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        holder[0].release.set()
        server.shutdown()
        server.server_close()


def classifier(
    service: Service,
    *,
    token: str | None = TOKEN,
    retries: int = 2,
    timeout: float = 2.0,
    threshold: float = 0.5,
    client: httpx.Client | None = None,
) -> HttpClassifier:
    return HttpClassifier(
        "remote",
        service.url,
        threshold=threshold,
        token=token,
        timeout=timeout,
        retries=retries,
        backoff=0.01,
        client=client or service.client,
    )


def failure(service: Service, action: Action | list[Action], **options: object) -> str:
    service.script = action if isinstance(action, list) else [action]
    with pytest.raises(ClassifierError) as caught:
        classifier(service, **options).classify(MEDIA, "photo")  # type: ignore[arg-type]
    message = str(caught.value)
    assert TOKEN not in message
    assert TOKEN not in repr(caught.value.__cause__) and TOKEN not in repr(caught.value.__context__)
    return message


# --- the happy path ------------------------------------------------------------------------


def test_score_labels_and_model_are_parsed(service: Service) -> None:
    service.script = [score(0.73, labels=["nudity", "weapon"], model="m-2024.1")]
    result = classifier(service).classify(MEDIA, "photo")
    assert result.name == "remote"
    assert result.score == pytest.approx(0.73)
    assert result.labels == ("nudity", "weapon")
    assert result.details == {"model": "m-2024.1"}
    assert result.threshold == 0.5
    assert result.needs_review


def test_score_below_threshold_does_not_need_review(service: Service) -> None:
    service.script = [score(0.2)]
    result = classifier(service, threshold=0.5).classify(MEDIA, "video")
    assert result.score == pytest.approx(0.2)
    assert result.labels == ()
    assert result.details == {}
    assert not result.needs_review


@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0])
def test_boundary_scores_are_accepted(service: Service, value: float) -> None:
    service.script = [score(value)]
    assert classifier(service).classify(MEDIA, "photo").score == value


def test_request_carries_media_type_token_and_raw_body(service: Service) -> None:
    service.script = [score(0.1)]
    classifier(service).classify(MEDIA, "video")
    [request] = service.received
    assert request.path == "/classify"
    assert request.body == MEDIA
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert request.headers["X-Vigil-Media-Type"] == "video"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_no_authorization_header_without_token(service: Service) -> None:
    service.script = [score(0.1)]
    classifier(service, token=None).classify(MEDIA, "photo")
    assert "Authorization" not in service.received[0].headers
    assert service.received[0].headers["X-Vigil-Media-Type"] == "photo"


def test_unknown_extra_fields_are_ignored(service: Service) -> None:
    service.script = [score(0.4, version=3, extra={"a": 1})]
    assert classifier(service).classify(MEDIA, "photo").score == pytest.approx(0.4)


def test_own_client_scores_and_does_not_follow_redirects(service: Service) -> None:
    remote = HttpClassifier("remote", service.url, threshold=0.5, token=TOKEN, retries=0)
    try:
        service.script = [score(0.8)]
        assert remote.classify(MEDIA, "photo").score == pytest.approx(0.8)
        service.script = [score(0.8), reply(302, b"", headers={"Location": "/x"})]
        with pytest.raises(ClassifierError, match="302"):
            remote.classify(MEDIA, "photo")
        assert [r.path for r in service.received] == ["/classify", "/classify"]
    finally:
        remote.close()


def test_caller_supplied_client_is_used_without_redirects(service: Service) -> None:
    service.script = [reply(302, b"", headers={"Location": "/elsewhere"}), score(0.9)]
    # A client configured to follow redirects must still not follow them for us.
    with httpx.Client(follow_redirects=True) as client, pytest.raises(ClassifierError, match="302"):
        classifier(service, client=client, retries=0).classify(MEDIA, "photo")
    assert [r.path for r in service.received] == ["/classify"]


# --- retries -------------------------------------------------------------------------------


def test_retries_after_503_then_succeeds(service: Service) -> None:
    service.script = [reply(503, "busy", content_type="text/plain"), score(0.6)]
    result = classifier(service, retries=2).classify(MEDIA, "photo")
    assert result.score == pytest.approx(0.6)
    assert len(service.received) == 2
    assert service.received[1].body == MEDIA


def test_retries_after_429(service: Service) -> None:
    service.script = [
        reply(429, "slow down", content_type="text/plain"),
        reply(429, "slow down", content_type="text/plain"),
        score(0.3),
    ]
    assert classifier(service, retries=2).classify(MEDIA, "photo").score == pytest.approx(0.3)
    assert len(service.received) == 3


def test_gives_up_after_the_configured_retries(service: Service) -> None:
    message = failure(service, reply(500, "boom", content_type="text/plain"), retries=2)
    assert "500" in message
    assert len(service.received) == 3


@pytest.mark.parametrize("status", [400, 404, 413, 422])
def test_no_retry_on_client_errors(service: Service, status: int) -> None:
    message = failure(service, [reply(status, {"error": "no"}), score(0.5)], retries=3)
    assert str(status) in message
    assert len(service.received) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_is_reported_without_the_token(service: Service, status: int) -> None:
    # The service echoes the credential it was sent; none of it may reach the error.
    def echo(handler: BaseHTTPRequestHandler) -> None:
        reply(status, {"error": f"bad {handler.headers['Authorization']}"})(handler)

    message = failure(service, echo, retries=3)
    assert "token" in message and str(status) in message
    assert len(service.received) == 1


def test_timeout_raises_after_retries(service: Service) -> None:
    def stall(handler: BaseHTTPRequestHandler) -> None:
        service.release.wait(5)
        score(0.9)(handler)

    started = time.monotonic()
    message = failure(service, stall, retries=1, timeout=0.2)
    assert "timed out" in message
    assert len(service.received) == 2
    assert time.monotonic() - started < 3


def test_connection_refused_is_retried_then_reported() -> None:
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    remote = HttpClassifier(
        "remote",
        f"http://127.0.0.1:{port}/",
        threshold=0.5,
        token=TOKEN,
        timeout=1,
        retries=2,
        backoff=0.01,
    )
    with pytest.raises(ClassifierError, match="request failed") as caught:
        remote.classify(MEDIA, "photo")
    assert TOKEN not in str(caught.value)


def test_connection_dropped_mid_answer_is_an_error(service: Service) -> None:
    def drop(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        handler.wfile.write(b'{"score": ')

    failure(service, drop, retries=0)


# --- hostile or broken answers -------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b'{"score": 0.5',
        b"\xff\xfe\x00garbage",
        b"",
        b"[0.5]",
        b'"0.5"',
        b"0.5",
        b"null",
    ],
)
def test_malformed_answer_is_rejected(service: Service, body: bytes) -> None:
    assert "invalid answer" in failure(service, reply(200, body), retries=0)


@pytest.mark.parametrize(
    "payload",
    [
        {"score": 1.0000001},
        {"score": -0.01},
        {"score": 7},
        {"score": "0.5"},
        {"score": True},
        {"score": None},
        {"score": [0.5]},
        {},
        {"labels": ["x"]},
    ],
)
def test_bad_score_is_rejected(service: Service, payload: dict[str, object]) -> None:
    assert "score" in failure(service, reply(200, payload), retries=0)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_score_is_rejected(service: Service, constant: str) -> None:
    failure(service, reply(200, f'{{"score": {constant}}}'), retries=0)


def test_overflowing_score_is_rejected(service: Service) -> None:
    failure(service, reply(200, '{"score": 1e999}'), retries=0)


@pytest.mark.parametrize(
    "labels",
    [
        "nudity",
        {"a": 1},
        [1, 2],
        [None],
        [""],
        ["x" * 65],
        ["ok", "line\nbreak"],
        [f"l{i}" for i in range(33)],
    ],
)
def test_bad_labels_are_rejected(service: Service, labels: object) -> None:
    assert "label" in failure(service, score(0.5, labels=labels), retries=0)


@pytest.mark.parametrize("model", [3, None, ["m"], "m" * 129, "bad\x00model"])
def test_bad_model_field_is_rejected(service: Service, model: object) -> None:
    assert "model" in failure(service, score(0.5, model=model), retries=0)


def test_32_labels_are_accepted(service: Service) -> None:
    labels = [f"label-{i}" for i in range(32)]
    service.script = [score(0.5, labels=labels)]
    assert classifier(service).classify(MEDIA, "photo").labels == tuple(labels)


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "until-close"])
def test_huge_answer_is_refused(service: Service, length: bool) -> None:
    padding = " " * (MAX_RESPONSE_BYTES + 10)
    body = f'{{"score": 0.5, "pad": "{padding}"}}'
    assert "exceeds" in failure(service, reply(200, body, length=length), retries=2)
    assert len(service.received) == 1  # a protocol violation is not worth asking again


def test_compressed_answer_is_refused(service: Service) -> None:
    # A small gzip body can expand to gigabytes; only identity encoding is read.
    bomb = gzip.compress(b'{"score": 0.5, "pad": "' + b" " * (20 * MAX_RESPONSE_BYTES) + b'"}')
    assert len(bomb) < MAX_RESPONSE_BYTES
    message = failure(service, reply(200, bomb, headers={"Content-Encoding": "gzip"}), retries=0)
    assert "compressed" in message
    assert service.received[0].headers["Accept-Encoding"] == "identity"


def test_answer_just_under_the_limit_is_accepted(service: Service) -> None:
    head = '{"score": 0.25, "pad": "'
    body = head + " " * (MAX_RESPONSE_BYTES - len(head) - 2) + '"}'
    assert len(body) == MAX_RESPONSE_BYTES
    service.script = [reply(200, body)]
    assert classifier(service).classify(MEDIA, "photo").score == pytest.approx(0.25)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_not_followed(service: Service, status: int) -> None:
    script = [reply(status, b"", headers={"Location": "/stolen"}), score(0.9)]
    assert str(status) in failure(service, script, retries=2)
    assert [r.path for r in service.received] == ["/classify"]


@pytest.mark.parametrize("status", [201, 204, 202])
def test_other_success_statuses_are_not_scores(service: Service, status: int) -> None:
    failure(service, reply(status, {"score": 0.5}), retries=0)


# --- construction and arguments ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "example.org/classify",
        "http://",
        "https://user:pw@example.org/",
        "http://example.org:99999999/",
        "",
    ],
)
def test_bad_urls_are_refused_at_construction(url: str) -> None:
    with pytest.raises(ClassifierError, match="url"):
        HttpClassifier("remote", url, threshold=0.5, token=TOKEN)


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_bad_threshold_is_refused(threshold: float) -> None:
    with pytest.raises(ClassifierError, match="threshold"):
        HttpClassifier("remote", "https://example.org/", threshold=threshold)


def test_unknown_media_type_and_empty_media_are_refused(service: Service) -> None:
    service.script = [score(0.5)]
    remote = classifier(service)
    with pytest.raises(ClassifierError, match="media type"):
        remote.classify(MEDIA, "audio")
    with pytest.raises(ClassifierError, match="empty"):
        remote.classify(b"", "photo")
    assert service.received == []


def test_repr_hides_the_token(service: Service) -> None:
    remote = classifier(service)
    assert TOKEN not in repr(remote)
    assert TOKEN not in str(vars(remote).get("url"))
