"""Data for the screening-service benchmark, cached under benchmarks/.cache/service.

Uploads: distinct 1920x1080 JPEGs (quality 85) cut from the benign corpus
(../shared/corpus/images): a different crop, mirror and tone per copy, plus sensor-like
noise until the file weighs what a phone photo of that size does (200-500 KB); most corpus
pictures are smooth wallpapers that would otherwise compress to a few dozen KB and make
decoding look cheaper than it is. The list: random PDQ hashes plus the PDQ hashes of one
upload in LISTED_EVERY (among those of usable quality), so about 5% of uploads really match
(and near copies of them may too). Nothing is downloaded.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from benchmarks.index_data import uniform
from vigil.fingerprint.pipeline import fingerprint_path
from vigil.index.codes import words_hex

CACHE = Path(__file__).resolve().parent / ".cache" / "service"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "images"
SIZE = (1920, 1080)
QUALITY = 85
MIN_BYTES = 200_000
MAX_BYTES = 500_000
LISTED_EVERY = 20  # 5% of uploads are in the list
MATCH_DISTANCE = 31  # the default [matching] pdq_distance
MIN_QUALITY = 50  # the default [matching] min_quality
LIST_SEED = 7
CLASSIFICATION = "BENCH"  # a label for the benchmark's own benign entries
NOISE_STEPS = (2.0, 4.0, 6.0, 9.0, 13.0, 18.0)


@dataclass(frozen=True, slots=True)
class UploadImage:
    path: Path
    pdq: str
    variants: tuple[str, ...]
    listed: bool
    expect_match: bool  # its hash or a variant is within MATCH_DISTANCE of a listed image


def upload_images(count: int) -> list[UploadImage]:
    """The upload set with its hashes, generated and hashed on first use."""
    folder = CACHE / "images"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"upload-{i:04d}.jpg" for i in range(count)]
    sources = sorted(CORPUS.glob("*.jpg"))
    if not sources:
        raise SystemExit(f"no corpus images in {CORPUS}")
    for index, path in enumerate(paths):
        if not path.exists():
            _write_atomically(path, _render(index, sources[index % len(sources)]))
    return _describe(paths)


def list_files(entries: int, images: list[UploadImage]) -> tuple[Path, Path]:
    """The list as two files, ``entries`` hashes in all: plain-text random PDQ hashes (the
    directive line keeps 64-digit lines from being read as SHA-256), and a Vigil CSV of the
    listed images' hashes with a classification, since an unclassified hit is only sent to
    review, never a "match"."""
    listed = [(i, image.pdq) for i, image in enumerate(images) if image.listed]
    randoms = CACHE / f"pdq-random-{entries - len(listed)}.txt"
    if not randoms.exists():
        rng = np.random.default_rng(LIST_SEED)
        hashes = words_hex(uniform(rng, entries - len(listed)))
        text = "# signal_type: pdq\n" + "\n".join(hashes) + "\n"
        _write_atomically(randoms, text.encode("ascii"))
    rows = [f"pdq,{pdq},bench-upload-{i:04d},{CLASSIFICATION}" for i, pdq in listed]
    known = CACHE / f"pdq-listed-{len(images)}.csv"
    text = "signal_type,signal,external_id,classification\n" + "\n".join(rows) + "\n"
    _write_atomically(known, text.encode("ascii"))
    return randoms, known


def query_hashes(count: int, images: list[UploadImage], seed: int) -> list[str]:
    """Hashes for the hash-only phase: random (misses) plus every LISTED_EVERY-th one a
    listed image's hash with a few bits flipped, so the match path is exercised too."""
    rng = np.random.default_rng(seed)
    hashes = words_hex(uniform(rng, count))
    listed = [image.pdq for image in images if image.listed]
    for i in range(0, count, LISTED_EVERY) if listed else ():
        hashes[i] = _flip_bits(listed[(i // LISTED_EVERY) % len(listed)], rng, 8)
    return hashes


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _render(index: int, source: Path) -> bytes:
    """One distinct photo-sized JPEG derived from a corpus picture."""
    rng = np.random.default_rng(1000 + index)
    with Image.open(source) as opened:
        picture = ImageOps.exif_transpose(opened).convert("RGB")
    picture = _crop_16_9(picture, rng)
    if rng.random() < 0.5:
        picture = ImageOps.mirror(picture)
    picture = ImageEnhance.Brightness(picture).enhance(rng.uniform(0.85, 1.15))
    picture = ImageEnhance.Color(picture).enhance(rng.uniform(0.8, 1.2))
    base = np.asarray(picture, dtype=np.float32)
    data = b""
    for sigma in NOISE_STEPS:
        noisy = base + rng.normal(0.0, sigma, base.shape).astype(np.float32)
        data = _jpeg(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)))
        if len(data) >= MIN_BYTES:
            break
    return data


def _crop_16_9(picture: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A random 16:9 window covering 60-100% of the largest one, resized to 1080p."""
    width, height = picture.size
    full_w = min(width, height * 16 / 9)
    scale = rng.uniform(0.6, 1.0)
    crop_w, crop_h = full_w * scale, full_w * scale * 9 / 16
    left = rng.uniform(0, width - crop_w)
    top = rng.uniform(0, height - crop_h)
    box = (left, top, left + crop_w, top + crop_h)
    return picture.resize(SIZE, Image.Resampling.LANCZOS, box=box)


def _jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def _describe(paths: list[Path]) -> list[UploadImage]:
    manifest = CACHE / f"hashes-{len(paths)}.json"
    if manifest.exists():
        stored = json.loads(manifest.read_text(encoding="utf-8"))
    else:
        stored = [_hashes(path) for path in paths]
        _write_atomically(manifest, json.dumps(stored).encode("utf-8"))
    chosen = _listed(stored)
    listed = [stored[i]["pdq"] for i in chosen]
    images = []
    for i, (path, hashes) in enumerate(zip(paths, stored, strict=True)):
        own = [hashes["pdq"], *hashes["variants"]]
        near = hashes["quality"] >= MIN_QUALITY and any(
            distance(a, b) <= MATCH_DISTANCE for a in own for b in listed
        )
        images.append(
            UploadImage(path, hashes["pdq"], tuple(hashes["variants"]), i in chosen, near)
        )
    return images


def _listed(stored: list[dict[str, Any]]) -> set[int]:
    """One in LISTED_EVERY images, spread over those whose hash the service uses at all:
    PDQ hashes below the minimum quality are ignored, so listing one could never match."""
    eligible = [i for i, hashes in enumerate(stored) if hashes["quality"] >= MIN_QUALITY]
    wanted = max(1, len(stored) // LISTED_EVERY)
    step = max(1, len(eligible) // wanted)
    return set(eligible[::step][:wanted])


def _hashes(path: Path) -> dict[str, Any]:
    record = fingerprint_path(path)
    if record.pdq is None:
        raise SystemExit(f"could not hash {path}: {record.error}")
    return {
        "pdq": record.pdq,
        "quality": record.pdq_quality,
        "variants": [variant.pdq for variant in record.pdq_variants],
    }


def _flip_bits(hex_hash: str, rng: np.random.Generator, count: int) -> str:
    value = int(hex_hash, 16)
    for bit in rng.choice(256, size=count, replace=False).tolist():
        value ^= 1 << bit
    return f"{value:064x}"


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def sizes_summary(images: list[UploadImage]) -> str:
    sizes = np.array([image.path.stat().st_size for image in images]) / 1000
    return (
        f"{len(images)} JPEGs 1920x1080 q{QUALITY}, {sizes.min():.0f}-{sizes.max():.0f} KB "
        f"(median {np.median(sizes):.0f} KB), {sum(i.listed for i in images)} listed, "
        f"{sum(i.expect_match for i in images)} within {MATCH_DISTANCE} bits of a listed one"
    )
