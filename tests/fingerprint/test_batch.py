"""The parallel batch runner: order, streaming, hung and crashing decoders, BLAS threads.

The probe hashers below are module-level so spawned workers can import them by name.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil.fingerprint.batch import WINDOW_PER_WORKER, fingerprint_many
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_path
from vigil.fingerprint.record import Fingerprint

OPTIONS = FingerprintOptions(variants=False)


def hang_or_crash(path: Path, options: FingerprintOptions) -> Fingerprint:
    """Stands in for a decoder that never returns or that segfaults."""
    if path.name.startswith("hang"):
        time.sleep(3600)
    if path.name.startswith("crash"):
        os._exit(139)
    return fingerprint_path(path, options)


def report_blas_threads(path: Path, options: FingerprintOptions) -> Fingerprint:
    return Fingerprint(path=str(path), error=os.environ.get("OPENBLAS_NUM_THREADS"))


def explode(path: Path, options: FingerprintOptions) -> Fingerprint:
    raise RuntimeError("decoder bug")


def test_parallel_matches_serial_in_order(corpus_images: list[Path]) -> None:
    paths = corpus_images[:10]
    serial = [r.to_dict() for r in fingerprint_many(paths, OPTIONS, workers=1)]
    parallel = [r.to_dict() for r in fingerprint_many(paths, OPTIONS, workers=2)]
    assert parallel == serial
    assert [r["path"] for r in parallel] == [str(p) for p in paths]


def test_hung_and_crashing_files_do_not_stop_the_batch(
    corpus_images: list[Path], tmp_path: Path
) -> None:
    hang = tmp_path / "hang.jpg"
    crash = tmp_path / "crash.jpg"
    for probe in (hang, crash):
        probe.write_bytes(corpus_images[0].read_bytes())
    paths = [corpus_images[1], hang, corpus_images[2], crash, *corpus_images[3:6]]
    started = time.monotonic()
    out = list(fingerprint_many(paths, OPTIONS, workers=2, timeout=1.5, hasher=hang_or_crash))
    assert time.monotonic() - started < 30
    assert [r.path for r in out] == [str(p) for p in paths]
    by_path = {r.path: r for r in out}
    assert by_path[str(hang)].error_reason == "timeout"
    assert by_path[str(crash)].error_reason == "corrupt_media"
    assert "crashed" in (by_path[str(crash)].error or "")
    assert all(r.ok for r in out if r.path not in (str(hang), str(crash)))
    assert not multiprocessing.active_children()


def test_input_is_pulled_lazily_and_workers_stop(corpus_images: list[Path]) -> None:
    pulled = 0

    def endless() -> Iterator[Path]:
        nonlocal pulled
        for path in itertools.cycle(corpus_images[:3]):
            pulled += 1
            yield path

    results = fingerprint_many(endless(), OPTIONS, workers=2)
    first = list(itertools.islice(results, 5))
    results.close()
    assert len(first) == 5 and all(r.ok for r in first)
    assert pulled <= 5 + 2 * WINDOW_PER_WORKER + 2
    assert not multiprocessing.active_children()


def test_workers_run_single_threaded_blas(tmp_path: Path) -> None:
    out = list(
        fingerprint_many(
            [tmp_path / "a", tmp_path / "b"], OPTIONS, workers=2, hasher=report_blas_threads
        )
    )
    assert [r.error for r in out] == ["1", "1"]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_raising_hasher_becomes_a_per_file_error(tmp_path: Path, workers: int) -> None:
    [record] = fingerprint_many([tmp_path / "x.jpg"], OPTIONS, workers=workers, hasher=explode)
    assert record.error_reason == "corrupt_media"
    assert "decoder bug" in (record.error or "")


def test_empty_input(tmp_path: Path) -> None:
    assert list(fingerprint_many([], OPTIONS, workers=2)) == []


@pytest.mark.parametrize("bad", [{"workers": 0}, {"workers": 2, "timeout": 0}])
def test_invalid_arguments(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        fingerprint_many([], OPTIONS, **bad)  # type: ignore[arg-type]
