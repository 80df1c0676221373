"""The faster paths give what the plain maths gives: the banded filter equals the dense
weight matrices, and the exact luma copied out of Pillow equals ``np.asarray``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tests import media_factory
from vigil.fingerprint import decode, pdq


def _dense(
    luma: np.ndarray,
    row_block: int,
    col_block: int,
    full_shape: tuple[int, int],
    reverse_rows: bool,
    reverse_cols: bool,
) -> np.ndarray:
    rows = pdq.block_weights(full_shape[0], row_block, luma.shape[0], reverse_rows)
    cols = pdq.block_weights(full_shape[1], col_block, luma.shape[1], reverse_cols)
    return rows @ luma.astype(np.float64) @ cols.T


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(5, 700),
    cols=st.integers(5, 700),
    row_block=st.sampled_from([1, 2, 8]),
    col_block=st.sampled_from([1, 4]),
    seed=st.integers(0, 2**16),
)
def test_banded_downsample_equals_the_dense_weights(
    rows: int, cols: int, row_block: int, col_block: int, seed: int
) -> None:
    reduced = (-(-rows // row_block), -(-cols // col_block))
    luma = np.random.default_rng(seed).integers(0, 256, reduced, dtype=np.uint8)
    smalls = pdq.downsample(luma, row_block, col_block, (rows, cols), mirrored=True)
    assert set(smalls) == {(r, c) for r in (False, True) for c in (False, True)}
    for (reverse_rows, reverse_cols), small in smalls.items():
        expected = _dense(luma, row_block, col_block, (rows, cols), reverse_rows, reverse_cols)
        np.testing.assert_allclose(small, expected, atol=2e-3)


def test_row_chunks_add_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # A band that straddles two chunks must get both halves of its inputs.
    luma = np.random.default_rng(3).random((900, 300), dtype=np.float32) * 255
    whole = pdq.downsample(luma, mirrored=True)
    monkeypatch.setattr(pdq, "ROW_CHUNK", 37)
    for key, small in pdq.downsample(luma, mirrored=True).items():
        np.testing.assert_allclose(small, whole[key], atol=1e-3)


def _reference_luma(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB").convert("F"))


@pytest.mark.parametrize("size", [(640, 480), (33, 1200), (1, 1)])
def test_exact_luma_is_pillows_float_luma(size: tuple[int, int]) -> None:
    image = media_factory.gradient(*size, seed=5)
    luma = decode.exact_luma(image.copy())
    assert luma.exact and luma.luma.dtype == np.float32
    assert np.array_equal(luma.luma, _reference_luma(image))


def test_exact_luma_in_strips(monkeypatch: pytest.MonkeyPatch) -> None:
    image = media_factory.gradient(300, 257, seed=2)
    monkeypatch.setattr(decode, "EXACT_STRIP_PIXELS", 300 * 10)  # 26 strips, a short last one
    assert np.array_equal(decode.exact_luma(image.copy()).luma, _reference_luma(image))


def test_exact_luma_when_pillow_cannot_map_the_array(monkeypatch: pytest.MonkeyPatch) -> None:
    image = media_factory.gradient(120, 90, seed=4)

    def refuse(*_args: object, **_kwargs: object) -> Image.Image:
        raise ValueError("buffer is not supported")

    monkeypatch.setattr(Image, "frombuffer", refuse)
    assert np.array_equal(decode.exact_luma(image.copy()).luma, _reference_luma(image))


def test_exact_luma_when_pillow_copies_instead_of_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    # A Pillow that copied the buffer would leave the array untouched: the copy is noticed.
    image = media_factory.gradient(120, 90, seed=6)
    mapped = Image.frombuffer

    def copying(mode: str, size: tuple[int, int], data: np.ndarray, *args: object) -> Image.Image:
        return mapped(mode, size, np.array(data, copy=True), *args)

    monkeypatch.setattr(Image, "frombuffer", copying)
    assert np.array_equal(decode.exact_luma(image.copy()).luma, _reference_luma(image))
