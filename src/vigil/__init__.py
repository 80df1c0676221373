"""Vigil: find child sexual abuse material, report it, and triage what is reported.
Layers import downwards only: fingerprint -> index -> lists -> store -> services -> interfaces.
"""

import os

# Vigil parallelises over files and requests (processes, threads); its matrices are small
# (PDQ's 64x64 filters). Multi-threaded BLAS on top of that oversubscribes the cores: eight
# concurrent 1080p uploads cost 4x the CPU each. BLAS reads these when numpy first loads, so
# they are set here, before any layer imports numpy; an operator's own values win.
for _variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ.setdefault(_variable, "1")
