"""What one decode may cost, and how many run at once in a process (issue 14: decode bombs).

A file's size says nothing about what decoding it costs: a 0.5 MB PNG can decode to 88 million
16-bit pixels, a 3 KB GIF can redraw a 9,400 x 9,400 canvas a hundred times. The pixel limit
(``max_pixels``) bounds the picture; these bound the rest:

* ``max_bytes``: the memory one decode may hold, counted from the header before any pixel is
  decoded: pixels x the bytes Pillow stores per pixel of the file's mode, plus the 4-byte float
  luma the reference PDQ needs. A picture whose decoded pixels alone exceed it is refused
  (``over_decode_budget``); one whose exact luma would exceed it is hashed from block averages
  (the JPEG fast path's method) instead of at full resolution.
* ``max_animation_bytes``: the canvas bytes an animation redraws, summed over its frames (every
  frame is composited on the full canvas, sampled or not), so its CPU time is bounded too.
* ``deadline_seconds``: wall-clock time per decode, checked between frames and strips of
  pixels (a single strip or frame is bounded by the budgets above); past it: ``timeout``.
* ``concurrent`` decodes per process; a decode that finds no free slot within
  ``wait_seconds`` raises :class:`DecodersBusy`, which the service answers with 503 and
  ``Retry-After``, never a hang.

The service sets the process's limits from ``[decoding]`` at start (:func:`set_process_limits`);
callers that pass no limits (the clearinghouse intake, the command line) use them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from vigil.fingerprint.errors import FailureReason, FingerprintError

MIB = 1 << 20
LUMA_BYTES = 4  # float32 luma per pixel, as the reference computes it
ANIMATION_CANVAS_BYTES = 4  # Pillow composites animation frames on an RGB(A) canvas
# An animation frame holds the canvas, the previous canvas (for disposal) and an RGB copy.
ANIMATION_FRAME_COPIES = 3
# Decodes that held at least this much give their freed memory back to the system: glibc keeps
# freed 16 MB pixel blocks in its arenas otherwise (the campaign saw 2 GB stay allocated).
TRIM_AFTER_BYTES = 64 * MIB


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    max_bytes: int = 512 * MIB
    max_animation_bytes: int = 8 * 1024 * MIB
    deadline_seconds: float | None = None  # the service sets one; batches kill slow workers
    concurrent: int = 2
    wait_seconds: float = 10.0


class DecodersBusy(Exception):
    """Every decode slot of this process stayed taken for ``wait_seconds``: try again later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"all decoders are busy; retry in {retry_after} s")
        self.retry_after = retry_after


def bytes_per_pixel(mode: str) -> int:
    """What Pillow stores per pixel of ``mode``: one byte for 1, L and P, two for the 16-bit
    grey modes, four for everything else (RGB, RGBA, CMYK, LA, I, F...: bands are padded)."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


class DecodeBudget:
    """One decode's limits and its deadline, started when the decode starts."""

    def __init__(self, limits: DecodeLimits, *, now: float | None = None) -> None:
        self.limits = limits
        start = time.monotonic() if now is None else now
        seconds = limits.deadline_seconds
        self.expires = None if seconds is None else start + seconds
        self.largest = 0  # bytes of the largest picture admitted: decides whether to trim

    def check_time(self) -> None:
        if self.expires is not None and time.monotonic() > self.expires:
            raise FingerprintError(
                FailureReason.TIMEOUT, f"decoding took over {self.limits.deadline_seconds:g} s"
            )

    def admit_still(self, width: int, height: int, mode: str) -> bool:
        """Refuse a picture whose decoded pixels exceed the budget; True when its exact
        (full-resolution float) luma fits beside them as well."""
        self._refuse_over(width * height * bytes_per_pixel(mode), f"{width}x{height} {mode}")
        return self.fits_exact(width, height, mode)

    def fits_exact(self, width: int, height: int, mode: str) -> bool:
        """Whether the decoded pixels and their full-resolution float luma fit together."""
        return width * height * (bytes_per_pixel(mode) + LUMA_BYTES) <= self.limits.max_bytes

    def admit_animation(self, frames: int, width: int, height: int) -> bool:
        """Refuse an animation whose canvas or total redrawing exceed the budgets; True when
        a frame's exact luma fits beside its canvas copies."""
        canvas = width * height * ANIMATION_CANVAS_BYTES
        self._refuse_over(canvas * ANIMATION_FRAME_COPIES, f"{width}x{height} animation canvas")
        if frames * canvas > self.limits.max_animation_bytes:
            raise FingerprintError(
                FailureReason.DECODE_BUDGET,
                f"{frames} frames of a {width}x{height} canvas redraw {frames * canvas} bytes, "
                f"over the budget of {self.limits.max_animation_bytes}",
            )
        exact = canvas * ANIMATION_FRAME_COPIES + width * height * LUMA_BYTES
        return exact <= self.limits.max_bytes

    def _refuse_over(self, decoded: int, what: str) -> None:
        if decoded > self.limits.max_bytes:
            raise FingerprintError(
                FailureReason.DECODE_BUDGET,
                f"{what} decodes to {decoded} bytes, over the budget of {self.limits.max_bytes}",
            )
        self.largest = max(self.largest, decoded)


class DecodeSlots:
    """At most ``limits.concurrent`` decodes at once; the others wait, then give up."""

    def __init__(self, limits: DecodeLimits) -> None:
        self.limits = limits
        self._semaphore = threading.BoundedSemaphore(limits.concurrent)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._semaphore.acquire(timeout=self.limits.wait_seconds):
            raise DecodersBusy(retry_after=max(1, round(self.limits.wait_seconds)))
        try:
            yield
        finally:
            self._semaphore.release()


_process_limits = DecodeLimits()
_process_slots = DecodeSlots(_process_limits)
_setting = threading.Lock()


def set_process_limits(limits: DecodeLimits) -> None:
    """The limits (and slots) of this process, for callers that pass none. Call at start."""
    global _process_limits, _process_slots
    if limits.concurrent < 1 or limits.max_bytes < 1 or limits.wait_seconds < 0:
        raise ValueError(f"invalid decode limits: {limits}")
    with _setting:
        if limits != _process_limits:
            _process_limits, _process_slots = limits, DecodeSlots(limits)


def process_limits() -> DecodeLimits:
    return _process_limits


def slots_for(limits: DecodeLimits) -> DecodeSlots:
    """The process's slots; limits other than the process's (tests, a one-off call) get
    slots of their own, so a caller's cap is honoured without resizing everyone's."""
    slots = _process_slots
    return slots if slots.limits == limits else _own_slots(limits)


_own: dict[DecodeLimits, DecodeSlots] = {}


def _own_slots(limits: DecodeLimits) -> DecodeSlots:
    with _setting:
        return _own.setdefault(limits, DecodeSlots(limits))


def release_memory(budget: DecodeBudget) -> None:
    """After a large decode, hand freed heap pages back (glibc only; elsewhere a no-op)."""
    if budget.largest >= TRIM_AFTER_BYTES and _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()
