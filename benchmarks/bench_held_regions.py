"""Region hashes for pictures Vigil holds itself (issue 19): recall, false pairs, cost.

Each corpus image is "held": stored as its reference PDQ plus the PDQ of candidate
regions (vigil.fingerprint.held_regions). Copies are cropped by 5-20% (centred, off
centre, from one side, from a corner), get a caption bar with text over the top or
bottom, or a translucent watermark (across the middle or in a corner); each is
JPEG-saved and hashed as a query is: main PDQ and Vigil's query variants
(vigil.fingerprint.photo.hash_photo), and its own candidate regions from the fast decode.
Only strong hashes (quality >= 50) take part, as in matching.

Two ways a region can match: "cross", any query hash against the held region (a copy that
is, as a whole, that region: a crop of exactly its geometry), and "same", the query's own
region against the held region of the same name (an overlay in a band the region leaves
out). The table of candidates prints both, alone, at distance 31; then each set given
with --regions at several distances, using "same" (what held_regions.closest does).

False pairs are counted on distinct pictures (benchmarks/distinct.py: non-overlapping
corpus tiles and seeded synthetic images, weak ones left out): every picture is held,
and a pair (query picture, held picture of another source) is false when a hash is within
reach. "held FP" are the pairs the region signal reaches by itself, "added FP" those it
adds to Vigil's query variants against the reference hash; plain PDQ (main vs main at 31)
is the baseline. "corpus FP" are copies within reach of another corpus original.

    python benchmarks/bench_held_regions.py [--max-side 512] [--workers 2] [--distinct N]
        [--regions a,b;c,d]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.machine import describe, pin_single_thread

pin_single_thread()

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from benchmarks import distinct  # noqa: E402
from vigil.fingerprint import decode, held_regions, pdq, photo  # noqa: E402
from vigil.fingerprint.held_regions import Region  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "images"
PLAIN_DISTANCE = 31
DISTANCES = (31, 28, 24, 20, 16)
MAIN = "main"
CROP_TARGET, OVERLAY_TARGET = 0.80, 0.70
Edit = Callable[[Image.Image, np.random.Generator], Image.Image]

CANDIDATES: tuple[Region, ...] = (
    Region("centre_95", 0.025, 0.025, 0.025, 0.025),
    Region("centre_90", 0.05, 0.05, 0.05, 0.05),
    Region("centre_85", 0.075, 0.075, 0.075, 0.075),
    Region("centre_80", 0.10, 0.10, 0.10, 0.10),
    Region("centre_70", 0.15, 0.15, 0.15, 0.15),
    Region("no_top_10", top=0.10),
    Region("no_bottom_10", bottom=0.10),
    Region("no_left_10", left=0.10),
    Region("no_right_10", right=0.10),
    Region("no_top_15", top=0.15),
    Region("no_bottom_15", bottom=0.15),
    Region("no_sides_15", left=0.075, right=0.075),
    Region("no_ends_15", top=0.075, bottom=0.075),
    Region("top_left_85", bottom=0.15, right=0.15),
    Region("top_right_85", bottom=0.15, left=0.15),
    Region("bottom_left_85", top=0.15, right=0.15),
    Region("bottom_right_85", top=0.15, left=0.15),
    Region("top_half", bottom=0.5),
    Region("bottom_half", top=0.5),
    Region("left_half", right=0.5),
    Region("right_half", left=0.5),
    Region("top_third", bottom=0.67),
    Region("bottom_third", top=0.67),
    Region("top_left_60", bottom=0.4, right=0.4),
    Region("top_right_60", bottom=0.4, left=0.4),
    Region("bottom_left_60", top=0.4, right=0.4),
    Region("bottom_right_60", top=0.4, left=0.4),
)
BY_NAME = {region.name: region for region in CANDIDATES}
CHOSEN = tuple(region.name for region in held_regions.HELD_REGIONS)


# --- copies ------------------------------------------------------------------------------


def crop(percent: int, where: str) -> Edit:
    """``percent`` of the width and height cut: evenly (centre), split at random between
    the two edges (off centre), from one side, or from one corner."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        cut_x, cut_y = width * percent / 100, height * percent / 100
        share_x = share_y = 0.5
        if where == "off_centre":
            share_x, share_y = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
        left, top = round(cut_x * share_x), round(cut_y * share_y)
        right, bottom = width - (round(cut_x) - left), height - (round(cut_y) - top)
        if where in ("left", "right"):
            top, bottom = 0, height
            left, right = (round(cut_x), width) if where == "left" else (0, width - round(cut_x))
        elif where in ("top", "bottom"):
            left, right = 0, width
            top, bottom = (round(cut_y), height) if where == "top" else (0, height - round(cut_y))
        elif where == "corner":
            corner = int(rng.integers(4))
            left = round(cut_x) if corner & 1 else 0
            top = round(cut_y) if corner & 2 else 0
            right, bottom = width - round(cut_x) + left, height - round(cut_y) + top
        return image.crop((left, top, right, bottom))

    return edit


