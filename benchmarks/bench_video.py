"""Video hashing speed: a 1280x720 30 fps H.264 clip must hash >= 10x real time on one core.

The clip is a slideshow of benign corpus images with a slow pan and zoom on each,
so every frame carries motion and the stream is not trivially compressible. It is
generated once (a fast x264 preset that still uses B-frames, CABAC and deblocking,
like ordinary camera and web video) and cached under benchmarks/.cache/.

    python benchmarks/bench_video.py              # the 10-minute target
    python benchmarks/bench_video.py --minutes 1  # a quicker run
"""

from __future__ import annotations

import os

# One core, honestly: no BLAS or OpenMP pools behind NumPy's back. Must precede numpy.
for _variable in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import av  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "images"
CACHE = REPO / "benchmarks" / ".cache"
WIDTH, HEIGHT, RATE = 1280, 720, 30
SCENE_SECONDS = 20
TARGET_FACTOR = 10.0
MAX_SOURCE_SIDE = 2400  # pan/zoom crops from this; keeps generation quick
# Film grain (luma noise, standard deviation in grey levels). A smooth pan alone
# compresses to ~0.4 Mbit/s, far below real 720p video, and decoding cost grows
# with bitrate; grain 5 gives ~3-4 Mbit/s, typical of web and phone 720p.
DEFAULT_GRAIN = 5.0
GRAIN_CYCLE = 8  # distinct grain fields, reused in turn


@dataclass(frozen=True, slots=True)
class Scene:
    """One corpus image, panned and zoomed from one crop box to another."""

    image: Image.Image
    start: tuple[float, float, float, float]
    end: tuple[float, float, float, float]


def landscape_sources() -> list[Path]:
    """Corpus photos wide enough to pan across at 720p."""
    chosen = []
    for path in sorted(CORPUS.glob("*.jpg")):
        with Image.open(path) as image:
            if image.width >= WIDTH and image.width > image.height:
                chosen.append(path)
    if not chosen:
        sys.exit(f"no landscape corpus images under {CORPUS}")
    return chosen


def scene_for(path: Path, rng: np.random.Generator) -> Scene:
    image = Image.open(path).convert("RGB")
    image.thumbnail((MAX_SOURCE_SIDE, MAX_SOURCE_SIDE), Image.Resampling.BILINEAR)
    return Scene(image, crop_box(image, rng, 0.95), crop_box(image, rng, 0.6))


def crop_box(
    image: Image.Image, rng: np.random.Generator, zoom: float
) -> tuple[float, float, float, float]:
    """A 16:9 box covering ``zoom`` of the image's width (or height), placed at random."""
    box_w = min(image.width * zoom, image.height * zoom * WIDTH / HEIGHT)
    box_h = box_w * HEIGHT / WIDTH
    left = rng.uniform(0, image.width - box_w)
    top = rng.uniform(0, image.height - box_h)
    return left, top, left + box_w, top + box_h


def grain_fields(grain: float, rng: np.random.Generator) -> list[np.ndarray]:
    shape = (HEIGHT, WIDTH, 1)  # one value for R, G and B: luma grain
    return [np.round(rng.normal(0, grain, shape)).astype(np.int16) for _ in range(GRAIN_CYCLE)]


