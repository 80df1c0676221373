"""Copy descriptors (issue 19): what describing a picture costs, and exact index lookups.

Describing: the built-in colour layout and the ONNX adapter on a tiny model built here (a
fixed random projection of a 32x32 grey picture; no weights are downloaded), on pictures of
the corpus decoded beforehand, so only the descriptor is timed. A real model costs what its
network costs; this measures the adapter's own overhead (resize, normalise, run, check).

Recall: what the built-in colour layout catches of everyday transforms of the corpus
pictures, and how many pairs of distinct corpus pictures score as high, at the default
threshold (0.9) and at 0.8. (The tiny ONNX model is a random projection: its recall
says nothing about a real model's.)

Index: random unit vectors (the worst case for nothing: no structure to exploit, and exact
search does not use any) at 100k and 1M rows of 64 and 256 values; lookups of one vector,
and of 8 at once (an upload's query variants), best of several rounds; one thread.

    python benchmarks/bench_descriptors.py [--sizes 100000,1000000] [--dimensions 64,256]
"""

from __future__ import annotations

import argparse
import io
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
from PIL import Image, ImageDraw, ImageEnhance  # noqa: E402

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
THRESHOLDS = (0.9, 0.8)  # 0.9: vigil.core.settings.DescriptorConfig's default


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


def jpeg_again(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def central_crop(image: Image.Image, fraction: float) -> Image.Image:
    dx, dy = int(image.width * fraction / 2), int(image.height * fraction / 2)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def caption_bar(image: Image.Image) -> Image.Image:
    captioned = image.copy()
    bar = int(image.height * 0.15)
    draw = ImageDraw.Draw(captioned)
    draw.rectangle((0, image.height - bar, image.width, image.height), fill=(250, 250, 250))
    draw.text((10, image.height - bar + 5), "shared from an app", fill=(20, 20, 20))
    return captioned


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "JPEG quality 40": lambda image: jpeg_again(image, 40),
    "half size": lambda image: image.resize((image.width // 2, image.height // 2)),
    "grey": lambda image: image.convert("L").convert("RGB"),
    "contrast x1.5": lambda image: ImageEnhance.Contrast(image).enhance(1.5),
    "crop 10%": lambda image: central_crop(image, 0.10),
    "crop 20%": lambda image: central_crop(image, 0.20),
    "caption bar 15%": caption_bar,
    "rotate 3 degrees": lambda image: image.rotate(3, expand=True),
    "mirror": lambda image: image.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
}


def bench_recall(pictures: list[Image.Image]) -> None:
    descriptor = ColourLayoutDescriptor()
    originals = describe_all(descriptor, pictures)
    similarity = originals @ originals.T
    distinct = similarity[np.triu_indices(len(pictures), k=1)]
    pairs = ", ".join(f"{int((distinct >= t).sum())} at {t}" for t in THRESHOLDS)
    print(
        f"the colour layout on {len(pictures)} corpus pictures: of {distinct.size} pairs of "
        f"distinct pictures (some are near-duplicates), {pairs}; copies found:"
    )
    for label, transform in TRANSFORMS.items():
        copies = describe_all(descriptor, [transform(picture) for picture in pictures])
        scores = np.einsum("ij,ij->i", originals, copies)
        recall = ", ".join(f"{100 * float((scores >= t).mean()):5.1f}% at {t}" for t in THRESHOLDS)
        print(f"  {label:18s} median {np.median(scores):.3f}; {recall}")


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
    pictures = corpus_pictures(args.pictures)
    bench_describing(pictures, args.rounds)
    bench_recall(corpus_pictures(10_000))
    print("exact cosine search, top 10 above 0.8, one thread:")
    for size in (int(value) for value in args.sizes.split(",")):
        for dimension in (int(value) for value in args.dimensions.split(",")):
            bench_index(size, dimension, args.rounds)


if __name__ == "__main__":
    main()
