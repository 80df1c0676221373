"""Small rotations: recall, false pairs and cost of the query-side hypotheses (issue 19).

Every corpus image is turned by 1-5 degrees both ways (and, to see what a blind set of
angles misses, by the half degrees between) in three kinds: *padded* (canvas grown, the
corners filled black), *clipped* (canvas kept at the picture's size, as
benchmarks/transforms.py's small_rotation: corners cut off, the uncovered ones filled
white) and *cropped* (cut to the largest same-shaped rectangle inside, as a photo
editor's straighten tool does), saved as JPEG q90. A copy counts as found when its
reference PDQ or one of the hypotheses of vigil.fingerprint.small_rotations is within
distance 31 of its original's reference PDQ, as a hash list holds it.

False pairs are counted on >= 2,000 distinct pictures: non-overlapping 256-pixel tiles of
the corpus images at full resolution and seeded synthetic images (blobs, bars, ellipses,
noise). A pair (a, b), a != b, is false when any of a's hashes is within 31 of b's reference
PDQ; plain PDQ uses a's reference PDQ alone. Tiles of one photograph can truly look alike
(sky, sea), so plain PDQ has false pairs of its own: the target is not to add any.

Each candidate set of blind angles for the cropped kind is measured; the padded and clipped
kinds' angle is read off the corners and costs one hash whatever the set.

    python benchmarks/bench_rotation_hypotheses.py [--max-side 512] [--workers 2]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.machine import describe, pin_single_thread

pin_single_thread()

import numpy as np  # noqa: E402
import pdqhash  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from vigil.fingerprint import decode, pdq, small_rotations  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "images"
MATCH_DISTANCE = 31
DEGREES = (1.0, 2.0, 3.0, 4.0, 5.0)
BETWEEN = (1.5, 2.5, 3.5, 4.5)
KINDS = ("padded", "clipped", "cropped")
CANDIDATES: dict[str, tuple[float, ...]] = {
    "padded only": (),
    "+-3": (-3.0, 3.0),
    "+-2,4": (-4.0, -2.0, 2.0, 4.0),
    "+-1.5,3,4.5": (-4.5, -3.0, -1.5, 1.5, 3.0, 4.5),
    "+-1..5": (-5.0, -4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0, 5.0),
    "+-1..5 by .5": tuple(float(a) for a in np.arange(-5.0, 5.01, 0.5) if a),
}
ALL_ANGLES = tuple(sorted({a for angles in CANDIDATES.values() for a in angles}))
TILE = 256
MAX_TILES_PER_IMAGE = 40
DISTINCT_TARGET = 2000
COST_REPEATS = 3


@dataclass(frozen=True, slots=True)
class Hashed:
    """One picture's reference PDQ and the hypotheses, by name (every blind angle)."""

    reference: str
    quality: int
    padded: str | None  # the padded or clipped hypothesis, when the corners gave the angle
    cropped: dict[float, str]  # blind angle -> hash


def reference_pdq(image: Image.Image) -> tuple[str, int]:
    bits, quality = pdqhash.compute(np.ascontiguousarray(np.asarray(image.convert("RGB"))))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def query_luma(data: bytes) -> np.ndarray:
    """The luma the screening path hashes (the JPEG decoder's reduced Y channel)."""
    with decode.open_image(data) as image:
        return decode.fast_luma(image).luma


def hash_all(data: bytes) -> Hashed:
    with Image.open(io.BytesIO(data)) as image:
        reference, quality = reference_pdq(image)
    luma = query_luma(data)
    copy = small_rotations.prepared(luma)
    padded, cropped = None, {}
    if copy is not None:
        turn = small_rotations.corner_turn(copy.grey)
        digest = small_rotations.corner_hash(luma, copy, turn) if turn is not None else None
        padded = digest.hex if digest is not None else None
        for guess in ALL_ANGLES:
            cropped[guess] = small_rotations.cropped_hash(copy, guess).hex
    return Hashed(reference, quality, padded, cropped)


def hypotheses_of(hashed: Hashed, angles: tuple[float, ...]) -> list[str]:
    """What ``small_rotations.hypotheses`` returns with these blind angles."""
    if hashed.padded is not None:
        return [hashed.padded]
    return [hashed.cropped[a] for a in angles if a in hashed.cropped]


