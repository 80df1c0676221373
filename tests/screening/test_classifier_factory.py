"""Building classifiers from settings, and running several on one piece of media."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.screening.test_classifier_onnx import mean_model
from vigil.core.errors import ConfigurationError
from vigil.core.settings import ClassifierConfig, load_settings
from vigil.screening.classifiers import (
    Classifier,
    ClassifierError,
    ClassifierResult,
    HttpClassifier,
    OnnxClassifier,
    build_classifiers,
    classify_all,
)

TOKEN = "factory-token-5d1e0b9c"


def config(**fields: Any) -> ClassifierConfig:
    return ClassifierConfig.model_validate(fields)


def white_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (255, 255, 255)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def scoring_service() -> Iterator[str]:
    """Scores 0.9 for requests that carry TOKEN, refuses others with 401."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            allowed = self.headers.get("Authorization") == f"Bearer {TOKEN}"
            body = json.dumps({"score": 0.9} if allowed else {"error": "no"}).encode()
            self.send_response(200 if allowed else 401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/score"
    finally:
        server.shutdown()
        server.server_close()


class Fixed:
    """A stand-in plug-in with a known score: the factory must treat any Classifier alike."""

    def __init__(self, name: str, score: float, barrier: threading.Barrier | None = None) -> None:
        self.name = name
        self.threshold = 0.5
        self.score = score
        self.barrier = barrier
        self.calls: list[tuple[bytes, str]] = []

    def classify(self, media: bytes, media_type: str) -> ClassifierResult:
        self.calls.append((media, media_type))
        if self.barrier is not None:
            self.barrier.wait()  # passes only if every classifier runs at the same time
        return ClassifierResult(self.name, self.score, threshold=self.threshold)


class Failing:
    def __init__(self, name: str, exc: Exception) -> None:
        self.name = name
        self.threshold = 0.5
        self.exc = exc

    def classify(self, media: bytes, media_type: str) -> ClassifierResult:
        raise self.exc


# --- build_classifiers ---------------------------------------------------------------------


def test_builds_both_kinds_in_order(tmp_path: Path, scoring_service: str) -> None:
    model = mean_model(tmp_path / "mean.onnx")
    built = build_classifiers(
        [
            config(
                name="remote",
                kind="http",
                url=scoring_service,
                token=TOKEN,
                threshold=0.7,
                timeout=2,
                retries=0,
            ),
            config(name="local", kind="onnx", model_path=str(model), threshold=0.3),
        ]
    )
    assert [type(c) for c in built] == [HttpClassifier, OnnxClassifier]
    assert [(c.name, c.threshold) for c in built] == [("remote", 0.7), ("local", 0.3)]
    assert all(isinstance(c, Classifier) for c in built)
    # The token from the settings reaches the service: without it the service answers 401.
    results, errors = classify_all(built, white_png(), "photo")
    assert errors == []
    assert [(r.name, round(r.score, 6)) for r in results] == [("remote", 0.9), ("local", 1.0)]


def test_http_without_token_sends_none(scoring_service: str) -> None:
    [remote] = build_classifiers(
        [config(name="remote", kind="http", url=scoring_service, retries=0)]
    )
    with pytest.raises(ClassifierError, match="401"):
        remote.classify(b"media", "photo")


def test_builds_from_a_toml_file(tmp_path: Path, scoring_service: str) -> None:
    model = mean_model(tmp_path / "mean.onnx")
    toml = tmp_path / "vigil.toml"
    toml.write_text(f"""
[[classifiers]]
name = "remote"
kind = "http"
url = "{scoring_service}"
token = "{TOKEN}"
threshold = 0.8

[[classifiers]]
name = "local"
kind = "onnx"
model_path = "{model}"
""")
    settings = load_settings(toml, data_dir=tmp_path)
    built = build_classifiers(settings.classifiers)
    assert [c.name for c in built] == ["remote", "local"]
    assert built[0].threshold == 0.8
    assert built[1].threshold == 0.8  # the default


def test_no_configs_gives_no_classifiers() -> None:
    assert build_classifiers([]) == []


@pytest.mark.parametrize("names", [("same", "same"), ("Same", "same"), ("same", " same ")])
def test_duplicate_names_are_rejected(names: tuple[str, str]) -> None:
    configs = [
        config(name=names[0], kind="http", url="https://a.example/"),
        config(name=names[1], kind="http", url="https://b.example/"),
    ]
    with pytest.raises(ConfigurationError, match="used twice"):
        build_classifiers(configs)


def test_http_needs_a_url() -> None:
    with pytest.raises(ConfigurationError, match="'remote' \\(http\\) needs a url"):
        build_classifiers([config(name="remote", kind="http", token=TOKEN)])


def test_onnx_needs_a_model_path() -> None:
    with pytest.raises(ConfigurationError, match="'local' \\(onnx\\) needs a model_path"):
        build_classifiers([config(name="local", kind="onnx")])


def test_onnx_with_missing_model_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"'local'.*not found"):
        build_classifiers([config(name="local", kind="onnx", model_path=str(tmp_path / "x"))])


