"""Retroactive matching: a backlog's stored PDQ fingerprints against a delta of new list
entries, on one core, exact.

    python -m benchmarks.bench_retro_match [--stored 10000000] [--delta 10000] [--sample 10000]

Set-up (not timed): ``--stored`` random PDQ hashes written as fingerprint-store parts of
``--part-rows`` rows (identity and PDQ filled, the other columns null), with ``--planted`` of
them replaced by near-duplicates of delta entries at known distances 0-40 bits (those within
31 must match, the others must not); ``--variants`` adds that many random variant hashes per
object (a photo scanned by Vigil has 7). Timed: vigil.screening.backlog.retro.match_store
reading every part and matching it against the delta (random PDQ entries of one list at
distance 31, built in memory: the database read of 10,000 changes is not what is measured).
Exactness: every match of ``--sample`` stored objects (all planted ones among them) is
compared with a brute force of those objects against every delta entry. Target: 60 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.machine import describe, pin_single_thread

pin_single_thread()

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import pyarrow as pa  # noqa: E402

from vigil.index.codes import WORDS, row_distances, words_hex  # noqa: E402
from vigil.index.delta_match import DEFAULT_BLOCK_ROWS, DeltaMatcher, Strategy  # noqa: E402
from vigil.screening.backlog.fingerprint_store import SCHEMA, FingerprintStore  # noqa: E402
from vigil.screening.backlog.retro import RetroMatch, match_store  # noqa: E402
from vigil.screening.backlog.retro_delta import ListDelta  # noqa: E402
from vigil.screening.feed_changes import ListSettings  # noqa: E402
from vigil.store.lists.change_feed import EntryChange  # noqa: E402
from vigil.store.models import EntryStatus, SignalType  # noqa: E402

TARGET_S = 60.0
DISTANCE = 31
LIST_ID = 1
PLANTED_MAX = 40
Words = npt.NDArray[np.uint64]


def random_words(rng: np.random.Generator, count: int) -> Words:
    return rng.integers(0, 2**64, size=(count, WORDS), dtype=np.uint64)


def flipped(rng: np.random.Generator, words: Words, bits: int) -> Words:
    out = words.copy()
    for bit in rng.choice(256, size=bits, replace=False).tolist():
        out[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return out


def identity(row: int) -> str:
    return f"s3://bench/obj-{row:010d}#v1"


class Planted:
    """Stored rows replaced by near-duplicates of delta entries: row -> (entry, distance)."""

    def __init__(self, rng: np.random.Generator, stored: int, delta: Words, count: int) -> None:
        rows = rng.choice(stored, size=min(count, stored), replace=False)
        self.rows = {
            int(row): (int(rng.integers(len(delta))), int(rng.integers(PLANTED_MAX + 1)))
            for row in rows
        }
        self.words = {
            row: flipped(rng, delta[entry], bits) for row, (entry, bits) in self.rows.items()
        }


def part_table(first: int, words: Words, variants: int, rng: np.random.Generator) -> pa.Table:
    count = len(words)
    columns = {field.name: pa.nulls(count, field.type) for field in SCHEMA}
    columns["identity"] = pa.array([identity(first + i) for i in range(count)], pa.string())
    columns["source"] = pa.array(["s3"] * count, pa.string())
    columns["pdq"] = pa.FixedSizeBinaryArray.from_buffers(
        SCHEMA.field("pdq").type, count, [None, pa.py_buffer(words.astype("<u8").tobytes())]
    )
    columns["partial"] = pa.array(np.zeros(count, dtype=bool))
    if variants:
        flat = random_words(rng, count * variants)
        structs = pa.StructArray.from_arrays(
            [
                pa.array(np.tile([f"v{i}" for i in range(variants)], count)),
                pa.FixedSizeBinaryArray.from_buffers(
                    SCHEMA.field("pdq").type,
                    len(flat),
                    [None, pa.py_buffer(flat.astype("<u8").tobytes())],
                ),
            ],
            fields=list(SCHEMA.field("pdq_variants").type.value_type),
        )
        offsets = pa.array(np.arange(0, count * variants + 1, variants, dtype=np.int32))
        columns["pdq_variants"] = pa.ListArray.from_arrays(offsets, structs)
    return pa.table([columns[field.name] for field in SCHEMA], schema=SCHEMA)


def write_store(
    args: argparse.Namespace,
    root: Path,
    delta: Words,
    planted: Planted,
    sample: npt.NDArray[np.intp],
) -> Words:
    """Writes the parts; returns the sampled rows' hashes (for the brute force)."""
    rng = np.random.default_rng(args.seed + 1)
    store = FingerprintStore(root)
    sampled = np.empty((len(sample), WORDS), dtype=np.uint64)
    for number, first in enumerate(range(0, args.stored, args.part_rows), start=1):
        words = random_words(rng, min(args.part_rows, args.stored - first))
        for row, near in planted.words.items():
            if first <= row < first + len(words):
                words[row - first] = near
        inside = (sample >= first) & (sample < first + len(words))
        sampled[inside] = words[sample[inside] - first]
        store.write_table(number, part_table(first, words, args.variants, rng))
    return sampled


def delta_of(words: Words) -> ListDelta:
    settings = ListSettings(LIST_ID, "bench", True, DISTANCE, 0, False)
    entries = [
        EntryChange(seq, seq, LIST_ID, SignalType.PDQ, value, EntryStatus.ACTIVE)
        for seq, value in enumerate(words_hex(words), start=1)
    ]
    return ListDelta(0, len(entries), {LIST_ID: settings}, entries)


