"""Decode bombs under the pixel limit (issue 14, item 1): what one decode may cost in memory,
work and time, and how many run at once.

The campaign's bombs are rebuilt in code (tests/decode_bombs.py): a 0.5 MB 16-bit PNG of
9,400 x 9,400 and a 2.6 KB GIF drawing 113 one-pixel frames on a canvas of that size.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from PIL import Image

from tests import decode_bombs, media_factory
from vigil.fingerprint import limits
from vigil.fingerprint.limits import DecodeLimits, DecodersBusy
from vigil.fingerprint.pdq import hamming
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_bytes

MIB = 1 << 20


def hashed(data: bytes, **limit: float | int | None) -> object:
    return fingerprint_bytes(data, FingerprintOptions(variants=False, limits=DecodeLimits(**limit)))  # type: ignore[arg-type]


def corpus_png(corpus_images: list, side: int = 1200) -> bytes:
    picture = Image.open(corpus_images[1]).convert("RGB").resize((side, side))
    return media_factory.encode(picture, "PNG")


def test_the_gif_canvas_bomb_is_refused_before_drawing_a_frame() -> None:
    bomb = decode_bombs.gif_canvas()
    assert len(bomb) < 3_000
    started = time.monotonic()
    record = fingerprint_bytes(bomb)
    assert time.monotonic() - started < 5  # it took a minute of CPU before
    assert record.error_reason == "over_decode_budget", record
    assert record.pdq is None and record.frames is None
    assert record.sha256 is not None  # digests still match


def test_frames_redrawn_count_in_the_budget() -> None:
    """A canvas that alone fits, redrawn by more frames than the animation budget allows."""
    bomb = decode_bombs.gif_canvas(1_000, 1_000, frames=40)
    budget = dict(max_bytes=64 * MIB, max_animation_bytes=100 * MIB)  # 40 x 4 MB = 160 MB
    assert hashed(bomb, **budget).error_reason == "over_decode_budget"
    fewer = decode_bombs.gif_canvas(1_000, 1_000, frames=20)
    assert hashed(fewer, **budget).ok


def test_bytes_per_pixel_of_the_mode_count() -> None:
    """Same pixels, same budget: 16-bit RGB decodes to four bytes a pixel and is refused,
    16-bit grey to two and is hashed (from block averages: its exact luma does not fit)."""
    budget = dict(max_bytes=12 * MIB)  # 2,000 x 2,000: RGB 16 MB, grey 8 MB, luma 16 MB
    rgb = hashed(decode_bombs.png16(2_000, 2_000, channels=3), **budget)
    grey = hashed(decode_bombs.png16(2_000, 2_000, channels=1), **budget)
    assert rgb.error_reason == "over_decode_budget", rgb  # type: ignore[attr-defined]
    assert "16000000 bytes" in rgb.error  # type: ignore[attr-defined]
    assert grey.ok and grey.pdq is not None, grey  # type: ignore[attr-defined]


def test_over_budget_exact_luma_hashes_from_block_averages(corpus_images: list) -> None:
    """A picture whose exact luma does not fit is hashed close to the reference hash."""
    data = corpus_png(corpus_images)  # 1.4 MP RGB: 5.8 MB decoded, 5.8 MB of luma
    exact = hashed(data)
    reduced = hashed(data, max_bytes=8 * MIB)
    assert exact.ok and reduced.ok  # type: ignore[attr-defined]
    assert hamming(exact.pdq, reduced.pdq) <= 16  # type: ignore[attr-defined]
    assert hashed(data, max_bytes=5 * MIB).error_reason == "over_decode_budget"  # type: ignore[attr-defined]


def test_large_animation_frames_are_hashed_reduced_and_close(corpus_images: list) -> None:
    frames = [Image.open(path).convert("RGB").resize((900, 900)) for path in corpus_images[:3]]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=1000)
    exact = hashed(buffer.getvalue())
    reduced = hashed(buffer.getvalue(), max_bytes=12 * MIB)  # canvas copies 9.7 MB, luma 3.2
    assert exact.ok and reduced.ok, reduced  # type: ignore[attr-defined]
    assert len(exact.frames) == len(reduced.frames) == 3  # type: ignore[attr-defined]
    for a, b in zip(exact.frames, reduced.frames, strict=True):  # type: ignore[attr-defined]
        assert a.t == b.t and hamming(a.pdq, b.pdq) <= 16


def test_a_decode_past_its_deadline_times_out() -> None:
    many = decode_bombs.gif_canvas(400, 400, frames=400)
    record = hashed(many, deadline_seconds=1e-6)
    assert record.error_reason == "timeout", record  # type: ignore[attr-defined]
    assert record.sha256 is not None  # type: ignore[attr-defined]
    assert hashed(many, deadline_seconds=60).ok  # type: ignore[attr-defined]


def test_decodes_beyond_the_cap_wait_then_answer_busy(corpus_images: list) -> None:
    data = corpus_png(corpus_images, 300)
    capped = DecodeLimits(concurrent=1, wait_seconds=0.2)
    slots = limits.slots_for(capped)
    with slots.slot():
        started = time.monotonic()
        with pytest.raises(DecodersBusy) as busy:
            fingerprint_bytes(data, FingerprintOptions(limits=capped))
        assert 0.15 < time.monotonic() - started < 5  # waited briefly, never hung
        assert busy.value.retry_after >= 1
    assert fingerprint_bytes(data, FingerprintOptions(limits=capped)).ok  # slot free again


def test_a_waiting_decode_takes_the_slot_when_it_frees(corpus_images: list) -> None:
    data = corpus_png(corpus_images, 300)
    capped = DecodeLimits(concurrent=1, wait_seconds=5)
    slots = limits.slots_for(capped)
    results: list[object] = []
    with slots.slot():
        waiting = threading.Thread(
            target=lambda: results.append(
                fingerprint_bytes(data, FingerprintOptions(limits=capped))
            )
        )
        waiting.start()
        time.sleep(0.2)
        assert results == []  # still waiting: the cap holds
    waiting.join(10)
    assert len(results) == 1 and results[0].ok  # type: ignore[attr-defined]


def test_process_limits_are_what_callers_without_limits_get() -> None:
    before = limits.process_limits()
    try:
        limits.set_process_limits(DecodeLimits(max_bytes=2 * MIB))
        record = fingerprint_bytes(decode_bombs.png16(1_000, 1_000))  # 4 MB decoded
        assert record.error_reason == "over_decode_budget"
    finally:
        limits.set_process_limits(before)
    assert fingerprint_bytes(decode_bombs.png16(1_000, 1_000)).ok
    with pytest.raises(ValueError):
        limits.set_process_limits(DecodeLimits(concurrent=0))


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads ru_maxrss in KiB")
def test_the_16_bit_png_bomb_costs_its_decoded_pixels_not_three_copies() -> None:
    """Before: the decoded pixels, an RGB copy and the float luma (1.06 GB for the 353 MB of
    pixels). Now the luma is averaged strip by strip: the pixels and little more."""
    done = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] and report["pdq"], report
    decoded = decode_bombs.BOMB_SIDE**2 * 4
    assert report["growth"] < decoded + 120 * MIB, report


_RSS_PROBE = textwrap.dedent("""
    import json, resource
    from tests import decode_bombs
    from vigil.fingerprint.pipeline import fingerprint_bytes

    bomb = decode_bombs.png16()
    fingerprint_bytes(decode_bombs.png16(64, 64))  # import every decoder first
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10
    record = fingerprint_bytes(bomb)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10
    print(json.dumps({"ok": record.ok, "pdq": record.pdq, "growth": after - before}))
""")


def test_bomb_generators_make_what_they_claim() -> None:
    with Image.open(io.BytesIO(decode_bombs.png16(300, 200))) as png:
        assert png.size == (300, 200)
        assert np.asarray(png.convert("L")).max() == 0
    with Image.open(io.BytesIO(decode_bombs.gif_canvas(50, 40, frames=7))) as gif:
        assert gif.size == (50, 40) and gif.n_frames == 7
