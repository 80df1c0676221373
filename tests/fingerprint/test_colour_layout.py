"""The built-in colour layout: what it tells apart and what it cannot (one-colour pictures)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageEnhance

from tests.media_factory import gradient, noise, text_card
from vigil.fingerprint.descriptors import ColourLayoutDescriptor, describe_all


def test_distinct_pictures_score_low_and_their_copies_high() -> None:
    descriptor = ColourLayoutDescriptor()
    pictures = [gradient(160, 120, seed=seed) for seed in range(12)]
    pictures += [noise(160, 120, seed=seed, blur=6) for seed in range(12)]
    pictures += [text_card(160, 120, seed=seed) for seed in range(6)]
    vectors = describe_all(descriptor, pictures)
    distinct = (vectors @ vectors.T)[np.triu_indices(len(pictures), k=1)]
    assert np.quantile(distinct, 0.95) < 0.9
    brighter = [ImageEnhance.Brightness(p).enhance(1.2) for p in pictures]
    copies = np.einsum("ij,ij->i", vectors, describe_all(descriptor, brighter))
    assert np.median(copies) > 0.95


def test_the_overall_brightness_does_not_decide() -> None:
    """The planes' averages are left out: a darker copy still matches."""
    descriptor = ColourLayoutDescriptor()
    picture = gradient(200, 150, seed=5)
    darker = Image.eval(picture, lambda value: int(value * 0.75))
    similarity = float(np.dot(descriptor.describe(picture), descriptor.describe(darker)))
    assert similarity > 0.95


def test_one_colour_pictures_all_describe_alike() -> None:
    """Documented limit: without structure there is nothing but the constant component."""
    descriptor = ColourLayoutDescriptor()
    colours = [(0, 0, 0), (255, 255, 255), (200, 30, 30), (10, 200, 90)]
    vectors = np.stack([descriptor.describe(Image.new("RGB", (50, 40), c)) for c in colours])
    np.testing.assert_allclose(vectors @ vectors.T, np.ones((4, 4)), atol=1e-5)
