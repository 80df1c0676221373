"""Describing photo files: decoded once for several descriptors, upright, within limits."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.fingerprint.descriptor_models import projection_model
from tests.media_factory import gradient
from vigil.fingerprint.descriptors import ColourLayoutDescriptor, OnnxDescriptor
from vigil.fingerprint.descriptors.media import describe_photo
from vigil.fingerprint.errors import FailureReason, FingerprintError


def jpeg(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, **params)
    return buffer.getvalue()


def test_every_descriptor_describes_the_same_decoded_picture(tmp_path: Path) -> None:
    layout = ColourLayoutDescriptor("layout")
    model = OnnxDescriptor("model", projection_model(tmp_path / "p.onnx"), mean=(0.5,))
    picture = gradient(300, 200, seed=3)
    vectors = describe_photo([layout, model], jpeg(picture))
    assert set(vectors) == {"layout", "model"}
    assert float(np.dot(vectors["layout"], layout.describe(picture))) > 0.99
    assert float(np.dot(vectors["model"], model.describe(picture))) > 0.99


def test_the_exif_orientation_is_applied_first() -> None:
    layout = ColourLayoutDescriptor()
    upright = gradient(300, 200, seed=4)
    exif = Image.Exif()
    exif[0x0112] = 3  # stored upside down, shown rotated 180 degrees: upright again
    stored = jpeg(upright.transpose(Image.Transpose.ROTATE_180), exif=exif)
    turned = describe_photo([layout], stored)[layout.name]
    assert float(np.dot(turned, layout.describe(upright))) > 0.99


def test_a_picture_over_the_pixel_limit_is_refused_before_decoding() -> None:
    with pytest.raises(FingerprintError) as caught:
        describe_photo([ColourLayoutDescriptor()], jpeg(gradient(300, 200)), max_pixels=10_000)
    assert caught.value.reason is FailureReason.TOO_MANY_PIXELS


@pytest.mark.parametrize(
    "media",
    [b"", b"not a picture at all", jpeg(gradient(300, 200))[:400]],
    ids=["empty", "text", "truncated"],
)
def test_undecodable_media_is_a_fingerprint_error(media: bytes) -> None:
    with pytest.raises(FingerprintError):
        describe_photo([ColourLayoutDescriptor()], media)
