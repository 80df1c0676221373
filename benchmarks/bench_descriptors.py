"""Copy descriptors (issue 19): what describing a picture costs, and exact index lookups.

Describing: the built-in colour layout and the ONNX adapter on a tiny model built here (a
fixed random projection of a 32x32 grey picture; no weights are downloaded), on pictures of
the corpus decoded beforehand, so only the descriptor is timed. A real model costs what its
network costs; this measures the adapter's own overhead (resize, normalise, run, check).

Index: random unit vectors (the worst case for nothing: no structure to exploit, and exact
search does not use any) at 100k and 1M rows of 64 and 256 values; lookups of one vector,
and of 8 at once (an upload's query variants), best of several rounds; one thread.

    python benchmarks/bench_descriptors.py [--sizes 100000,1000000] [--dimensions 64,256]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.machine import describe, pin_single_thread

pin_single_thread()

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from tests.fingerprint.descriptor_models import projection_model  # noqa: E402
from vigil.fingerprint.descriptors import (  # noqa: E402
    ColourLayoutDescriptor,
    CopyDescriptor,
    OnnxDescriptor,
    describe_all,
)
from vigil.index.descriptor_index import DescriptorIndex  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "images"
CHUNK = 100_000  # rows generated at a time: bounds the float64 scratch memory
VARIANTS = 8


def best_of(rounds: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def corpus_pictures(limit: int) -> list[Image.Image]:
    pictures = []
    for path in sorted(CORPUS.glob("*"))[:limit]:
        with Image.open(path) as image:
            image.draft("RGB", (1024, 1024))  # as a decoder would hand over a JPEG photo
            pictures.append(image.convert("RGB"))
    return pictures


def bench_describing(pictures: list[Image.Image], rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        grey = projection_model(Path(folder) / "grey.onnx")
        batched = projection_model(Path(folder) / "rgb.onnx", channels=3, batch="n")
        descriptors: list[tuple[str, CopyDescriptor]] = [
            ("colour layout (built in)", ColourLayoutDescriptor()),
            ("ONNX, 32x32 grey projection", OnnxDescriptor("grey", grey, mean=(0.5,))),
            ("ONNX, 32x32 RGB projection", OnnxDescriptor("rgb", batched, mean=(0.5,))),
        ]
        print(f"describing {len(pictures)} corpus pictures, decoded beforehand:")
        for label, descriptor in descriptors:
            one = best_of(rounds, lambda d=descriptor: [d.describe(p) for p in pictures])
            print(f"  {label:32s} {1000 * one / len(pictures):7.2f} ms/picture", end="")
            if hasattr(descriptor, "describe_batch"):
                batch = best_of(rounds, lambda d=descriptor: describe_all(d, pictures))
                print(f"   batch of {len(pictures)}: {1000 * batch / len(pictures):.2f} ms/picture")
            else:
                print()


def random_index(size: int, dimension: int, seed: int) -> DescriptorIndex:
    rng = np.random.default_rng(seed)
    index = DescriptorIndex("bench", dimension)
    for start in range(0, size, CHUNK):
        rows = min(CHUNK, size - start)
        vectors = rng.standard_normal((rows, dimension), dtype=np.float32)
        index.add(range(start, start + rows), vectors)
    return index


def bench_index(size: int, dimension: int, rounds: int) -> None:
    start = time.perf_counter()
    index = random_index(size, dimension, seed=size + dimension)
    built = time.perf_counter() - start
    rng = np.random.default_rng(7)
    listed = np.stack([index.vector(int(i)) for i in rng.integers(0, size, 4)])
    queries = listed + 0.05 * rng.standard_normal(listed.shape).astype(np.float32)
    found = index.search(queries, k=1).entry_id
    assert len(found) == len(queries), "a near copy of a listed vector must come back"
    single = best_of(rounds, lambda: index.search(queries[0], k=10, threshold=0.8))
    variants = rng.standard_normal((VARIANTS, dimension)).astype(np.float32)
    batched = best_of(rounds, lambda: index.search(variants, k=10, threshold=0.8))
    megabytes = size * dimension * 4 / 1e6
    print(
        f"  {size:>9,} x {dimension:<3} ({megabytes:6,.0f} MB): built in {built:5.1f} s; "
        f"1 query {1000 * single:7.1f} ms ({1 / single:7.1f}/s); "
        f"{VARIANTS} at once {1000 * batched:7.1f} ms ({VARIANTS / batched:7.1f} vectors/s)"
    )
    if size <= 100_000:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.vdi"
            saved = best_of(1, lambda: index.save(path))
            loaded = best_of(1, lambda: DescriptorIndex.load(path))
        print(f"      save (atomic, fsync) {saved:.2f} s, load (checked) {loaded:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--dimensions", default="64,256")
    parser.add_argument("--pictures", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(describe())
    bench_describing(corpus_pictures(args.pictures), args.rounds)
    print("exact cosine search, top 10 above 0.8, one thread:")
    for size in (int(value) for value in args.sizes.split(",")):
        for dimension in (int(value) for value in args.dimensions.split(",")):
            bench_index(size, dimension, args.rounds)


if __name__ == "__main__":
    main()
