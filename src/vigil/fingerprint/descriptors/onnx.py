"""A copy-detection descriptor that is the operator's own ONNX model, run on the CPU.

ONNX Runtime is the optional extra ``vigil[onnx]``, imported only when such a descriptor is
built; no model ships with Vigil and none is ever downloaded. The model contract
(docs/matching.md, "Embedding descriptors"): one float32 NCHW input with 1 (grey) or 3 (RGB)
channels, pixels scaled to 0..1 then ``(x - mean) / std`` per channel; one output holding one
vector per picture. Vigil normalises the vector to unit length itself, so models that end in
their own normalisation and models that do not both work.

Every problem found at start-up (missing or oversized file, unloadable model, wrong input or
output, a vector that is not finite on a probe picture) is a DescriptorError naming the
descriptor, so the service refuses to start rather than match with a broken model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vigil.fingerprint.descriptors.base import (
    MAX_DIMENSION,
    DescriptorError,
    Vector,
    rgb,
    unit_vector,
)
from vigil.fingerprint.onnx_models import first_line, nchw_float_input, open_session

MAX_INPUT_SIDE = 4096
DEFAULT_MAX_MODEL_BYTES = 1 << 30
# Pillow reports malformed and oversized pictures through all of these.
RESIZE_ERRORS = (OSError, ValueError, MemoryError)


@dataclass(frozen=True, slots=True)
class InputSpec:
    name: str
    channels: int
    height: int
    width: int
    batched: bool  # the batch dimension is dynamic: several pictures per run


class OnnxDescriptor:
    """Describes pictures with a local ONNX model; load once, then thread-safe ``describe``."""

    def __init__(
        self,
        name: str,
        model_path: Path | str,
        *,
        input_size: tuple[int, int] | None = None,
        input_name: str | None = None,
        output_name: str | None = None,
        mean: Sequence[float] = (0.0,),
        std: Sequence[float] = (1.0,),
        max_model_bytes: int = DEFAULT_MAX_MODEL_BYTES,
        dimension: int | None = None,
    ) -> None:
        self.name = name
        self.model_path = Path(model_path)
        self.max_model_bytes = max_model_bytes
        self._session = self._load()
        self._input = self._input_spec(input_name, input_size)
        self._output = self._output_name(output_name)
        self._mean, self._std = self._normalisation(mean, std)
        self.dimension = self._probe_dimension()
        self.version = self._version()
        if dimension is not None and dimension != self.dimension:
            raise self._bad_model(
                f"it gives vectors of {self.dimension} values, not the {dimension} configured"
            )

    def __repr__(self) -> str:
        return f"OnnxDescriptor(name={self.name!r}, model_path={str(self.model_path)!r})"

    def describe(self, image: Image.Image) -> Vector:
        raw = self._run(self._tensor(image))
        return unit_vector(raw, self.name, self.dimension)

    def describe_batch(self, images: Sequence[Image.Image]) -> Vector:
        """One run for the whole batch when the model's batch size is dynamic."""
        if not images:
            return np.empty((0, self.dimension), dtype=np.float32)
        if not self._input.batched:
            return np.stack([self.describe(image) for image in images])
        raw = self._run(np.concatenate([self._tensor(image) for image in images]))
        if raw.size != len(images) * self.dimension:
            raise DescriptorError(
                f"descriptor {self.name!r}: gave {raw.size} values for {len(images)} pictures"
            )
        rows = raw.reshape(len(images), self.dimension)
        return np.stack([unit_vector(row, self.name, self.dimension) for row in rows])

    # --- loading -------------------------------------------------------------------------

    def _load(self) -> Any:
        return open_session(
            self.model_path,
            plugins="descriptors",
            owner=f"descriptor {self.name!r}",
            refuse=DescriptorError,
            max_bytes=self.max_model_bytes,
        )

    def _input_spec(self, wanted: str | None, size: tuple[int, int] | None) -> InputSpec:
        inputs = {model_input.name: model_input for model_input in self._session.get_inputs()}
        if wanted is None and len(inputs) != 1:
            raise self._bad_model(f"it has {len(inputs)} inputs: name one with input_name")
        if wanted is not None and wanted not in inputs:
            raise self._bad_model(f"no input named {wanted!r} (it has {sorted(inputs)})")
        model_input = inputs[wanted] if wanted is not None else next(iter(inputs.values()))
        batch, channels, height, width = nchw_float_input(model_input, self._bad_model)
        if channels not in (1, 3):
            raise self._bad_model(f"the input must have 1 or 3 channels, not {channels}")
        height, width = self._input_sides(height, width, size)
        return InputSpec(model_input.name, channels, height, width, not isinstance(batch, int))

    def _input_sides(self, height: Any, width: Any, size: tuple[int, int] | None) -> list[int]:
        """The model's fixed sides, or the configured ones where the model leaves them open;
        a configured size must agree with a fixed one."""
        sides = []
        for label, fixed, configured in (
            ("height", height, size[0] if size else None),
            ("width", width, size[1] if size else None),
        ):
            side = fixed if isinstance(fixed, int) else configured
            if isinstance(fixed, int) and configured is not None and configured != fixed:
                raise self._bad_model(f"its input {label} is {fixed}, not {configured}")
            if side is None:
                raise self._bad_model(f"its input {label} is not fixed: set input_size")
            if not 0 < side <= MAX_INPUT_SIDE:
                raise self._bad_model(f"input {label} {side} outside 1..{MAX_INPUT_SIDE}")
            sides.append(side)
        return sides

    def _output_name(self, wanted: str | None) -> str:
        names = [output.name for output in self._session.get_outputs()]
        if wanted is None:
            return names[0]
        if wanted not in names:
            raise self._bad_model(f"no output named {wanted!r} (it has {sorted(names)})")
        return wanted

    def _normalisation(
        self, mean: Sequence[float], std: Sequence[float]
    ) -> tuple[np.ndarray, np.ndarray]:
        shaped = []
        for label, values in (("mean", mean), ("std", std)):
            if len(values) not in (1, self._input.channels):
                raise DescriptorError(
                    f"descriptor {self.name!r}: {label} needs 1 or {self._input.channels} "
                    f"values for a {self._input.channels}-channel input, not {len(values)}"
                )
            array = np.broadcast_to(np.asarray(values, dtype=np.float32), self._input.channels)
            shaped.append(array.reshape(1, -1, 1, 1))
        if not (np.all(np.isfinite(shaped[0])) and np.all(shaped[1] > 0)):
            raise DescriptorError(
                f"descriptor {self.name!r}: mean must be finite and std above zero"
            )
        return shaped[0], shaped[1]

    def _probe_dimension(self) -> int:
        """Run the model once on a generated picture: the output's size is the dimension,
        and a model that answers with NaN or infinity is refused now, not per upload."""
        raw = self._run(self._tensor(_probe_picture()))
        if not 0 < raw.size <= MAX_DIMENSION:
            raise self._bad_model(
                f"its output has {raw.size} values per picture; expected 1 to {MAX_DIMENSION}"
            )
        unit_vector(raw, self.name, raw.size)  # finite and not zero, or DescriptorError
        return int(raw.size)

    def _version(self) -> str:
        """The model file's SHA-256 plus a digest of the input settings: either changes the
        vectors, so either makes an index of the old ones unusable."""
        model = hashlib.sha256()
        with self.model_path.open("rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                model.update(block)
        spec = self._input
        normalisation = [self._mean.ravel().tolist(), self._std.ravel().tolist()]
        shaping = repr([spec.name, spec.channels, spec.height, spec.width, self._output])
        shaping += repr(normalisation)
        inputs = hashlib.sha256(shaping.encode()).hexdigest()[:12]
        return f"onnx/sha256:{model.hexdigest()}/{inputs}"

    def _bad_model(self, problem: str) -> DescriptorError:
        return DescriptorError(
            f"descriptor {self.name!r}: unsupported model {self.model_path.name}: {problem}"
        )

    # --- describing ----------------------------------------------------------------------

    def _tensor(self, image: Image.Image) -> np.ndarray:
        size = (self._input.width, self._input.height)
        try:
            picture = rgb(image, self.name)
            resized = picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
            if self._input.channels == 1:  # after the resize: converting a photo costs more
                resized = resized.convert("L")
        except RESIZE_ERRORS as exc:
            raise DescriptorError(
                f"descriptor {self.name!r}: cannot resize the picture: {exc}"
            ) from exc
        pixels = np.asarray(resized, dtype=np.float32) / np.float32(255)
        planes = pixels[np.newaxis] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        return np.ascontiguousarray((planes[np.newaxis] - self._mean) / self._std)

    def _run(self, tensor: np.ndarray) -> np.ndarray:
        try:
            output = self._session.run([self._output], {self._input.name: tensor})[0]
            return np.asarray(output, dtype=np.float64).ravel()
        except Exception as exc:  # ONNX Runtime's own hierarchy, or a non-numeric output
            raise DescriptorError(
                f"descriptor {self.name!r}: the model failed: {first_line(exc)}"
            ) from exc


def _probe_picture() -> Image.Image:
    """Colour ramps in three directions: not uniform, so no channel or pixel is zero."""
    ys, xs = np.mgrid[0:64, 0:64]
    planes = [xs * 4, ys * 4, (xs + ys) * 2]
    return Image.fromarray(np.stack(planes, axis=-1).astype(np.uint8), "RGB")
