"""The pure PDQ maths: weights, thresholds, hex layout, rotations and mirrors."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from vigil.fingerprint import pdq


@given(st.integers(min_value=1, max_value=20000))
def test_filter_weights_are_a_partition_of_unity(length: int) -> None:
    weights = pdq.block_weights(length, 1, length)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-9)
    assert (weights > -1e-12).all()  # cumulative sums leave rounding dust, nothing more


@given(st.integers(min_value=8, max_value=12000), st.sampled_from([2, 4, 8]))
def test_block_weights_keep_total_mass(length: int, block: int) -> None:
    reduced = -(-length // block)
    np.testing.assert_allclose(pdq.block_weights(length, block, reduced).sum(axis=1), 1.0)


def test_hex_layout_puts_bit_255_first() -> None:
    coefficients = np.zeros((16, 16))
    coefficients[15, 15] = 10.0  # bit 255 alone above the median
    assert pdq.bits_to_hex(coefficients) == "8" + "0" * 63
    coefficients = np.zeros((16, 16))
    coefficients[0, 0] = 10.0  # bit 0
    assert pdq.bits_to_hex(coefficients) == "0" * 63 + "1"


def test_half_the_bits_are_set_for_distinct_coefficients() -> None:
    coefficients = np.random.default_rng(3).normal(size=(16, 16))
    assert bin(int(pdq.bits_to_hex(coefficients), 16)).count("1") == 128


def test_reversed_weights_filter_the_mirrored_axis() -> None:
    luma = np.random.default_rng(9).random((300, 420)) * 255
    hashes = pdq.hash_dihedral(luma)
    np.testing.assert_allclose(
        hashes[pdq.Dihedral.MIRROR][1], pdq.hash_luma(luma[:, ::-1])[1], atol=1e-3
    )  # float32 sums
    flipped_turned = np.rot90(luma)  # numpy turns counter-clockwise, as Pillow's ROTATE_90
    assert hashes[pdq.Dihedral.ROTATE_90][0] == pdq.hash_luma(flipped_turned)[0]
    assert hashes[pdq.Dihedral.TRANSPOSE][0] == pdq.hash_luma(luma.T)[0]


def test_hamming() -> None:
    assert pdq.hamming("0" * 64, "f" * 64) == 256
    assert pdq.hamming("0" * 63 + "3", "0" * 64) == 2


def test_quality_of_a_flat_image_is_zero() -> None:
    assert pdq.quality(np.full((64, 64), 128.0)) == 0
    checker = np.indices((64, 64)).sum(axis=0) % 2 * 255.0
    assert pdq.quality(checker) == 100