def turned(image: Image.Image, degrees: float, kind: str) -> Image.Image:
    if kind == "padded":
        return image.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))
    if kind == "clipped":
        return image.rotate(degrees, Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
    scale = small_rotations.inscribed_scale(image.width, image.height, degrees)
    width, height = round(image.width * scale), round(image.height * scale)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    rotated = image.rotate(degrees, Image.Resampling.BICUBIC)
    return rotated.crop((left, top, left + width, top + height))


def load_original(path: Path, max_side: int) -> Image.Image:
    image = Image.open(path).convert("RGB")
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def copies_of(job: tuple[int, Path, int]) -> tuple[str, list[tuple[str, float, Hashed]]]:
    """The original's reference PDQ and every turned copy's hashes."""
    _index, path, max_side = job
    original = load_original(path, max_side)
    reference, _ = reference_pdq(original)
    found = []
    for degrees in DEGREES + BETWEEN:
        for sign in (1, -1):
            for kind in KINDS:
                copy = turned(original, sign * degrees, kind)
                found.append((kind, degrees, hash_all(jpeg(copy))))
    return reference, found


def tiles_of(path: Path) -> list[bytes]:
    image = Image.open(path).convert("RGB")
    tiles = [
        jpeg(image.crop((left, top, left + TILE, top + TILE)))
        for top in range(0, image.height - TILE + 1, TILE)
        for left in range(0, image.width - TILE + 1, TILE)
    ]
    step = max(1, len(tiles) // MAX_TILES_PER_IMAGE)
    return tiles[::step][:MAX_TILES_PER_IMAGE]


def synthetic(seed: int) -> bytes:
    """A seeded picture of blobs, bars and ellipses over a gradient, with a little noise."""
    rng = np.random.default_rng(seed)
    width, height = int(rng.integers(200, 400)), int(rng.integers(200, 400))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    field = np.zeros((height, width, 3), dtype=np.float32)
    field += rng.uniform(0, 255, 3) * (xs / width)[..., None]
    field += rng.uniform(0, 255, 3) * (ys / height)[..., None] * rng.uniform(0, 1)
    for _ in range(int(rng.integers(2, 6))):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(20, 120)
        blob = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r * r))
        field += rng.uniform(-200, 200, 3) * blob[..., None]
    image = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 8))):
        box = sorted(rng.uniform(0, width, 2)) + sorted(rng.uniform(0, height, 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((box[0], box[2], box[1], box[3]), fill=colour)
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 4, (height, width, 3))
    return jpeg(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB"))


def hash_distinct(job: tuple[str, object]) -> list[Hashed]:
    kind, value = job
    if kind == "tiles":
        assert isinstance(value, Path)
        return [hash_all(data) for data in tiles_of(value)]
    assert isinstance(value, int)
    return [hash_all(synthetic(value))]


def bit_matrix(hexes: list[str]) -> np.ndarray:
    packed = np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(len(hexes), 32)
    return np.unpackbits(packed, axis=1).astype(np.float32)


def within(queries: list[str], targets: list[str]) -> np.ndarray:
    q, t = bit_matrix(queries), bit_matrix(targets)
    return np.rint(q @ (1 - t).T + (1 - q) @ t.T) <= MATCH_DISTANCE


def false_pairs(distinct: list[Hashed], angles: tuple[float, ...] | None) -> tuple[int, int]:
    """Ordered pairs (a, b), a != b, where a's hashes reach b's reference PDQ: all queries,
    and queries whose main hash is not weak (the only ones screening matches)."""
    targets = [h.reference for h in distinct]
    owners, hexes = [], []
    for row, hashed in enumerate(distinct):
        for value in [hashed.reference] + ([] if angles is None else hypotheses_of(hashed, angles)):
            owners.append(row)
            hexes.append(value)
    pairs = np.zeros((len(distinct), len(distinct)), dtype=bool)
    for start in range(0, len(hexes), 4096):
        close = within(hexes[start : start + 4096], targets)
        np.logical_or.at(pairs, np.array(owners[start : start + 4096]), close)
    np.fill_diagonal(pairs, False)
    strong = np.array([h.quality >= pdq.WEAK_QUALITY for h in distinct])
    return int(pairs.sum()), int(pairs[strong].sum())


def cost_ms(lumas: list[np.ndarray], angles: tuple[float, ...]) -> float:
    """CPU milliseconds per picture for ``hypotheses`` (best of COST_REPEATS passes): CPU
    time, not wall time, because other work shares this machine's two cores."""
    best = float("inf")
    for _ in range(COST_REPEATS):
        start = time.process_time()
        for luma in lumas:
            small_rotations.hypotheses(luma, angles)
        best = min(best, time.process_time() - start)
    return 1000 * best / len(lumas)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-side", type=int, default=512, help="0: full resolution")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    paths = sorted(CORPUS.glob("*.jpg"))
    if not paths:
        print(f"benign corpus missing at {CORPUS}")
        return 1
    print(f"machine: {describe()}")
    started = time.perf_counter()
    with Pool(args.workers) as pool:
        turned_copies = pool.map(copies_of, [(i, p, args.max_side) for i, p in enumerate(paths)])
        jobs: list[tuple[str, object]] = [("tiles", path) for path in paths]
        distinct = [h for batch in pool.map(hash_distinct, jobs) for h in batch]
        extra = max(0, DISTINCT_TARGET - len(distinct)) + 200
        synthetic_jobs: list[tuple[str, object]] = [("synthetic", seed) for seed in range(extra)]
        tiles = len(distinct)
        distinct += [h for batch in pool.map(hash_distinct, synthetic_jobs) for h in batch]
    print(
        f"corpus: {len(paths)} images (longest side {args.max_side or 'full'}), "
        f"{len(turned_copies[0][1])} turned copies each; distinct pictures: {len(distinct)} "
        f"({tiles} tiles of {TILE} px, {len(distinct) - tiles} synthetic); distance <= "
        f"{MATCH_DISTANCE}"
    )
    print()
    report_recall(turned_copies)
    print()
    report_false_pairs_and_cost(distinct, paths, args.max_side)
    print(f"\nelapsed {time.perf_counter() - started:.0f} s")
    return 0


def found_share(
    turned_copies: list[tuple[str, list[tuple[str, float, Hashed]]]],
    kind: str,
    degrees: float,
    angles: tuple[float, ...] | None,
) -> float:
    hits = []
    for original, copies in turned_copies:
        for copy_kind, copy_degrees, hashed in copies:
            if copy_kind != kind or copy_degrees != degrees:
                continue
            queries = [hashed.reference] + ([] if angles is None else hypotheses_of(hashed, angles))
            hits.append(min(pdq.hamming(q, original) for q in queries) <= MATCH_DISTANCE)
    return float(np.mean(hits))


def report_recall(turned_copies: list[tuple[str, list[tuple[str, float, Hashed]]]]) -> None:
    sets: dict[str, tuple[float, ...] | None] = {"plain PDQ": None, **CANDIDATES}
    header = " ".join(f"{d:>5g}" for d in DEGREES + BETWEEN)
    print("recall (both directions; last four columns: half degrees between)")
    print(f"{'kind':<8} {'set':<13} {header}   1-5 mean")
    for kind in KINDS:
        for name, angles in sets.items():
            shares = [found_share(turned_copies, kind, d, angles) for d in DEGREES + BETWEEN]
            cells = " ".join(f"{s:>5.0%}" for s in shares)
            print(f"{kind:<8} {name:<12} {cells}   {np.mean(shares[: len(DEGREES)]):>5.1%}")
    print(f"{'both':<8} {'set':<13} 1-5 mean")
    for name, angles in sets.items():
        shares = [found_share(turned_copies, kind, d, angles) for kind in KINDS for d in DEGREES]
        print(f"{'both':<8} {name:<12} {np.mean(shares):>5.1%}")


def report_false_pairs_and_cost(distinct: list[Hashed], paths: list[Path], max_side: int) -> None:
    lumas = [query_luma(jpeg(load_original(path, max_side))) for path in paths]
    plain_all, plain_strong = false_pairs(distinct, None)
    print(f"false pairs among {len(distinct)} distinct pictures, and CPU cost per picture")
    print(f"{'set':<13} {'hashes':>6} {'pairs':>6} {'strong':>6} {'ms/photo':>9}")
    print(f"{'plain PDQ':<13} {1:>6} {plain_all:>6} {plain_strong:>6} {'-':>9}")
    for name, angles in CANDIDATES.items():
        pairs, strong = false_pairs(distinct, angles)
        count = np.mean([1 + len(hypotheses_of(h, angles)) for h in distinct])
        print(f"{name:<13} {count:>6.1f} {pairs:>6} {strong:>6} {cost_ms(lumas, angles):>9.2f}")
    padded = sum(h.padded is not None for h in distinct)
    print(f"(distinct pictures taken for padded copies: {padded}; 'strong': query not weak)")


if __name__ == "__main__":
    raise SystemExit(main())
