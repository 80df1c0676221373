"""Pin the benchmark to one core's worth of threads and describe the machine it ran on."""

from __future__ import annotations

import os
import platform

SINGLE_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pin_single_thread() -> None:
    """Must run before NumPy is imported: BLAS reads these once."""
    for name in SINGLE_THREAD_VARS:
        os.environ[name] = "1"


def describe() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            names = (
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
            cpu = next(names)
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"{platform.system()} {platform.release()}"
    )