def test_corrupt_model_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\x00garbage" * 20)
    with pytest.raises(ConfigurationError, match=r"'local'.*cannot load"):
        build_classifiers([config(name="local", kind="onnx", model_path=str(path))])


@pytest.mark.parametrize("url", ["ftp://example.org/", "https://u:p@example.org/", "nope"])
def test_bad_url_is_a_configuration_error_without_the_token(url: str) -> None:
    with pytest.raises(ConfigurationError, match="'remote'") as caught:
        build_classifiers([config(name="remote", kind="http", url=url, token=TOKEN)])
    assert TOKEN not in str(caught.value)


# --- classify_all --------------------------------------------------------------------------


def test_results_keep_configured_order_and_every_classifier_sees_the_media() -> None:
    first, second = Fixed("first", 0.2), Fixed("second", 0.9)
    results, errors = classify_all([first, second], b"bytes", "video")
    assert [(r.name, r.score) for r in results] == [("first", 0.2), ("second", 0.9)]
    assert [r.needs_review for r in results] == [False, True]
    assert errors == []
    assert first.calls == second.calls == [(b"bytes", "video")]


def test_one_failure_does_not_stop_the_others() -> None:
    classifiers = [
        Failing("down", ClassifierError("classifier 'down': timed out after 5 s")),
        Fixed("ok", 0.6),
        Failing("buggy", RuntimeError("internal state: secret-ish detail")),
        Fixed("also-ok", 0.1),
    ]
    results, errors = classify_all(classifiers, b"bytes", "photo")
    assert [r.name for r in results] == ["ok", "also-ok"]
    assert errors == [
        {"name": "down", "error": "classifier 'down': timed out after 5 s"},
        {"name": "buggy", "error": "internal error (RuntimeError)"},
    ]


def test_all_failing_gives_only_errors() -> None:
    results, errors = classify_all(
        [Failing("a", ClassifierError("x")), Failing("b", ValueError("y"))], b"m", "photo"
    )
    assert results == []
    assert [e["name"] for e in errors] == ["a", "b"]


def test_no_classifiers_gives_nothing() -> None:
    assert classify_all([], b"m", "photo") == ([], [])


def test_classifiers_run_side_by_side() -> None:
    barrier = threading.Barrier(3, timeout=5)
    classifiers = [Fixed(f"c{i}", 0.5, barrier) for i in range(3)]
    results, errors = classify_all(classifiers, b"m", "photo")
    assert errors == [] and len(results) == 3


def test_real_classifiers_mixed_with_a_failing_one(tmp_path: Path) -> None:
    local = OnnxClassifier("local", mean_model(tmp_path / "m.onnx"), threshold=0.5)
    results, errors = classify_all([local], b"not an image", "photo")
    assert results == []
    assert errors[0]["name"] == "local" and "cannot decode" in errors[0]["error"]
    results, errors = classify_all(
        [local, Failing("x", ClassifierError("down"))], white_png(), "photo"
    )
    assert [r.name for r in results] == ["local"] and results[0].needs_review
    assert errors == [{"name": "x", "error": "down"}]