WORDS = ("look at this", "no way", "saved from the group", "lol", "repost if you agree")


def caption_bar(edge: str) -> Edit:
    """A solid bar, dark or light, with a line of text over 10-14% of the picture."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        image = image.copy()
        width, height = image.size
        bar = max(4, round(height * rng.uniform(0.10, 0.14)))
        dark = bool(rng.integers(2))
        fill, ink = ((20, 20, 20), (245, 245, 245)) if dark else ((245, 245, 245), (20, 20, 20))
        top = 0 if edge == "top" else height - bar
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, top, width, top + bar), fill=fill)
        font = ImageFont.load_default(size=max(6, bar // 2))
        text = WORDS[int(rng.integers(len(WORDS)))]
        draw.text((round(width * 0.04), top + bar // 4), text, font=font, fill=ink)
        return image

    return edit


def watermark(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A site's translucent name and round logo over a part of the picture (30-55% opaque)."""
    base = image.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    width, height = base.size
    alpha = int(255 * rng.uniform(0.30, 0.55))
    ink = (255, 255, 255, alpha) if rng.integers(2) else (0, 0, 0, alpha)
    size = max(8, round(min(width, height) * rng.uniform(0.08, 0.14)))
    font = ImageFont.load_default(size=size)
    x, y = round(width * rng.uniform(0.05, 0.35)), round(height * rng.uniform(0.35, 0.75))
    draw.ellipse((x, y, x + size * 2, y + size * 2), outline=ink, width=max(1, size // 5))
    draw.text((x + size // 2, y + size // 2), "V", font=font, fill=ink)
    draw.text((x + size * 5 // 2, y + size // 2), "sharesite.example", font=font, fill=ink)
    return Image.alpha_composite(base, layer).convert("RGB")


def corner_watermark(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The same mark in the bottom-right corner, where most sites put it."""
    base = image.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    width, height = base.size
    alpha = int(255 * rng.uniform(0.30, 0.55))
    ink = (255, 255, 255, alpha) if rng.integers(2) else (0, 0, 0, alpha)
    size = max(8, round(min(width, height) * rng.uniform(0.05, 0.08)))
    font = ImageFont.load_default(size=size)
    text = "sharesite.example"
    right = draw.textlength(text, font=font)
    draw.text((width - right - size, height - 2 * size), text, font=font, fill=ink)
    return Image.alpha_composite(base, layer).convert("RGB")


@dataclass(frozen=True, slots=True)
class Copy:
    name: str
    family: str
    edit: Edit


COPIES: tuple[Copy, ...] = (
    Copy("untouched", "untouched", lambda image, rng: image),
    *(
        Copy(f"crop_{p}_{where}", f"crop_{p}", crop(p, where))
        for p in (5, 10, 15, 20)
        for where in ("centre", "off_centre", "left", "right", "top", "bottom", "corner")
    ),
    Copy("caption_top", "caption_bar", caption_bar("top")),
    Copy("caption_bottom", "caption_bar", caption_bar("bottom")),
    Copy("watermark_middle", "watermark", watermark),
    Copy("watermark_corner", "watermark", corner_watermark),
)
FAMILIES = tuple(dict.fromkeys(copy.family for copy in COPIES))


# --- hashing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Held:
    """A stored picture: its main hash and candidate regions, strong ones only."""

    source: int
    stored: dict[str, str]  # MAIN or region name -> hex


@dataclass(frozen=True, slots=True)
class Query:
    source: int
    copy: str
    hashes: dict[str, str]  # MAIN or variant -> hex (photo.hash_photo)
    regions: dict[str, str]  # the query's own candidate regions, strong ones only


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def exact(image: Image.Image) -> decode.LumaImage:
    return decode.exact_luma(image.convert("RGB"))


def held(source: int, image: Image.Image) -> Held:
    luma = exact(image)
    main, _ = pdq.hash_luma(luma.luma)
    stored = {MAIN: main.hex} if not main.weak else {}
    for region in held_regions.region_hashes(luma, CANDIDATES):
        if not region.pdq.weak:
            stored[region.region] = region.pdq.hex
    return Held(source, stored)


def query(source: int, name: str, data: bytes) -> Query | None:
    hashes = photo.hash_photo(data)
    if hashes.pdq.weak:
        return None  # matching ignores weak query hashes
    with Image.open(io.BytesIO(data)) as image:
        luma = decode.fast_luma(image)  # as held_regions.query_region_hashes decodes
    regions = {
        r.region: r.pdq.hex for r in held_regions.region_hashes(luma, CANDIDATES) if not r.pdq.weak
    }
    return Query(
        source, name, {MAIN: hashes.pdq.hex} | {v.variant: v.pdq for v in hashes.variants}, regions
    )


def load(path: Path, max_side: int) -> Image.Image:
    image = Image.open(path).convert("RGB")
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def corpus_job(job: tuple[int, Path, int]) -> tuple[Held, list[Query], float, float]:
    index, path, max_side = job
    original = load(path, max_side)
    started = time.perf_counter()
    luma = exact(original)
    held_regions.region_hashes(luma)
    cost = 1000 * (time.perf_counter() - started)
    with Image.open(io.BytesIO(jpeg(original))) as again:
        started = time.perf_counter()
        held_regions.region_hashes(decode.fast_luma(again))
        query_cost = 1000 * (time.perf_counter() - started)
    queries = []
    for number, copy in enumerate(COPIES):
        rng = np.random.default_rng(index * 1000 + number)
        found = query(index, copy.name, jpeg(copy.edit(original, rng)))
        if found is not None:
            queries.append(found)
    return held(index, original), queries, cost, query_cost


def distinct_job(job: tuple[str, int, str]) -> list[tuple[Held, Query | None]]:
    kind, source, detail = job
    if kind == "tiles":
        pictures = distinct.corpus_tiles(source, Path(detail))
    else:
        pictures = [distinct.synthetic(source, int(detail))]
    out: list[tuple[Held, Query | None]] = []
    for picture in pictures:
        data = jpeg(picture.image)
        with Image.open(io.BytesIO(data)) as decoded:
            stored = held(picture.source, decoded.convert("RGB"))
        out.append((stored if picture.target else Held(source, {}), query(source, "", data)))
    return out


# --- matching ----------------------------------------------------------------------------


def bits(hexes: Sequence[str]) -> np.ndarray:
    if not hexes:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = np.frombuffer(bytes.fromhex("".join(hexes)), dtype=">u8")
    return raw.astype(np.uint64).reshape(-1, 4)


def pair_distances(queries: np.ndarray, stored: np.ndarray, chunk: int = 256) -> np.ndarray:
    out = np.empty((len(queries), len(stored)), dtype=np.uint16)
    for start in range(0, len(queries), chunk):
        block = queries[start : start + chunk, None, :] ^ stored[None, :, :]
        out[start : start + chunk] = np.bitwise_count(block).sum(axis=2)
    return out


def nearest(
    queries: Sequence[dict[str, str]],
    helds: Sequence[dict[str, str]],
    query_keys: Callable[[str], bool],
    held_key: str,
) -> np.ndarray:
    """(query picture x held picture): the smallest distance between a query hash whose name
    passes ``query_keys`` and the held picture's ``held_key`` hash (999 when either is missing)."""
    out = np.full((len(queries), len(helds)), 999, dtype=np.uint16)
    held_rows = [i for i, h in enumerate(helds) if held_key in h]
    if not held_rows:
        return out
    stored = bits([helds[i][held_key] for i in held_rows])
    names = sorted({n for q in queries for n in q if query_keys(n)})
    for name in names:
        rows = [i for i, q in enumerate(queries) if name in q]
        found = pair_distances(bits([queries[i][name] for i in rows]), stored)
        block = out[np.ix_(rows, held_rows)]
        out[np.ix_(rows, held_rows)] = np.minimum(block, found)
    return out


@dataclass(frozen=True, slots=True)
class Distances:
    """Per pair of pictures: the reference baselines and each region's two signals."""

    plain: np.ndarray  # query main vs held main
    variants: np.ndarray  # any Vigil query hash vs held main
    cross: dict[str, np.ndarray]  # any Vigil query hash vs the held region
    same: dict[str, np.ndarray]  # the query's own region vs the held region of that name

    @classmethod
    def of(cls, queries: list[Query], helds: list[Held], cross: bool) -> Distances:
        hashes = [q.hashes for q in queries]
        stored = [h.stored for h in helds]
        return cls(
            nearest(hashes, stored, lambda n: n == MAIN, MAIN),
            nearest(hashes, stored, lambda n: True, MAIN),
            {r.name: nearest(hashes, stored, lambda n: True, r.name) for r in CANDIDATES if cross},
            {
                r.name: nearest([q.regions for q in queries], stored, _named(r.name), r.name)
                for r in CANDIDATES
            },
        )

    def held(self, regions: frozenset[str], limit: int, cross: bool) -> np.ndarray:
        """Pairs the new signal alone puts within reach."""
        found = np.zeros(self.plain.shape, dtype=bool)
        for name in regions:
            found |= self.same[name] <= limit
            if cross and name in self.cross:
                found |= self.cross[name] <= limit
        return found


def _named(region: str) -> Callable[[str], bool]:
    return lambda name: name == region


# --- report ------------------------------------------------------------------------------


def recall(found: np.ndarray, queries: list[Query], sources: np.ndarray) -> dict[str, float]:
    own = found[np.arange(len(queries)), np.searchsorted(sources, [q.source for q in queries])]
    by_family: dict[str, list[bool]] = defaultdict(list)
    family_of = {copy.name: copy.family for copy in COPIES}
    for q, hit in zip(queries, own, strict=True):
        by_family[family_of[q.copy]].append(bool(hit))
    return {family: float(np.mean(by_family[family])) for family in FAMILIES}


def false_pairs(found: np.ndarray, queries: list[Query], helds: list[Held]) -> int:
    query_sources = np.array([q.source for q in queries])
    held_sources = np.array([h.source for h in helds])
    other = query_sources[:, None] != held_sources[None, :]
    return int(np.count_nonzero(found & other))


def row(label: str, values: dict[str, float], *extra: object) -> str:
    return (
        f"{label:<40}"
        + "".join(f"{values[f]:>12.2f}" for f in FAMILIES)
        + "".join(f"{e!s:>12}" for e in extra)
    )


def header(*extra: str) -> str:
    return f"{'':<40}" + "".join(f"{f:>12}" for f in FAMILIES) + "".join(f"{e:>12}" for e in extra)


SHIFTS = (0.5, 1.0, 2.0, 5.0)  # percent of the picture's height


def shift_sensitivity(paths: Sequence[Path], max_side: int) -> None:
    """How far PDQ moves when a region is shifted: why fixed regions cannot reach crops.

    The centre 90% of every fourth corpus picture against the same window moved down."""
    moved: dict[float, list[int]] = defaultdict(list)
    for path in paths[::4]:
        luma = exact(load(path, max_side))
        centre = Region("centre", 0.05, 0.05, 0.05, 0.05)
        base = held_regions.hash_region(luma, centre)
        for shift in SHIFTS:
            down = Region("down", 0.05 + shift / 100, 0.05 - shift / 100, 0.05, 0.05)
            other = held_regions.hash_region(luma, down)
            if base is not None and other is not None:
                moved[shift].append(pdq.hamming(base.hex, other.hex))
    print(
        "PDQ distance of a 90% window shifted down by (median over "
        f"{len(moved[SHIFTS[0]])} pictures): "
        + ", ".join(f"{shift}%: {np.median(moved[shift]):.0f}" for shift in SHIFTS)
    )


def evaluate(
    chosen: frozenset[str],
    corpus: Distances,
    far: Distances,
    near_side: tuple[list[Query], list[Held], np.ndarray],
    far_side: tuple[list[Query], list[Held]],
) -> None:
    """One set of regions at each distance, beside the baselines."""
    queries, helds, sources = near_side
    d_queries, d_helds = far_side
    print()
    print(f"set: {', '.join(sorted(chosen))}")
    print(header("held FP", "added FP", "all FP", "corpus FP"))
    variants_fp = false_pairs(far.variants <= PLAIN_DISTANCE, d_queries, d_helds)
    for label, table, d_table in (
        ("plain PDQ main vs main <= 31", corpus.plain, far.plain),
        ("Vigil variants vs main <= 31", corpus.variants, far.variants),
    ):
        found, d_found = table <= PLAIN_DISTANCE, d_table <= PLAIN_DISTANCE
        print(
            row(
                label,
                recall(found, queries, sources),
                "-",
                "-",
                false_pairs(d_found, d_queries, d_helds),
                false_pairs(found, queries, helds),
            )
        )
    for limit in DISTANCES:
        held_found = corpus.held(chosen, limit, cross=False)
        d_held = far.held(chosen, limit, cross=False)
        found = held_found | (corpus.variants <= PLAIN_DISTANCE)
        d_found = d_held | (far.variants <= PLAIN_DISTANCE)
        everything = false_pairs(d_found, d_queries, d_helds)
        print(
            row(
                f"Vigil + held regions <= {limit}",
                recall(found, queries, sources),
                false_pairs(d_held, d_queries, d_helds),
                everything - variants_fp,
                everything,
                false_pairs(found, queries, helds),
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-side", type=int, default=512, help="0: full resolution")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--distinct", type=int, default=3000)
    parser.add_argument(
        "--regions",
        default=",".join(CHOSEN),
        help="sets to evaluate: region names separated by commas, sets by semicolons",
    )
    args = parser.parse_args()
    sets = [frozenset(n for n in part.split(",") if n) for part in args.regions.split(";")]
    unknown = frozenset().union(*sets) - BY_NAME.keys()
    if unknown:
        print(f"unknown regions: {sorted(unknown)}")
        return 2
    paths = sorted(CORPUS.glob("*.jpg"))
    if not paths:
        print(f"benign corpus missing at {CORPUS}")
        return 1
    print(f"machine: {describe()}")
    print(
        f"corpus: {len(paths)} images, longest side {args.max_side or 'full'}, "
        f"{len(COPIES)} copies each, match distance of the reference hash <= {PLAIN_DISTANCE}"
    )
    started = time.perf_counter()
    shift_sensitivity(paths, args.max_side)
    with Pool(args.workers) as pool:
        results = pool.map(corpus_job, [(i, p, args.max_side) for i, p in enumerate(paths)])
    helds = [r[0] for r in results]
    queries = [q for r in results for q in r[1]]
    sources = np.array([h.source for h in helds])
    stored_costs = [r[2] for r in results]
    query_costs = [r[3] for r in results]
    print(
        f"cost per held picture (exact luma + the {len(held_regions.HELD_REGIONS)} HELD_REGIONS "
        f"hashes): median {np.median(stored_costs):.1f} ms, max {max(stored_costs):.1f} ms"
    )
    print(
        f"cost per query (fast luma + the same region hashes, second stage only): "
        f"median {np.median(query_costs):.1f} ms, max {max(query_costs):.1f} ms"
    )
    synthetic = max(0, args.distinct - len(paths) * distinct.GRID**2)
    jobs = [("tiles", i, str(p)) for i, p in enumerate(paths)] + [
        ("synthetic", len(paths) + seed, str(seed)) for seed in range(synthetic)
    ]
    with Pool(args.workers) as pool:
        pairs = [pair for batch in pool.imap(distinct_job, jobs, chunksize=8) for pair in batch]
    d_helds = [h for h, _ in pairs if h.stored]
    d_queries = [q for _, q in pairs if q is not None]
    print(
        f"distinct pictures: {len(d_helds)} held (strong), {len(d_queries)} queries "
        f"(strong; corpus tiles, screenshots of some, synthetic)"
    )
    corpus = Distances.of(queries, helds, cross=True)
    far = Distances.of(d_queries, d_helds, cross=False)
    plain_fp = false_pairs(far.plain <= PLAIN_DISTANCE, d_queries, d_helds)
    print()
    print("each candidate alone: recall with the reference hash plus the region's signal,")
    print("'cross' = Vigil's query hashes vs the held region, 'same' = the query's own region")
    print("vs the held region of that name; false pairs = distinct pairs the region adds alone")
    print(header("FP same 31", "FP same 24"))
    base = far.plain <= PLAIN_DISTANCE
    for region in CANDIDATES:
        name = region.name
        for kind, table in (("cross", corpus.cross), ("same", corpus.same)):
            found = (corpus.plain <= PLAIN_DISTANCE) | (table[name] <= PLAIN_DISTANCE)
            extra: tuple[object, ...] = ()
            if kind == "same":
                extra = tuple(
                    false_pairs((far.same[name] <= limit) & ~base, d_queries, d_helds)
                    for limit in (31, 24)
                )
            print(row(f"{name} {kind} <= 31", recall(found, queries, sources), *extra))
    for chosen in sets:
        evaluate(chosen, corpus, far, (queries, helds, sources), (d_queries, d_helds))
    print(f"(plain PDQ's false pairs on the distinct set: {plain_fp})")
    print(f"elapsed {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
