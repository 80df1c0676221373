"""The backlog scan over S3 with both engines, in the same run: objects/s, wall time and peak
memory of `vigil scan s3://... --engine local` and `--engine ray` on this machine.

    python -m benchmarks.bench_backlog_scan [--objects 100000] [--database sqlite|postgresql]
        [--runs local:2,ray:2] [--profile 500]

Set-up (not timed): ``--objects`` small benign images, each a variant of a corpus image
(../shared/corpus/images: cropped, resized, recoloured; JPEG or PNG made to fit 5-30 KB, a
few smooth crops smaller), made in
worker processes and uploaded with a thread pool to moto's S3 server on 127.0.0.1 (the
tests' server, tests/backlog/s3_server.py); a list holding the PDQ hashes of every
``--listed-every``-th object (those of PDQ quality >= 50, which a list looks up) plus
``--noise-entries`` random PDQ hashes, imported through the
real list import into a fresh database.

Timed: each run of ``--runs`` (``local:N``: the local engine with N hashing processes;
``ray:N``: a local Ray started with num_cpus=N) in a fresh process, through the function the
CLI runs (vigil.screening.backlog.scan_session.run_scan: engine, run_job, Parquet parts,
checkpoints, matches). A Ray run's time includes starting Ray, as `vigil scan --engine ray`
without an address does; the scan alone is printed too. Peak RSS: the driver's (getrusage)
and its descendant processes' sampled from /proc every 0.2 s (the local pool's workers; Ray's
``ray::`` workers and its other processes), RSS and PSS; with them each kind's CPU time, and
this process's (moto's server), printed per object.

Checked: every run gives the same Parquet rows and the same matches as the first, and finds
every listed object. ``--profile N`` then splits one object's cost into listing,
object-store read (client and server apart), decode+hash, match (and its freshness query)
and Parquet write, in CPU time, over N objects one at a time in this process.
Target: Ray's time at most 1.25x the local engine's on one machine.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import contextlib
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.config import Config
from PIL import Image, ImageEnhance
from sqlalchemy import select

from benchmarks.databases import fresh_database
from benchmarks.machine import describe
from tests.backlog.s3_server import UNSET, fake_aws_environment, loopback_s3
from tests.screening.listed import make_list
from vigil.core.settings import MatchingSettings, Settings
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_bytes
from vigil.store import open_database
from vigil.store.models import ScanJobMatch

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "images"
BUCKET = "backlog-bench"
LIST_NAME = "bench-list"
TARGET_RATIO = 1.25
SMALLEST, LARGEST = 5_000, 30_000  # bytes: the size band the images are made to fit
PNG_SHARE = 0.2
UPLOADERS = 16
SAMPLE_SECONDS = 0.2
MB = 1 << 20
TICKS = os.sysconf("SC_CLK_TCK")
MIN_QUALITY = MatchingSettings().min_quality  # the list's, as created by default

# The objects: benign variants of corpus images ---------------------------------------------

_bases: list[Image.Image] = []  # per generating process: the corpus, shrunk once


def _corpus() -> list[Image.Image]:
    if not _bases:
        for path in sorted(CORPUS.iterdir()):
            with Image.open(path) as image:
                picture = image.convert("RGB")
                picture.thumbnail((640, 640))
                _bases.append(picture)
    return _bases


def benign_variant(number: int) -> tuple[str, bytes]:
    """Object ``number``: a crop of a corpus image, resized and recoloured, as JPEG or PNG,
    shrunk or grown until it falls in the size band (a few tries: smooth pictures stay
    small). The same number always gives the same bytes."""
    rng = random.Random(number)
    bases = _corpus()
    base = bases[number % len(bases)]
    width, height = base.size
    crop_w, crop_h = int(width * rng.uniform(0.4, 1.0)), int(height * rng.uniform(0.4, 1.0))
    left, top = rng.randint(0, width - crop_w), rng.randint(0, height - crop_h)
    picture = base.crop((left, top, left + crop_w, top + crop_h))
    picture = ImageEnhance.Color(picture).enhance(rng.uniform(0.3, 1.7))
    picture = ImageEnhance.Brightness(picture).enhance(rng.uniform(0.75, 1.25))
    png = rng.random() < PNG_SHARE
    side = rng.randint(64, 140) if png else rng.randint(160, 360)
    quality = rng.randint(60, 90)
    data = b""
    for _ in range(4):
        data = _encoded(picture, side, png, quality)
        if SMALLEST <= len(data) <= LARGEST:
            break
        goal = (SMALLEST + LARGEST) / 2
        side = max(32, min(640, int(side * (goal / len(data)) ** 0.5)))
    return f"img/{number:08d}.{'png' if png else 'jpg'}", data


def _encoded(picture: Image.Image, side: int, png: bool, quality: int) -> bytes:
    width, height = picture.size
    resized = picture.resize((side, max(16, round(height * side / width))))
    out = io.BytesIO()
    if png:
        resized.save(out, "PNG")
    else:
        resized.save(out, "JPEG", quality=quality)
    return out.getvalue()


def made(job: tuple[int, bool]) -> tuple[str, bytes, str | None]:
    """Runs in a generating process: the object, and its PDQ when it is to be listed and
    good enough to be looked up (a list skips hashes below its minimum quality)."""
    number, listed = job
    key, data = benign_variant(number)
    if not listed:
        return key, data, None
    record = fingerprint_bytes(data, FingerprintOptions(variants=False))
    good = record.pdq_quality is not None and record.pdq_quality >= MIN_QUALITY
    return key, data, record.pdq if good else None


@dataclass(frozen=True, slots=True)
class Uploaded:
    keys: list[str]
    sizes: list[int]
    listed: dict[str, str]  # key -> PDQ
    seconds: float


def upload(count: int, listed_every: int, endpoint: str) -> Uploaded:
    client = boto3.client(
        "s3", endpoint_url=endpoint, config=Config(max_pool_connections=UPLOADERS * 2)
    )
    client.create_bucket(Bucket=BUCKET)
    keys: list[str] = []
    sizes: list[int] = []
    listed: dict[str, str] = {}
    started = time.perf_counter()
    jobs = ((number, number % listed_every == 0) for number in range(count))
    slots = threading.BoundedSemaphore(UPLOADERS * 4)  # bytes waiting stay bounded
    with (
        futures.ProcessPoolExecutor(max(1, os.cpu_count() or 1)) as makers,
        futures.ThreadPoolExecutor(UPLOADERS) as uploaders,
    ):
        pending: list[futures.Future[Any]] = []
        for key, data, pdq in makers.map(made, jobs, chunksize=64):
            slots.acquire()
            put = uploaders.submit(client.put_object, Bucket=BUCKET, Key=key, Body=data)
            put.add_done_callback(lambda _done: slots.release())
            pending.append(put)
            keys.append(key)
            sizes.append(len(data))
            if pdq is not None:
                listed[key] = pdq
        for put in pending:
            put.result()  # an upload that failed stops the benchmark here
    return Uploaded(keys, sizes, listed, time.perf_counter() - started)


def noise_hashes(count: int) -> list[str]:
    """Random PDQ entries: a list larger than the planted ones, matching nothing (two random
    256-bit hashes within 31 bits: about 1e-40)."""
    rng = random.Random(17)
    return [f"{rng.getrandbits(256):064x}" for _ in range(count)]


# The database -------------------------------------------------------------------------------


def import_list(url: str, uploaded: Uploaded, noise: int, folder: Path) -> None:
    rows = [("pdq", pdq, f"listed-{key}") for key, pdq in sorted(uploaded.listed.items())]
    rows += [("pdq", value, f"noise-{i}") for i, value in enumerate(noise_hashes(noise))]
    with open_database(url) as database:
        make_list(database, LIST_NAME, rows, folder)


# Peak memory of the processes a run starts --------------------------------------------------


class ProcessMemory:
    """Samples the RSS of this process's descendants from /proc (Linux), by kind: Ray's
    workers (``ray::`` in their command line), its other processes (raylet, GCS, agents), and
    any other child (the local engine's pool). Keeps each kind's peak sum and peak process,
    and the CPU time each kind used (the last sample of each process: a process that ended
    between samples loses at most its last 0.2 s)."""

    def __init__(self) -> None:
        self.peak_pss: dict[str, int] = {}  # proportional: shared pages counted once
        self.peak_sum: dict[str, int] = {}
        self.peak_one: dict[str, int] = {}
        self.processes: dict[str, set[int]] = {}
        self._cpu: dict[int, tuple[str, int]] = {}  # pid -> kind, CPU ticks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ProcessMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> None:
        sums: dict[str, int] = {}
        pss: dict[str, int] = {}
        for pid, ticks in descendants(os.getpid()).items():
            rss, kind = _memory(pid, "status", "VmRSS:"), _kind(pid)
            if not rss or kind is None:
                continue  # gone, or a zombie
            self._cpu[pid] = (kind, ticks)
            sums[kind] = sums.get(kind, 0) + rss
            pss[kind] = pss.get(kind, 0) + (_memory(pid, "smaps_rollup", "Pss:") or 0)
            self.peak_one[kind] = max(self.peak_one.get(kind, 0), rss)
            self.processes.setdefault(kind, set()).add(pid)
        for kind, total in sums.items():
            self.peak_sum[kind] = max(self.peak_sum.get(kind, 0), total)
            self.peak_pss[kind] = max(self.peak_pss.get(kind, 0), pss[kind])

    def cpu_seconds(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for kind, ticks in self._cpu.values():
            used[kind] = used.get(kind, 0.0) + ticks / TICKS
        return used


def descendants(root: int) -> dict[int, int]:
    """Every descendant of ``root``, with the CPU ticks it used (user and system)."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()  # from field 3, the state
        except (OSError, IndexError):
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry))
        ticks[int(entry)] = int(fields[11]) + int(fields[12])  # utime, stime
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = ticks[child]
            todo.append(child)
    return found


