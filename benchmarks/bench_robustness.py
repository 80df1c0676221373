"""Recall under everyday edits, and the false positives Vigil's query variants cost.

Every corpus image is edited (benchmarks/transforms.py) and each copy is matched
against the reference PDQ of its original, as a hash list holds it, at distance
<= 31: (a) the reference PDQ of the copy alone; (b) Vigil, a hit when any of its
hashes (main and variants) is within reach. False positives are pairs (image or
copy, original of another file) within reach: every Vigil hash for Vigil, the plain
reference PDQ for the reference. Distinct files count as distinct images, so true
near-duplicates in the corpus count as false positives on both sides.

Originals are the corpus files at full resolution. --max-side N reduces larger ones
first (Lanczos) for a quicker run; the reduced image is then "the original" throughout.

    python benchmarks/bench_robustness.py [--max-side N] [--workers 2]
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
from PIL import Image  # noqa: E402

from benchmarks.transforms import TRANSFORMS, Group  # noqa: E402
from vigil.fingerprint import pdq, photo  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "images"
MATCH_DISTANCE = 31
DIHEDRAL_SHARE_OF_UNTOUCHED = 0.95
FRAMING_RECALL = 0.80
FP_RATIO_LIMIT = 2.0
TRIMMED_ROTATIONS = frozenset(
    f"{photo.TRIMMED}_{d.value}" for d in pdq.Dihedral if d is not pdq.Dihedral.ORIGINAL
)
MAIN = "main"


@dataclass(frozen=True, slots=True)
class Item:
    """One original or copy: its reference PDQ and every hash Vigil queries with."""

    image: int
    transform: str  # "original" for the original itself
    reference: str
    vigil: dict[str, str]  # variant name (MAIN for the main hash) -> hex


def reference_pdq(image: Image.Image) -> str:
    bits, _ = pdqhash.compute(np.ascontiguousarray(np.asarray(image.convert("RGB"))))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def vigil_hashes(data: bytes) -> dict[str, str]:
    hashes = photo.hash_photo(data)
    return {MAIN: hashes.pdq.hex} | {v.variant: v.pdq for v in hashes.variants}


def load_original(path: Path, max_side: int) -> Image.Image:
    image = Image.open(path).convert("RGB")
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def lossless(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def hash_image_and_copies(job: tuple[int, Path, int]) -> list[Item]:
    index, path, max_side = job
    original = load_original(path, max_side)
    items = [Item(index, "original", reference_pdq(original), vigil_hashes(lossless(original)))]
    for number, transform in enumerate(TRANSFORMS):
        rng = np.random.default_rng(index * 1000 + number)
        data = transform.encode(transform.edit(original, rng))
        with Image.open(io.BytesIO(data)) as copy:
            reference = reference_pdq(copy)
        items.append(Item(index, transform.name, reference, vigil_hashes(data)))
    return items


def bit_matrix(hexes: list[str]) -> np.ndarray:
    packed = np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(len(hexes), 32)
    return np.unpackbits(packed, axis=1).astype(np.float32)


def distances(queries: list[str], targets: list[str]) -> np.ndarray:
    """Hamming distances as two matrix products: ones against zeros both ways."""
    q, t = bit_matrix(queries), bit_matrix(targets)
    return np.rint(q @ (1 - t).T + (1 - q) @ t.T).astype(np.int32)


def hits(
    items: list[Item], originals: list[str], without: frozenset[str] = frozenset()
) -> tuple[np.ndarray, np.ndarray]:
    """(items x originals) matrices: reference PDQ within reach; any Vigil hash within reach.

    ``without`` names Vigil variants to leave out, to measure what they add.
    """
    reference = distances([item.reference for item in items], originals) <= MATCH_DISTANCE
    owners, hexes = [], []
    for row, item in enumerate(items):
        for name, value in item.vigil.items():
            if name not in without:
                owners.append(row)
                hexes.append(value)
    close = distances(hexes, originals) <= MATCH_DISTANCE
    vigil = np.zeros((len(items), len(originals)), dtype=bool)
    np.logical_or.at(vigil, np.array(owners), close)
    return reference, vigil


def recall_table(
    items: list[Item], reference: np.ndarray, vigil: np.ndarray, vigil_plain: np.ndarray
) -> dict[str, np.ndarray]:
    """Print recall per transform; return, per transform, which copies Vigil found."""
    own = np.array([item.image for item in items])
    rows = np.arange(len(items))
    ref_own, vigil_own = reference[rows, own], vigil[rows, own]
    plain_own = vigil_plain[rows, own]
    print(
        f"{'transform':<14} {'group':<10} {'n':>3} {'ref PDQ':>8} {'Vigil':>8} "
        f"{'Vigil w/o trimmed rotations':>28}"
    )
    found = {}
    for transform in TRANSFORMS:
        mask = np.array([item.transform == transform.name for item in items])
        found[transform.name] = vigil_own[mask]
        print(
            f"{transform.name:<14} {transform.group:<10} {mask.sum():>3} "
            f"{ref_own[mask].mean():>8.1%} {vigil_own[mask].mean():>8.1%} "
            f"{plain_own[mask].mean():>28.1%}"
        )
    return found


def verdicts(found: dict[str, np.ndarray], names: list[str]) -> bool:
    """PASS/FAIL per target, naming the images Vigil missed."""
    ok = True
    untouched = found["untouched"].mean()
    for transform in TRANSFORMS:
        if transform.group is Group.DIHEDRAL:
            target = DIHEDRAL_SHARE_OF_UNTOUCHED * untouched
        elif transform.group is Group.FRAMING:
            target = FRAMING_RECALL
        else:
            continue
        recall = found[transform.name].mean()
        passed = recall >= target - 1e-9
        ok &= passed
        missed = ", ".join(Path(names[i]).stem for i in np.flatnonzero(~found[transform.name]))
        print(
            f"target {transform.name:<13} Vigil recall {recall:6.1%} >= {target:6.1%} "
            f"{'PASS' if passed else 'FAIL'}; missed: {missed or 'none'}"
        )
    return ok


def false_positives(
    items: list[Item],
    reference: np.ndarray,
    vigil: np.ndarray,
    names: list[str],
    skip: np.ndarray | None = None,
) -> tuple[int, int]:
    """Pair counts, with the image pairs behind them; ``skip`` marks image pairs to leave out."""
    own = np.array([item.image for item in items])
    other = np.arange(reference.shape[1])[None, :] != own[:, None]
    if skip is not None:
        other &= ~skip[own]
    ref_pairs, vigil_pairs = reference & other, vigil & other
    per_image = np.zeros((2, len(names), len(names)), dtype=np.int64)
    for layer, pairs in enumerate((ref_pairs, vigil_pairs)):
        rows, columns = np.nonzero(pairs)
        np.add.at(per_image[layer], (own[rows], columns), 1)
    for query, target in zip(*np.nonzero(per_image.sum(axis=0)), strict=True):
        print(
            f"  {names[query]} (or a copy) -> {names[target]}: "
            f"reference {per_image[0, query, target]}, Vigil {per_image[1, query, target]}"
        )
    return int(ref_pairs.sum()), int(vigil_pairs.sum())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-side", type=int, default=0, help="0: full resolution")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    paths = sorted(CORPUS.glob("*.jpg"))
    if not paths:
        print(f"benign corpus missing at {CORPUS}")
        return 1
    print(f"machine: {describe()}")
    cap = f"longest side capped at {args.max_side}" if args.max_side else "full resolution"
    print(
        f"corpus: {len(paths)} images ({cap}), "
        f"{len(TRANSFORMS)} copies each, match distance <= {MATCH_DISTANCE}"
    )
    start = time.perf_counter()
    jobs = [(index, path, args.max_side) for index, path in enumerate(paths)]
    with Pool(args.workers) as pool:
        items = [item for batch in pool.imap(hash_image_and_copies, jobs) for item in batch]
    names = [path.name for path in paths]
    originals = [item.reference for item in items if item.transform == "original"]
    reference, vigil = hits(items, originals)
    _, vigil_plain = hits(items, originals, TRIMMED_ROTATIONS)
    print()
    found = recall_table(items, reference, vigil, vigil_plain)
    print()
    ok = verdicts(found, names)
    print()
    print("near-duplicate originals (reference PDQ of one original vs another):")
    pairwise = distances(originals, originals)
    for i, j in zip(*np.nonzero(np.triu(pairwise <= MATCH_DISTANCE, k=1)), strict=True):
        print(f"  {names[i]} ~ {names[j]}: {pairwise[i, j]} bits")
    print()
    near_duplicates = pairwise <= MATCH_DISTANCE
    for label, matrix in (("all variants", vigil), ("without trimmed rotations", vigil_plain)):
        print(f"false-positive pairs ({label}):")
        ref_fp, vigil_fp = false_positives(items, reference, matrix, names)
        ratio = vigil_fp / ref_fp if ref_fp else float("inf") if vigil_fp else 1.0
        passed = vigil_fp <= FP_RATIO_LIMIT * ref_fp
        if label == "all variants":
            ok &= passed
        print(
            f"target false positives ({label}): Vigil/reference = {vigil_fp}/{ref_fp} = "
            f"{ratio:.2f} <= {FP_RATIO_LIMIT:.0f} {'PASS' if passed else 'FAIL'}"
        )
        ref_fp, vigil_fp = false_positives(items, reference, matrix, names, near_duplicates)
        print(
            f"  (for information, leaving out the near-duplicate originals above: "
            f"Vigil {vigil_fp}, reference {ref_fp})"
        )
        print()
    hashes = [len(item.vigil) for item in items]
    print(f"Vigil hashes per query: mean {np.mean(hashes):.1f}, max {max(hashes)}")
    print(f"elapsed {time.perf_counter() - start:.0f} s; overall {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