def slideshow_frames(minutes: float, grain: float, seed: int = 0) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    sources = landscape_sources()
    fields = grain_fields(grain, rng)
    total = round(minutes * 60 * RATE)
    per_scene = SCENE_SECONDS * RATE
    scene = None
    for index in range(total):
        if index % per_scene == 0:
            scene = scene_for(sources[(index // per_scene) % len(sources)], rng)
        assert scene is not None
        progress = (index % per_scene) / per_scene
        box = tuple(a + (b - a) * progress for a, b in zip(scene.start, scene.end, strict=True))
        rgb = np.asarray(scene.image.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR, box=box))
        yield np.clip(rgb + fields[index % GRAIN_CYCLE], 0, 255).astype(np.uint8)


def generate(path: Path, minutes: float, grain: float) -> None:
    print(f"generating {path.name} (once; cached) ...", flush=True)
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for rgb in slideshow_frames(minutes, grain):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.replace(path)


def cached_clip(minutes: float, grain: float = DEFAULT_GRAIN) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"slideshow_{minutes:g}min_{WIDTH}x{HEIGHT}_{RATE}fps_grain{grain:g}.mp4"
    if not path.exists():
        generate(path, minutes, grain)
    return path


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core}"


def measure(path: Path, threads: int, skip_loop_filter: bool) -> float:
    from vigil.fingerprint import video

    started = time.perf_counter()
    cpu_started = time.process_time()
    hashes = video.hash_video(path, decoder_threads=threads, skip_loop_filter=skip_loop_filter)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    duration = hashes.duration or 0.0
    factor = duration / wall
    verdict = "PASS" if factor >= TARGET_FACTOR else "FAIL"
    size = path.stat().st_size
    print(
        f"clip:             {path.name} ({size / 1e6:.1f} MB, "
        f"{size * 8 / max(duration, 1e-9) / 1e6:.2f} Mbit/s)"
    )
    print(f"decoder:          thread_count={threads}, skip_loop_filter={skip_loop_filter}")
    print(f"video duration:   {duration:.1f} s ({hashes.width}x{hashes.height})")
    print(f"wall time:        {wall:.2f} s (cpu {cpu:.2f} s)")
    print(f"real-time factor: {factor:.1f}x")
    print(f"frames kept:      {len(hashes.frames)}")
    print(f"target >= {TARGET_FACTOR:g}x:   {verdict}")
    return duration


def cpu_seconds(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def demux_only(path: Path) -> None:
    with av.open(str(path)) as container:
        for _ in container.demux(container.streams.video[0]):
            pass


def decode_every_frame(path: Path, threads: int) -> None:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = threads
        for _ in container.decode(stream):
            pass


def sample_without_hashing(path: Path, threads: int) -> None:
    from vigil.fingerprint import frames

    with frames.open_video(path, max_pixels=10**9, threads=threads) as reader:
        for _ in reader.sample(1.0):
            pass


def breakdown(path: Path, threads: int, duration: float) -> None:
    """CPU seconds per stage, each a separate pass over the clip."""
    from vigil.fingerprint import video

    stages = {
        "demux only": lambda: demux_only(path),
        "decode every frame (no shortcuts)": lambda: decode_every_frame(path, threads),
        "decode with shortcuts, no hashing": lambda: sample_without_hashing(path, threads),
        "hash_video (decode + hash samples)": lambda: video.hash_video(
            path, decoder_threads=threads
        ),
    }
    print("breakdown (cpu s, real-time factor on cpu time):")
    for name, work in stages.items():
        spent = cpu_seconds(work)
        print(f"  {name:36s} {spent:7.2f} s  {duration / spent:6.1f}x")


def machine() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        model = "unknown CPU"
    return f"{model}; {os.cpu_count()} cores; PyAV {av.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--grain",
        type=float,
        default=DEFAULT_GRAIN,
        help="luma noise in grey levels; higher means a higher bitrate",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="decoder threads; above 1 the process is not pinned to one core",
    )
    parser.add_argument(
        "--skip-loop-filter",
        action="store_true",
        help="skip deblocking (faster, slightly inexact frames)",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time each stage separately (several more passes)",
    )
    args = parser.parse_args()
    path = cached_clip(args.minutes, args.grain)
    print(machine())
    print(pin_to_one_core() if args.threads == 1 else "not pinned: decoder threads may spread")
    duration = measure(path, args.threads, args.skip_loop_filter)
    if args.breakdown:
        breakdown(path, args.threads, duration)


if __name__ == "__main__":
    main()
