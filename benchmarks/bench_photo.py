"""Photo PDQ: images/s of the reference pipeline and of Vigil, and compatibility.

Reference pipeline (as the issue names it): ``PIL.Image.open(path).convert('RGB')``
then ``pdqhash.compute``. Both run in this process, one thread, interleaved over
several rounds; the best round of each is compared so a noisy neighbour hurts
neither side more than the other.

    python benchmarks/bench_photo.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.machine import describe, pin_single_thread

pin_single_thread()

import numpy as np  # noqa: E402
import pdqhash  # noqa: E402
from PIL import Image  # noqa: E402

from tests import media_factory  # noqa: E402
from vigil.fingerprint import pdq, photo  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "images"
TARGET_RATIO = 20.0


def reference_hash(path: Path) -> tuple[str, int]:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    bits, quality = pdqhash.compute(rgb)
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def vigil_hash(path: Path) -> tuple[str, int]:
    """The same work as the reference: one PDQ hash and its quality."""
    hashes = photo.hash_photo(path, variants=False)
    return hashes.pdq.hex, hashes.pdq.quality


def vigil_with_variants(path: Path) -> tuple[str, int]:
    """As in production: plus the 7 rotations/mirrors and any border-trimmed hashes."""
    hashes = photo.hash_photo(path)
    return hashes.pdq.hex, hashes.pdq.quality


def best_time(fn: Callable[[Path], object], files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        fn(path)
    return time.perf_counter() - start


def speed(files: list[Path], rounds: int) -> dict[str, float]:
    pipelines = (reference_hash, vigil_hash, vigil_with_variants)
    for fn in pipelines:  # warm caches and lazy imports
        best_time(fn, files[:3])
    times: dict[str, list[float]] = {fn.__name__: [] for fn in pipelines}
    for _ in range(rounds):
        for fn in pipelines:
            times[fn.__name__].append(best_time(fn, files))
    return {name: min(values) for name, values in times.items()}


def synthetic_files(folder: Path) -> list[Path]:
    files = []
    for name, image in media_factory.synthetic_set(seed=11).items():
        files.append(media_factory.save(image, folder / f"{name}.jpg", quality=88))
    for seed, size in enumerate([(1200, 900), (2400, 1800), (4200, 2800), (5000, 3300)]):
        files.append(
            media_factory.save(
                media_factory.text_card(*size, seed=seed), folder / f"text_{seed}.jpg", quality=85
            )
        )
        files.append(
            media_factory.save(
                media_factory.noise(*size, seed=seed, blur=3), folder / f"noise_{seed}.png"
            )
        )
    for path in sorted(CORPUS.glob("*.jpg"))[::5]:
        big = Image.open(path).convert("RGB").resize((4800, 3200))
        files.append(media_factory.save(big, folder / f"up_{path.name}", quality=90))
    return files


def compatibility(files: list[Path]) -> dict[str, float]:
    strong, every = [], []
    for path in files:
        reference, quality = reference_hash(path)
        distance = pdq.hamming(vigil_hash(path)[0], reference)
        every.append(distance)
        if quality >= 80:
            strong.append(distance)
    strong_array = np.array(strong)
    return {
        "images": len(files),
        "quality>=80": len(strong),
        "within10": float(np.mean(strong_array <= 10)),
        "mean": float(strong_array.mean()),
        "max": int(strong_array.max()),
        "mean_all": float(np.mean(every)),
        "max_all": int(max(every)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    files = sorted(CORPUS.glob("*.jpg"))
    print(f"machine: {describe()}")
    print(f"corpus: {len(files)} JPEGs, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB")
    best = speed(files, args.rounds)
    reference = best["reference_hash"]
    print(f"reference pipeline:      {len(files) / reference:8.1f} images/s")
    labels = (("vigil_hash", "vigil hash:"), ("vigil_with_variants", "vigil + variants:"))
    for name, label in labels:
        ratio = reference / best[name]
        verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
        print(
            f"{label:24s} {len(files) / best[name]:8.1f} images/s  ratio {ratio:5.1f}x "
            f"(target >= {TARGET_RATIO:.0f}x) {verdict}"
        )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for label, group in (("corpus", files), ("synthetic", synthetic_files(Path(tmp)))):
            c = compatibility(group)
            ok = c["within10"] >= 0.99 and c["mean"] <= 3
            print(
                f"compatibility {label}: {c['images']} images, {c['quality>=80']} with "
                f"quality>=80: {c['within10']:.1%} within 10 bits, mean {c['mean']:.2f}, max "
                f"{c['max']} | all images mean {c['mean_all']:.2f}, max {c['max_all']} "
                f"{'PASS' if ok else 'FAIL'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
