"""The ONNX classifier on tiny models built here with onnx.helper, and generated media.

The models compute something we can predict from the picture (its mean brightness, or each
channel's mean), so every expected score follows from the image, not from a recorded run.
"""

from __future__ import annotations

import io
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from tests import decode_bombs
from tests.fingerprint.video_media import MPEG4, write_clip
from tests.media_factory import gradient, noise
from vigil.fingerprint import limits
from vigil.screening.classifiers import ClassifierError, OnnxClassifier

SIDE = 16
OPSET = 17  # ReduceMean still takes its axes as an attribute here


def save_model(
    path: Path,
    nodes: list[onnx.NodeProto],
    *,
    input_shape: list[int | str],
    output_shape: list[int | str],
    labels: str | None = None,
    input_type: int = TensorProto.FLOAT,
    extra_inputs: list[onnx.ValueInfoProto] | None = None,
) -> Path:
    graph = helper.make_graph(
        nodes,
        "test",
        [helper.make_tensor_value_info("pixels", input_type, input_shape), *(extra_inputs or [])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, output_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    if labels is not None:
        helper.set_model_props(model, {"labels": labels})
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def mean_model(
    path: Path, *, scale: float | None = None, input_shape: list[int | str] | None = None
) -> Path:
    """Score = mean of all pixels (times ``scale``): white scores 1, black 0."""
    nodes = [helper.make_node("ReduceMean", ["pixels"], ["mean" if scale else "score"], keepdims=1)]
    if scale is not None:
        nodes += [
            helper.make_node(
                "Constant", [], ["k"], value=helper.make_tensor("k", TensorProto.FLOAT, [], [scale])
            ),
            helper.make_node("Mul", ["mean", "k"], ["score"]),
        ]
    return save_model(
        path, nodes, input_shape=input_shape or [1, 3, SIDE, SIDE], output_shape=[1, 1, 1, 1]
    )


def channel_model(path: Path, labels: str | None = "red,green,blue") -> Path:
    """Three scores: the mean of each colour channel."""
    nodes = [helper.make_node("ReduceMean", ["pixels"], ["score"], axes=[2, 3], keepdims=0)]
    return save_model(
        path, nodes, input_shape=["batch", 3, SIDE, SIDE], output_shape=["batch", 3], labels=labels
    )


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **params)
    return buffer.getvalue()


def solid(rgb: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> Image.Image:
    return Image.new("RGB", size, rgb)


@pytest.fixture
def mean_path(tmp_path: Path) -> Path:
    return mean_model(tmp_path / "mean.onnx")


# --- scores --------------------------------------------------------------------------------


def test_white_scores_one_and_black_scores_zero(mean_path: Path) -> None:
    model = OnnxClassifier("brightness", mean_path, threshold=0.5)
    white = model.classify(png(solid((255, 255, 255))), "photo")
    black = model.classify(png(solid((0, 0, 0))), "photo")
    assert white.score == pytest.approx(1.0, abs=1e-6)
    assert black.score == pytest.approx(0.0, abs=1e-6)
    assert white.needs_review and not black.needs_review
    assert white.name == "brightness" and white.threshold == 0.5
    assert white.details == {"model": "mean.onnx"}
    assert white.labels == ()


def test_score_is_the_mean_of_the_resized_rgb_picture(mean_path: Path) -> None:
    model = OnnxClassifier("brightness", mean_path, threshold=0.5)
    for seed, image in enumerate([gradient(64, 48, seed=3), noise(50, 70, seed=4)]):
        expected = (
            np.asarray(
                image.resize((SIDE, SIDE), Image.Resampling.BILINEAR), dtype=np.float64
            ).mean()
            / 255
        )
        result = model.classify(png(image), "photo")
        assert result.score == pytest.approx(expected, abs=1e-5), seed


def test_greyscale_and_alpha_images_are_converted_to_rgb(mean_path: Path) -> None:
    model = OnnxClassifier("brightness", mean_path, threshold=0.5)
    grey = Image.new("L", (20, 20), 51)
    rgba = Image.new("RGBA", (20, 20), (255, 255, 255, 0))
    assert model.classify(png(grey), "photo").score == pytest.approx(0.2, abs=1e-6)
    assert model.classify(png(rgba), "photo").score == pytest.approx(1.0, abs=1e-6)


def test_jpeg_is_decoded(mean_path: Path) -> None:
    model = OnnxClassifier("brightness", mean_path, threshold=0.5)
    result = model.classify(jpeg(solid((255, 255, 255), (400, 300))), "photo")
    assert result.score == pytest.approx(1.0, abs=0.01)


def test_exif_orientation_is_applied_before_scoring(tmp_path: Path) -> None:
    """Score = mean of the top half, so only an upright picture gives the right answer."""
    starts = helper.make_tensor("starts", TensorProto.INT64, [1], [0])
    ends = helper.make_tensor("ends", TensorProto.INT64, [1], [SIDE // 2])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [2])
    nodes = [
        helper.make_node("Constant", [], [name], value=tensor)
        for name, tensor in (("s", starts), ("e", ends), ("a", axes))
    ]
    nodes += [
        helper.make_node("Slice", ["pixels", "s", "e", "a"], ["top"]),
        helper.make_node("ReduceMean", ["top"], ["score"], keepdims=1),
    ]
    path = save_model(
        tmp_path / "top.onnx", nodes, input_shape=[1, 3, SIDE, SIDE], output_shape=[1, 1, 1, 1]
    )
    stored = Image.new("RGB", (40, 40), (0, 0, 0))
    stored.paste((255, 255, 255), (0, 0, 40, 20))  # white on top as stored...
    exif = Image.Exif()
    exif[0x0112] = 3  # ...but shown rotated 180 degrees: white at the bottom
    model = OnnxClassifier("top", path, threshold=0.5)
    assert model.classify(jpeg(stored), "photo").score == pytest.approx(1.0, abs=0.02)
    assert model.classify(jpeg(stored, exif=exif), "photo").score == pytest.approx(0.0, abs=0.02)


@pytest.mark.parametrize(("threshold", "review"), [(0.4, True), (0.6, False), (1.0, False)])
def test_threshold_decides_review(mean_path: Path, threshold: float, review: bool) -> None:
    grey = png(solid((128, 128, 128)))
    result = OnnxClassifier("b", mean_path, threshold=threshold).classify(grey, "photo")
    assert result.score == pytest.approx(128 / 255, abs=1e-6)
    assert result.needs_review is review


def test_vector_output_gives_max_score_and_labels_above_threshold(tmp_path: Path) -> None:
    model = OnnxClassifier("colours", channel_model(tmp_path / "c.onnx"), threshold=0.5)
    red = model.classify(png(solid((255, 0, 0))), "photo")
    assert red.score == pytest.approx(1.0, abs=1e-6)
    assert red.labels == ("red",)
    cyan = model.classify(png(solid((0, 204, 255))), "photo")
    assert cyan.score == pytest.approx(1.0, abs=1e-6)
    assert cyan.labels == ("green", "blue")
    dim = model.classify(png(solid((100, 20, 60))), "photo")
    assert dim.score == pytest.approx(100 / 255, abs=1e-6)
    assert dim.labels == () and not dim.needs_review


def test_vector_output_without_labels_metadata_has_no_labels(tmp_path: Path) -> None:
    model = OnnxClassifier(
        "colours", channel_model(tmp_path / "c.onnx", labels=None), threshold=0.5
    )
    result = model.classify(png(solid((0, 255, 0))), "photo")
    assert result.score == pytest.approx(1.0, abs=1e-6)
    assert result.labels == ()


def test_dynamic_batch_input_is_accepted(tmp_path: Path) -> None:
    path = mean_model(tmp_path / "m.onnx", input_shape=["n", 3, SIDE, SIDE])
    result = OnnxClassifier("b", path, threshold=0.5).classify(png(solid((255,) * 3)), "photo")
    assert result.score == pytest.approx(1.0, abs=1e-6)


def test_concurrent_calls_share_one_model(mean_path: Path) -> None:
    model = OnnxClassifier("b", mean_path, threshold=0.5)
    levels = [0, 51, 102, 153, 204, 255] * 4
    with ThreadPoolExecutor(6) as pool:
        scores = list(
            pool.map(lambda v: model.classify(png(solid((v, v, v))), "photo").score, levels)
        )
    assert scores == pytest.approx([v / 255 for v in levels], abs=1e-6)


# --- videos and animations -----------------------------------------------------------------


def clip(tmp_path: Path, levels: list[int], seconds_each: float = 1.0) -> bytes:
    frames = [
        np.full((48, 64, 3), level, np.uint8)
        for level in levels
        for _ in range(round(seconds_each * 30))
    ]
    return write_clip(tmp_path / "clip.avi", frames, MPEG4, size=(64, 48)).read_bytes()


def test_video_scores_the_brightest_sampled_frame(tmp_path: Path, mean_path: Path) -> None:
    model = OnnxClassifier("b", mean_path, threshold=0.5)
    result = model.classify(clip(tmp_path, [0, 0, 255, 0]), "video")
    assert result.score == pytest.approx(1.0, abs=0.03)
    assert result.needs_review
    assert 2 <= result.details["frames"] <= 8


def test_dark_video_stays_below_threshold(tmp_path: Path, mean_path: Path) -> None:
    result = OnnxClassifier("b", mean_path, threshold=0.5).classify(
        clip(tmp_path, [0, 20]), "video"
    )
    assert result.score == pytest.approx(20 / 255, abs=0.03)
    assert not result.needs_review


def test_long_video_samples_at_most_max_frames(tmp_path: Path, mean_path: Path) -> None:
    video = clip(tmp_path, [0] * 12, seconds_each=1.0)
    result = OnnxClassifier("b", mean_path, threshold=0.5, max_frames=3).classify(video, "video")
    assert result.details["frames"] == 3


def test_animation_as_video_scores_its_frames(mean_path: Path) -> None:
    # Distinct frames: Pillow merges identical neighbours when it writes a GIF.
    frames = [solid((0, 0, 0)), solid((30, 30, 30)), solid((255, 255, 255)), solid((60, 60, 60))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=200)
    result = OnnxClassifier("b", mean_path, threshold=0.5).classify(buffer.getvalue(), "video")
    assert result.score == pytest.approx(1.0, abs=1e-6)
    assert result.details["frames"] == 4


def test_still_image_sent_as_video_is_one_frame(mean_path: Path) -> None:
    result = OnnxClassifier("b", mean_path, threshold=0.5).classify(png(solid((255,) * 3)), "video")
    assert result.score == pytest.approx(1.0, abs=1e-6)
    assert result.details["frames"] == 1


@pytest.mark.parametrize(
    "media",
    [
        b"\x00" * 2000,
        b"RIFF\x00\x00\x00\x00AVI " + b"\x01" * 500,
        b"\x1a\x45\xdf\xa3" + b"\xff" * 300,
    ],
)
def test_broken_video_is_an_error(mean_path: Path, media: bytes) -> None:
    with pytest.raises(ClassifierError, match="'b'"):
        OnnxClassifier("b", mean_path, threshold=0.5).classify(media, "video")


def test_video_bytes_sent_as_photo_is_an_error(tmp_path: Path, mean_path: Path) -> None:
    with pytest.raises(ClassifierError, match="photo"):
        OnnxClassifier("b", mean_path, threshold=0.5).classify(clip(tmp_path, [0]), "photo")


# --- hostile media -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "media", [b"hello, not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, b"GIF89a" + b"\xff" * 10]
)
def test_non_image_bytes_are_an_error(mean_path: Path, media: bytes) -> None:
    with pytest.raises(ClassifierError, match="'b'"):
        OnnxClassifier("b", mean_path, threshold=0.5).classify(media, "photo")


def test_truncated_jpeg_is_an_error(mean_path: Path) -> None:
    data = jpeg(noise(300, 200, seed=1))
    with pytest.raises(ClassifierError, match="decode"):
        OnnxClassifier("b", mean_path, threshold=0.5).classify(data[: len(data) // 2], "photo")


def test_too_many_pixels_is_refused_before_decoding(mean_path: Path) -> None:
    model = OnnxClassifier("b", mean_path, threshold=0.5, max_pixels=1000)
    with pytest.raises(ClassifierError, match="too_many_pixels"):
        model.classify(png(solid((1, 2, 3), (100, 100))), "photo")


@pytest.mark.parametrize(
    ("bomb", "media_type"),
    [
        (decode_bombs.png16(1_000, 1_000), "photo"),
        (decode_bombs.gif_canvas(1_000, 1_000, frames=3), "video"),
    ],
)  # animations: as videos
def test_the_decode_budget_holds_for_classifiers(
    mean_path: Path, bomb: bytes, media_type: str
) -> None:
    """Issue 14: a decode bomb is refused from its header here too, not decoded again."""
    before = limits.process_limits()
    model = OnnxClassifier("b", mean_path, threshold=0.5)
    try:
        limits.set_process_limits(limits.DecodeLimits(max_bytes=2 << 20))  # 4 MB decoded
        with pytest.raises(ClassifierError, match="over_decode_budget"):
            model.classify(bomb, media_type)
    finally:
        limits.set_process_limits(before)
    assert model.classify(bomb, media_type).score < 0.5


def test_empty_media_and_unknown_type_are_errors(mean_path: Path) -> None:
    model = OnnxClassifier("b", mean_path, threshold=0.5)
    with pytest.raises(ClassifierError, match="empty"):
        model.classify(b"", "photo")
    with pytest.raises(ClassifierError, match="media type"):
        model.classify(png(solid((0, 0, 0))), "audio")


# --- bad models ----------------------------------------------------------------------------


def test_out_of_range_output_is_an_error(tmp_path: Path) -> None:
    model = OnnxClassifier("x5", mean_model(tmp_path / "x5.onnx", scale=5.0), threshold=0.5)
    assert model.classify(png(solid((0, 0, 0))), "photo").score == 0.0  # 0 * 5 is fine
    with pytest.raises(ClassifierError, match=r"outside \[0, 1\]"):
        model.classify(png(solid((255, 255, 255))), "photo")


def test_negative_output_is_an_error(tmp_path: Path) -> None:
    model = OnnxClassifier("neg", mean_model(tmp_path / "n.onnx", scale=-1.0), threshold=0.5)
    with pytest.raises(ClassifierError, match="outside"):
        model.classify(png(solid((200, 200, 200))), "photo")


def test_nan_output_is_an_error(tmp_path: Path) -> None:
    model = OnnxClassifier(
        "nan", mean_model(tmp_path / "nan.onnx", scale=float("nan")), threshold=0.5
    )
    with pytest.raises(ClassifierError, match="outside"):
        model.classify(png(solid((200, 200, 200))), "photo")


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ClassifierError, match="not found"):
        OnnxClassifier("m", tmp_path / "absent.onnx", threshold=0.5)
    with pytest.raises(ClassifierError, match="not found"):
        OnnxClassifier("m", tmp_path, threshold=0.5)  # a directory is not a model


@pytest.mark.parametrize("content", [b"", b"this is not a protobuf" * 10, bytes(range(256)) * 8])
def test_corrupt_model_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(content)
    with pytest.raises(ClassifierError, match=r"cannot load the model corrupt\.onnx"):
        OnnxClassifier("m", path, threshold=0.5)


def test_truncated_model_file(tmp_path: Path, mean_path: Path) -> None:
    path = tmp_path / "cut.onnx"
    path.write_bytes(mean_path.read_bytes()[:-20])
    with pytest.raises(ClassifierError, match=r"cut\.onnx"):
        OnnxClassifier("m", path, threshold=0.5)


@pytest.mark.parametrize(
    ("shape", "problem"),
    [
        ([1, 3, SIDE], "rank 3"),
        ([3, SIDE, SIDE, 1, 1], "rank 5"),
        ([2, 3, SIDE, SIDE], "batch size"),
        ([1, 1, SIDE, SIDE], "3 \\(RGB\\) channels"),
        ([1, SIDE, SIDE, 3], "3 \\(RGB\\) channels"),  # NHWC
        ([1, 3, "h", "w"], "fixed sizes"),
    ],
)
def test_unsupported_input_shape(tmp_path: Path, shape: list[int | str], problem: str) -> None:
    nodes = [helper.make_node("ReduceMean", ["pixels"], ["score"], keepdims=1)]
    path = save_model(
        tmp_path / "shape.onnx", nodes, input_shape=shape, output_shape=[1] * len(shape)
    )
    with pytest.raises(ClassifierError, match=problem):
        OnnxClassifier("m", path, threshold=0.5)


def test_non_float_input_is_unsupported(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Cast", ["pixels"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["f"], ["score"], keepdims=1),
    ]
    path = save_model(
        tmp_path / "u8.onnx",
        nodes,
        input_shape=[1, 3, SIDE, SIDE],
        output_shape=[1, 1, 1, 1],
        input_type=TensorProto.UINT8,
    )
    with pytest.raises(ClassifierError, match="float32"):
        OnnxClassifier("m", path, threshold=0.5)


def test_two_inputs_are_unsupported(tmp_path: Path) -> None:
    other = helper.make_tensor_value_info("other", TensorProto.FLOAT, [1, 3, SIDE, SIDE])
    nodes = [
        helper.make_node("Add", ["pixels", "other"], ["sum"]),
        helper.make_node("ReduceMean", ["sum"], ["score"], keepdims=1),
    ]
    path = save_model(
        tmp_path / "two.onnx",
        nodes,
        input_shape=[1, 3, SIDE, SIDE],
        output_shape=[1, 1, 1, 1],
        extra_inputs=[other],
    )
    with pytest.raises(ClassifierError, match="one input"):
        OnnxClassifier("m", path, threshold=0.5)


def test_labels_that_do_not_fit_the_output_are_an_error(tmp_path: Path) -> None:
    model = OnnxClassifier("c", channel_model(tmp_path / "c.onnx", labels="a,b"), threshold=0.5)
    with pytest.raises(ClassifierError, match="3 scores for 2 labels"):
        model.classify(png(solid((1, 2, 3))), "photo")


def test_empty_label_in_metadata_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ClassifierError, match="empty label"):
        OnnxClassifier("c", channel_model(tmp_path / "c.onnx", labels="a,,c"), threshold=0.5)


@pytest.mark.parametrize("threshold", [-0.01, 1.01])
def test_bad_threshold_is_refused(mean_path: Path, threshold: float) -> None:
    with pytest.raises(ClassifierError, match="threshold"):
        OnnxClassifier("m", mean_path, threshold=threshold)


def test_missing_onnxruntime_says_how_to_install(
    mean_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes the import fail
    with pytest.raises(ClassifierError, match=r"vigil\[onnx\]"):
        OnnxClassifier("m", mean_path, threshold=0.5)