def _memory(pid: int, file: str, field: str) -> int | None:
    """A field in kB of /proc/PID/status or smaps_rollup, in bytes."""
    try:
        with open(f"/proc/{pid}/{file}", encoding="utf-8") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _kind(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    if command.startswith("ray::"):
        return "ray workers"
    if "ray" in command:
        return "ray system"
    return "children"


# One run, in a process of its own -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunSpec:
    engine: str  # local | ray
    cpus: int

    @classmethod
    def parse(cls, text: str) -> RunSpec:
        engine, _, cpus = text.partition(":")
        if engine not in ("local", "ray"):
            raise argparse.ArgumentTypeError(f"a run is local:N or ray:N, not {text!r}")
        return cls(engine, int(cpus or "2"))

    def __str__(self) -> str:
        what = "workers" if self.engine == "local" else "num_cpus"
        return f"{self.engine} ({what}={self.cpus})"


def run_one(spec: RunSpec, url: str, data_dir: Path) -> dict[str, Any]:
    """The scan as `vigil scan s3://BUCKET/ --engine ENGINE` runs it (a new job)."""
    from vigil.screening.backlog.job_start import job_options, start_or_resume
    from vigil.screening.backlog.scan_session import EngineChoice, run_scan
    from vigil.screening.backlog.source_uri import open_source

    settings = Settings(data_dir=data_dir, database_url=url)
    with ProcessMemory() as memory:
        started = time.perf_counter()
        ray: Any = None
        if spec.engine == "ray":
            import ray

            ray.init(num_cpus=spec.cpus, include_dashboard=False, log_to_driver=False)
        scanning = time.perf_counter()
        with open_database(settings) as database:
            source = open_source(f"s3://{BUCKET}/")
            start = start_or_resume(
                database,
                source=source.describe(),
                engine=spec.engine,
                options=job_options(source.describe(), None, settings.scanning),
                data_dir=settings.data_dir,
                resume=False,
            )
            choice = EngineChoice(spec.engine, workers=spec.cpus)
            end = run_scan(settings, database, start, source, choice)
            finished = time.perf_counter()
            memory.sample()
            matches = job_matches(database, start.job_id)
    if ray is not None:
        ray.shutdown()
    return {
        "end": end.value,
        "seconds": finished - started,
        "scan_seconds": finished - scanning,
        "driver_peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "driver_cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        "cpu": memory.cpu_seconds(),
        "peak_sum": memory.peak_sum,
        "peak_pss": memory.peak_pss,
        "peak_one": memory.peak_one,
        "processes": {kind: len(pids) for kind, pids in memory.processes.items()},
        "store_dir": str(start.store_dir),
        "matches": matches,
    }


def job_matches(database: Any, job_id: int) -> list[list[Any]]:
    with database.transaction() as session:
        rows = session.execute(
            select(
                ScanJobMatch.key,
                ScanJobMatch.entry_id,
                ScanJobMatch.signal_type,
                ScanJobMatch.distance,
            ).where(ScanJobMatch.job_id == job_id)
        ).all()
    return sorted([key, entry, str(signal), distance] for key, entry, signal, distance in rows)


def run_in_child(
    spec: RunSpec, url: str, root: Path, environment: dict[str, str]
) -> dict[str, Any]:
    data_dir = root / f"{spec.engine}-{spec.cpus}"
    answer = root / f"{spec.engine}-{spec.cpus}.json"
    command = [sys.executable, "-m", "benchmarks.bench_backlog_scan"]
    command += ["--child", f"{spec.engine}:{spec.cpus}"]
    command += ["--child-database", url, "--child-data-dir", str(data_dir)]
    command += ["--child-answer", str(answer)]
    before = time.process_time()  # this process serves S3 (moto's threads) meanwhile
    subprocess.run(command, cwd=REPO, env=environment, check=True)
    result: dict[str, Any] = json.loads(answer.read_text())
    result["server_cpu"] = time.process_time() - before
    return result


def child_main(arguments: argparse.Namespace) -> None:
    spec = RunSpec.parse(arguments.child)
    result = run_one(spec, arguments.child_database, Path(arguments.child_data_dir))
    Path(arguments.child_answer).write_text(json.dumps(result))


# Comparing and printing ---------------------------------------------------------------------


def parquet_rows(store_dir: str) -> pa.Table:
    parts = sorted(Path(store_dir).glob("part-*.parquet"))
    table = pa.concat_tables([pq.read_table(part) for part in parts])
    return table.sort_by("identity")


def _mb(value: int | None) -> str:
    return f"{(value or 0) / MB:,.0f} MB"


def print_run(spec: RunSpec, result: dict[str, Any], objects: int) -> None:
    seconds = result["seconds"]
    line = f"{spec}: {objects:,} objects in {seconds:.1f} s: {objects / seconds:,.0f} objects/s"
    if spec.engine == "ray":
        scan = result["scan_seconds"]
        line += f" (Ray start {seconds - scan:.1f} s; scan alone {scan:.1f} s, "
        line += f"{objects / scan:,.0f} objects/s)"
    print(line + f"; job {result['end']}")
    memory = [f"driver peak RSS {_mb(result['driver_peak_rss'])}"]
    for kind, total in sorted(result["peak_sum"].items()):
        if total < MB:
            continue  # a helper process seen for an instant (a shell, a zombie's last breath)
        count = result["processes"].get(kind, 0)
        memory.append(
            f"{kind} ({count} processes) peak RSS sum {_mb(total)} "
            f"(PSS {_mb(result['peak_pss'].get(kind))}), "
            f"largest {_mb(result['peak_one'].get(kind))}"
        )
    print("  memory: " + "; ".join(memory))
    cpu = {"driver": result["driver_cpu"]} | result["cpu"] | {"S3 server": result["server_cpu"]}
    per_object = "; ".join(f"{kind} {used / objects * 1000:.2f}" for kind, used in cpu.items())
    total = sum(cpu.values())
    print(
        f"  CPU ms/object: {per_object}; total {total / objects * 1000:.2f} "
        f"({total / result['seconds']:.2f} cores busy on average)"
    )


def compare(
    specs: Sequence[RunSpec], results: Sequence[dict[str, Any]], uploaded: Uploaded
) -> bool:
    first_rows = parquet_rows(results[0]["store_dir"])
    first_matches = results[0]["matches"]
    ok = True
    for spec, result in zip(specs[1:], results[1:], strict=True):
        same_rows = parquet_rows(result["store_dir"]).equals(first_rows)
        same_matches = result["matches"] == first_matches
        ok = ok and same_rows and same_matches
        print(
            f"{spec} vs {specs[0]}: same Parquet rows: {'yes' if same_rows else 'NO'} "
            f"({first_rows.num_rows:,} rows); same matches: {'yes' if same_matches else 'NO'} "
            f"({len(first_matches):,})"
        )
    found = {key for key, *_ in first_matches} & set(uploaded.listed)
    errors = sum(1 for error in first_rows.column("error").to_pylist() if error)
    print(
        f"listed objects found: {len(found):,}/{len(uploaded.listed):,}; objects matched: "
        f"{len({key for key, *_ in first_matches}):,}; error rows: {errors:,}"
    )
    return ok and len(found) == len(uploaded.listed) and first_rows.num_rows == len(uploaded.keys)


def print_ratio(specs: Sequence[RunSpec], results: Sequence[dict[str, Any]]) -> None:
    by_spec = dict(zip(specs, results, strict=True))
    local = next((r for s, r in by_spec.items() if s.engine == "local" and s.cpus == 2), None)
    ray = next((r for s, r in by_spec.items() if s.engine == "ray" and s.cpus == 2), None)
    if local is None or ray is None:
        return
    ratio = ray["seconds"] / local["seconds"]
    scan_ratio = ray["scan_seconds"] / local["seconds"]
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(
        f"RATIO ray/local time: {ratio:.2f} (scan alone, Ray already started: "
        f"{scan_ratio:.2f}); target <= {TARGET_RATIO}: {verdict}"
    )


def load_line() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: {:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())


# The per-object profile ---------------------------------------------------------------------


@dataclass(slots=True)
class Step:
    wall: float = 0.0
    cpu: float = 0.0  # this process: the scan's thread and moto's server threads
    caller: float = 0.0  # this thread alone: what the scan itself spends


@contextlib.contextmanager
def timed(steps: dict[str, Step], name: str, share: float = 1.0) -> Iterator[None]:
    wall, cpu, caller = time.perf_counter(), time.process_time(), time.thread_time()
    yield
    steps[name] = Step(
        (time.perf_counter() - wall) * share,
        (time.process_time() - cpu) * share,
        (time.thread_time() - caller) * share,
    )


def profile(count: int, url: str, root: Path) -> None:
    """One object's cost split into its steps, one object at a time in this process. CPU
    time, not wall time, is what counts on a shared machine; the S3 server's threads run in
    this process, so a read's CPU splits into the client's (this thread) and the server's."""
    from vigil.screening.backlog.chunk_matching import match_chunk
    from vigil.screening.backlog.chunks import Chunk
    from vigil.screening.backlog.fingerprint_store import FingerprintStore
    from vigil.screening.backlog.objects import ObjectRef
    from vigil.screening.backlog.source_uri import open_source
    from vigil.screening.live_index import LiveIndex, index_root
    from vigil.screening.matcher import Matcher

    source = open_source(f"s3://{BUCKET}/")
    steps: dict[str, Step] = {}
    listing = list(source.objects())  # once untimed: the client's first request sets up
    with timed(steps, "list", count / len(listing)):
        listing = list(source.objects())  # the whole bucket: a page holds 1,000 keys
    objects = [ref for ref in listing[:count] if isinstance(ref, ObjectRef)]
    with timed(steps, "read"):
        datas = [source.read(ref, 256 << 20) for ref in objects]
    with timed(steps, "decode+hash"):
        prints = [
            fingerprint_bytes(data, FingerprintOptions(), name=ref.identity)
            for ref, data in zip(objects, datas, strict=True)
        ]
    with (
        open_database(url) as database,
        LiveIndex.open(database, index_root(root / "profile")) as live,
        timed(steps, "match"),
    ):
        result = match_chunk(Matcher(live), Chunk(1, tuple(objects)), prints)
    part_of_match: dict[str, Step] = {}
    with (
        open_database(url) as database,
        LiveIndex.open(database, index_root(root / "profile")) as live,
        timed(part_of_match, "freshness"),
    ):
        for _ in objects:
            live.ensure_current()  # what screening each object asks first: one query
    with timed(steps, "parquet write"):
        FingerprintStore(root / "profile" / "store").write_part(1, result.rows())
    count = len(objects)
    print(f"profile: {count:,} objects one by one in this process (listing: per object)")
    for name, step in steps.items():
        cpu, caller, wall = (value / count * 1000 for value in (step.cpu, step.caller, step.wall))
        print(
            f"  {name}: CPU {cpu:.2f} ms/object (the scan's thread {caller:.2f}, "
            f"S3 server threads {max(0.0, cpu - caller):.2f}); wall {wall:.2f}"
        )
    query = part_of_match["freshness"].caller / count * 1000
    print(f"  of which the freshness query (one per object): {query:.2f} ms/object")
    mine = sum(step.caller for step in steps.values())
    print(
        f"  total of the scan's thread: CPU {mine / count * 1000:.2f} ms/object: "
        f"{count / mine:,.0f} objects/s a core"
    )


# Main ---------------------------------------------------------------------------------------


def main(arguments: argparse.Namespace) -> int:
    print(f"machine: {describe()}")
    print(f"load before: {load_line()}")
    with (
        tempfile.TemporaryDirectory(prefix="bench-backlog-") as folder,
        loopback_s3() as endpoint,
    ):
        root = Path(folder)
        environment = {k: v for k, v in os.environ.items() if k not in UNSET}
        environment |= fake_aws_environment(endpoint, root)
        os.environ.update(environment)
        for name in UNSET:
            os.environ.pop(name, None)
        uploaded = upload(arguments.objects, arguments.listed_every, endpoint)
        sizes = uploaded.sizes
        print(
            f"objects: {len(sizes):,} benign variants of {len(list(CORPUS.iterdir()))} corpus "
            f"images in moto's S3 server on 127.0.0.1, {sum(sizes) / MB:,.0f} MB, size min "
            f"{min(sizes) / 1000:.1f} KB / median {statistics.median(sizes) / 1000:.1f} KB / "
            f"max {max(sizes) / 1000:.1f} KB; made and uploaded in {uploaded.seconds:.1f} s "
            "(not timed)"
        )
        with fresh_database(arguments.database, root, "backlog") as url:
            import_list(url, uploaded, arguments.noise_entries, root)
            print(
                f"database: {arguments.database}; list: {len(uploaded.listed):,} PDQ hashes of "
                f"objects + {arguments.noise_entries:,} random PDQ entries, distance 31"
            )
            results = []
            for spec in arguments.runs:
                result = run_in_child(spec, url, root, environment)
                print_run(spec, result, len(uploaded.keys))
                results.append(result)
            print_ratio(arguments.runs, results)
            ok = compare(arguments.runs, results, uploaded)
            if arguments.profile:
                profile(min(arguments.profile, len(uploaded.keys)), url, root)
    print(f"load after: {load_line()}")
    return 0 if ok else 1


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--runs",
        type=lambda text: [RunSpec.parse(part) for part in text.split(",")],
        default=[RunSpec("local", 2), RunSpec("ray", 2)],
        help="comma-separated local:N / ray:N; the first is the reference for rows and matches",
    )
    parser.add_argument("--listed-every", type=int, default=250)
    parser.add_argument("--noise-entries", type=int, default=2_000)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-database", help=argparse.SUPPRESS)
    parser.add_argument("--child-data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--child-answer", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    parsed = parse()
    if parsed.child:
        child_main(parsed)
        sys.exit(0)
    sys.exit(main(parsed))
