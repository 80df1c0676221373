"""A classifier that is a local ONNX model, run on the CPU with ONNX Runtime.

ONNX Runtime is the optional extra ``vigil[onnx]``, imported only when such a classifier is
configured. No model ships with Vigil. The model contract (one NCHW float32 RGB input scaled
to 0..1, scores in [0, 1] out) is documented in docs/classifiers.md. Videos and animations are
scored on up to ``max_frames`` frames spread over their length; the highest score counts.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageOps

from vigil.fingerprint.decode import DEFAULT_MAX_PIXELS, open_image
from vigil.fingerprint.errors import FingerprintError
from vigil.fingerprint.frames import (
    VIDEO_FORMATS,
    AnimationReader,
    VideoReader,
    ffmpeg_failures,
    main_video_stream,
)
from vigil.fingerprint.limits import DecodeBudget, process_limits
from vigil.fingerprint.media import SNIFF_BYTES, MediaKind, sniff_bytes
from vigil.fingerprint.onnx_models import first_line, nchw_float_input, open_session
from vigil.screening.classifiers.base import ClassifierError, ClassifierResult

DEFAULT_MAX_FRAMES = 8
MAX_OUTPUTS = 4096  # a score vector longer than this is not a classifier we understand
MAX_INPUT_SIDE = 4096
# Pillow reports truncated and malformed data through all of these.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, MemoryError)


@dataclass(frozen=True, slots=True)
class InputSpec:
    name: str
    height: int
    width: int


class OnnxClassifier:
    """Scores media with a local ONNX model; load once, then thread-safe ``classify``."""

    def __init__(
        self,
        name: str,
        model_path: Path | str,
        *,
        threshold: float,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_frames: int = DEFAULT_MAX_FRAMES,
    ) -> None:
        if not 0 <= threshold <= 1:
            raise ClassifierError(f"classifier {name!r}: threshold must be within [0, 1]")
        if max_frames < 1:
            raise ClassifierError(f"classifier {name!r}: max_frames must be at least 1")
        self.name = name
        self.threshold = threshold
        self.model_path = Path(model_path)
        self.max_pixels = max_pixels
        self.max_frames = max_frames
        self._session = self._load()
        self._input = self._input_spec()
        self._output = self._session.get_outputs()[0].name
        self._labels = self._metadata_labels()

    def __repr__(self) -> str:
        return f"OnnxClassifier(name={self.name!r}, model_path={str(self.model_path)!r})"

    def classify(self, media: bytes, media_type: str) -> ClassifierResult:
        if media_type not in ("photo", "video"):
            raise ClassifierError(f"classifier {self.name!r}: unknown media type {media_type!r}")
        if not media:
            raise ClassifierError(f"classifier {self.name!r}: the media is empty")
        scores, frames = self._peak_scores(media, media_type)
        details: dict[str, Any] = {"model": self.model_path.name}
        if media_type == "video":
            details["frames"] = frames
        return ClassifierResult(
            self.name, float(scores.max()), self._labels_above(scores), self.threshold, details
        )

    def _peak_scores(self, media: bytes, media_type: str) -> tuple[np.ndarray, int]:
        """Each output's highest score over the frames scored, and how many were scored."""
        scores: np.ndarray | None = None
        frames = 0
        try:
            # closing: a failed frame must release the video container now, not at collection.
            with closing(self._images(media, media_type)) as images:
                for image in images:
                    frame_scores = self._infer(image)
                    scores = frame_scores if scores is None else self._peak(scores, frame_scores)
                    frames += 1
        except FingerprintError as exc:
            raise ClassifierError(
                f"classifier {self.name!r}: cannot decode the {media_type}: {exc}"
            ) from exc
        if scores is None:
            raise ClassifierError(f"classifier {self.name!r}: no frame could be decoded")
        return scores, frames

    # --- loading -------------------------------------------------------------------------

    def _load(self) -> Any:
        return open_session(
            self.model_path,
            plugins="classifiers",
            owner=f"classifier {self.name!r}",
            refuse=ClassifierError,
        )

    def _input_spec(self) -> InputSpec:
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise self._bad_model(f"expected one input, found {len(inputs)}")
        model_input = inputs[0]
        _, channels, height, width = nchw_float_input(model_input, self._bad_model)
        if channels != 3:
            raise self._bad_model(f"the input must have 3 (RGB) channels, not {channels}")
        if not all(
            isinstance(side, int) and 0 < side <= MAX_INPUT_SIDE for side in (height, width)
        ):
            raise self._bad_model(
                f"the input height and width must be fixed sizes up to "
                f"{MAX_INPUT_SIDE}, not {height}x{width}"
            )
        return InputSpec(model_input.name, height, width)

    def _metadata_labels(self) -> tuple[str, ...]:
        raw = self._session.get_modelmeta().custom_metadata_map.get("labels", "")
        labels = tuple(label.strip() for label in raw.split(",")) if raw.strip() else ()
        if any(not label for label in labels):
            raise self._bad_model("the labels metadata has an empty label")
        return labels

    def _bad_model(self, problem: str) -> ClassifierError:
        return ClassifierError(
            f"classifier {self.name!r}: unsupported model {self.model_path.name}: {problem}"
        )

    # --- scoring -------------------------------------------------------------------------

    def _infer(self, image: Image.Image) -> np.ndarray:
        """The model's scores for one RGB picture, checked to be finite and within [0, 1]."""
        tensor = self._tensor(image)
        try:
            output = self._session.run([self._output], {self._input.name: tensor})[0]
            scores = np.asarray(output, dtype=np.float64).ravel()
        except Exception as exc:  # ONNX Runtime's own hierarchy, or a non-numeric output
            raise ClassifierError(
                f"classifier {self.name!r}: the model failed: {first_line(exc)}"
            ) from exc
        if not 0 < scores.size <= MAX_OUTPUTS:
            raise ClassifierError(
                f"classifier {self.name!r}: the model gave {scores.size} "
                f"scores; expected 1 to {MAX_OUTPUTS}"
            )
        if not (np.all(np.isfinite(scores)) and np.all((scores >= 0) & (scores <= 1))):
            raise ClassifierError(
                f"classifier {self.name!r}: the model gave a score outside [0, 1]"
            )
        if self._labels and scores.size != len(self._labels):
            raise ClassifierError(
                f"classifier {self.name!r}: the model gave {scores.size} "
                f"scores for {len(self._labels)} labels"
            )
        return scores

    def _tensor(self, image: Image.Image) -> np.ndarray:
        size = (self._input.width, self._input.height)
        try:
            resized = image.resize(size, Image.Resampling.BILINEAR)
        except DECODE_ERRORS as exc:
            raise ClassifierError(
                f"classifier {self.name!r}: cannot resize the picture: {exc}"
            ) from exc
        pixels = np.asarray(resized, dtype=np.float32) / np.float32(255)
        return np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis])

    def _peak(self, scores: np.ndarray, more: np.ndarray) -> np.ndarray:
        if scores.shape != more.shape:
            raise ClassifierError(
                f"classifier {self.name!r}: the model's output size changed between frames"
            )
        return np.maximum(scores, more)

    def _labels_above(self, scores: np.ndarray) -> tuple[str, ...]:
        if not self._labels:
            return ()
        return tuple(
            label
            for label, score in zip(self._labels, scores, strict=True)
            if score > self.threshold
        )

    # --- decoding ------------------------------------------------------------------------

    def _images(self, media: bytes, media_type: str) -> Generator[Image.Image, None, None]:
        if media_type == "photo":
            yield self._photo(media)
        elif sniff_bytes(media[:SNIFF_BYTES]) == MediaKind.PHOTO:
            yield from self._animation_frames(media)
        else:
            yield from self._video_frames(media)

    def _photo(self, media: bytes) -> Image.Image:
        image = open_image(media, self.max_pixels)
        try:
            # JPEG only: decode at a reduced scale no smaller than the model input.
            image.draft("RGB", (self._input.width, self._input.height))
            # The fingerprint's decode budget holds here too: a bomb is not decoded twice.
            DecodeBudget(process_limits()).admit_still(image.width, image.height, image.mode)
            # Models are trained on upright pictures; phones store them sideways plus a tag.
            upright = ImageOps.exif_transpose(image)
            return upright if upright.mode == "RGB" else upright.convert("RGB")
        except DECODE_ERRORS as exc:
            raise ClassifierError(
                f"classifier {self.name!r}: cannot decode the photo: {exc}"
            ) from exc

    def _animation_frames(self, media: bytes) -> Iterator[Image.Image]:
        budget = DecodeBudget(process_limits())
        reader = AnimationReader(open_image(media, self.max_pixels), budget)
        budget.admit_animation(reader.count, reader.image.width, reader.image.height)
        for index in spread(reader.count, self.max_frames):
            if not reader.seek(index):
                return  # damaged after its first frame: score what came before
            frame = reader.rgb_copy(index)
            if frame is None:
                return
            yield frame

    def _video_frames(self, media: bytes) -> Iterator[Image.Image]:
        with ffmpeg_failures():
            # The whitelist keeps FFmpeg to ordinary video demuxers: others (playlists,
            # concat lists) can make it open further files named inside the input.
            container = av.open(
                io.BytesIO(media),
                "r",
                metadata_errors="ignore",
                options={"format_whitelist": VIDEO_FORMATS},
            )
        try:
            with ffmpeg_failures():
                reader = VideoReader(
                    container,
                    main_video_stream(container),
                    self.max_pixels,
                    threads=1,
                    skip_loop_filter=False,
                )
                duration = reader.info.duration
                # Spread the samples over the clip; without a duration, one a second.
                fps = self.max_frames / duration if duration else 1.0
                for taken, (_, frame) in enumerate(reader.sample(fps), start=1):
                    yield frame.to_image()
                    if taken >= self.max_frames:
                        return
        finally:
            container.close()


def spread(count: int, samples: int) -> list[int]:
    """Up to ``samples`` distinct indices spread evenly over ``range(count)``, first included."""
    if count <= samples:
        return list(range(count))
    return sorted({index * count // samples for index in range(samples)})
