"""Keep glibc from handing freed memory back to the kernel after every lookup.

A lookup allocates a few MiB of temporaries. With glibc's defaults (a trim threshold that
follows the largest block freed so far) they go back to the kernel when freed and the next
lookup page-faults them in again: batches of lookups measured 1.6x slower. Fixed thresholds
keep up to TRIM_THRESHOLD bytes of freed memory in the process instead. The setting is
process-wide; it is applied once, when the first PDQ index is created.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's malloc.h
M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 64 << 20
MMAP_THRESHOLD = 32 << 20  # glibc's own ceiling for its sliding threshold


@cache
def keep_freed_memory() -> bool:
    """Returns whether the thresholds were set (False where the C library is not glibc)."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    )