def brute_force(sampled: Words, delta: Words) -> set[tuple[int, int]]:
    """(sample position, entry) within the distance, original hashes only."""
    found: set[tuple[int, int]] = set()
    for position, words in enumerate(sampled):
        near = np.flatnonzero(row_distances(delta ^ words) <= DISTANCE)
        found.update((position, int(entry)) for entry in near)
    return found


def reset_peak_rss() -> bool:
    """Forget the set-up's peak (Linux 4.0+: writing 5 to clear_refs resets VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float:
    try:
        status = Path("/proc/self/status").read_text().splitlines()
        return int(next(s for s in status if s.startswith("VmHWM:")).split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, default=10_000_000)
    parser.add_argument("--delta", type=int, default=10_000)
    parser.add_argument("--planted", type=int, default=1_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--variants", type=int, default=0)
    parser.add_argument("--part-rows", type=int, default=1_000_000)
    parser.add_argument("--block-rows", type=int, default=DEFAULT_BLOCK_ROWS)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--strategy",
        choices=[s.value for s in Strategy],
        default=None,
        help="force one way of joining (default: the cost model's choice per block)",
    )
    parser.add_argument("--store-dir", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    with tempfile.TemporaryDirectory(prefix="bench-retro-") as scratch:
        run(args, args.store_dir or Path(scratch) / "job-1")


def run(args: argparse.Namespace, root: Path) -> None:
    print(describe())
    rng = np.random.default_rng(args.seed)
    delta = random_words(rng, args.delta)
    planted = Planted(rng, args.stored, delta, args.planted)
    others = rng.choice(args.stored, size=min(args.sample, args.stored), replace=False)
    sample = np.unique(np.concatenate([list(planted.rows), others])).astype(np.intp)
    started = time.perf_counter()
    sampled = write_store(args, root, delta, planted, sample)
    print(
        f"set-up: {args.stored:,} stored fingerprints ({args.variants} variants each) in "
        f"{len(FingerprintStore(root).parts())} Parquet parts, written in "
        f"{time.perf_counter() - started:.1f} s; delta of {args.delta:,} PDQ entries at distance "
        f"{DISTANCE}; {len(planted.rows):,} planted near-duplicates at 0-{PLANTED_MAX} bits"
    )
    queries = args.stored * (1 + args.variants)
    forced = Strategy(args.strategy) if args.strategy else None
    strategy = DeltaMatcher(delta, DISTANCE, strategy=forced).strategy_for(
        min(args.block_rows, queries)
    )
    how = "forced" if forced else "the cost model's choice"
    print(f"join: blocks of {args.block_rows:,} stored hashes, {strategy.value} ({how})")
    load = os.getloadavg()
    peak_of = (
        f"since the match started at {peak_rss_mib():,.0f} MiB"
        if reset_peak_rss()
        else "of the whole process, set-up included"
    )
    started = time.perf_counter()
    store = FingerprintStore(root)
    matches = list(match_store(store, delta_of(delta), block_rows=args.block_rows, strategy=forced))
    seconds = time.perf_counter() - started
    print(
        f"retroactive match: {seconds:.1f} s for {args.stored:,} stored objects "
        f"({queries:,} hashes) against {args.delta:,} entries, {len(matches):,} matches; "
        f"{queries / seconds:,.0f} hashes/s; peak RSS {peak_rss_mib():,.0f} MiB ({peak_of}); "
        f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}"
    )
    report_exactness(matches, planted, sample, sampled, delta, args.variants)
    verdict = "PASS" if seconds <= TARGET_S else "FAIL"
    ratio = seconds / TARGET_S
    print(
        f"RATIO time / target: {ratio:.2f}  ({seconds:.1f} s, target <= {TARGET_S:.0f} s) {verdict}"
    )


def report_exactness(
    matches: list[RetroMatch],
    planted: Planted,
    sample: npt.NDArray[np.intp],
    sampled: Words,
    delta: Words,
    variants: int,
) -> None:
    position = {identity(int(row)): i for i, row in enumerate(sample.tolist())}
    found = {
        (position[m.identity], m.entry_id - 1)
        for m in matches
        if m.identity in position and m.variant == "original"
    }
    expected = brute_force(sampled, delta)
    same = (
        "yes"
        if found == expected
        else f"NO (missing {len(expected - found)}, extra {len(found - expected)})"
    )
    print(
        f"exact vs brute force on a sample of {len(sample):,} stored objects "
        f"(original hashes{'; variants are random' if variants else ''}): {same} "
        f"({len(expected):,} pairs within {DISTANCE})"
    )
    by_identity = {(m.identity, m.entry_id - 1): m.distance for m in matches}
    within = {row: v for row, v in planted.rows.items() if v[1] <= DISTANCE}
    hit = sum(by_identity.get((identity(r), e)) == d for r, (e, d) in within.items())
    beyond = sum(
        (identity(r), e) in by_identity for r, (e, d) in planted.rows.items() if d > DISTANCE
    )
    print(
        f"planted: {hit:,}/{len(within):,} within {DISTANCE} bits found at their distance; "
        f"{beyond} of {len(planted.rows) - len(within):,} beyond it matched"
    )


if __name__ == "__main__":
    main()
