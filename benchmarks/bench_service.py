"""Screening service throughput: 1080p JPEG uploads over HTTP, and hash-only batches, against
a one-million-entry PDQ list, end to end through ``vigil serve``.

    python benchmarks/bench_service.py [--workers 2] [--concurrency 8] [--duration 30]
        [--batch 100] [--images 200] [--entries 1000000] [--clients 1] [--keep]
    python benchmarks/bench_service.py --prepare-only   # build the cached data, stop
    python benchmarks/bench_service.py --import-only    # ... and time the list import
    python benchmarks/bench_service.py --keep; ... --data-dir DIR   # skip the import

Targets (issue 4): at least 100 uploads/s with p99 latency under 250 ms, and at least 2,000
hash-only lookups/s. The reference is the target itself: there is no other service to run
the same requests against, so the ratios printed are measured/target (and target/p99).

Each run uses a fresh data directory (embedded SQLite plus the index), created with
``vigil lists create`` and ``vigil lists import`` (timed), a new evidence master key and a new
API key; ``VIGIL_*`` variables of the calling shell are not passed on, so the service runs on
its defaults, except that the flood guard's hourly floor is raised (see service_env). Data
(benchmarks/service_data.py) is cached in benchmarks/.cache/service.

Load is closed-loop: C requests are always in flight, each client sending its next request
when one returns, for a warm-up and then the measured window; only requests that finish in
the window count. The clients run in their own processes (``--clients``) on the same two
cores as the server, so the CPU each side used in the window is printed: a client using a
large share is load the server did not get. The server and its workers run in their own
process group, which is stopped on exit, Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import numpy as np

from benchmarks.machine import describe
from benchmarks.service_data import (
    UploadImage,
    list_files,
    query_hashes,
    sizes_summary,
    upload_images,
)

TARGET_UPLOADS = 100.0
TARGET_P99_S = 0.250
TARGET_LOOKUPS = 2000.0
LIST_NAME = "bench-pdq"
KEY_FILE = "bench-master-key"
RATE_LIMIT = 10_000_000  # requests a minute
ACCOUNTS = 50  # uploads spread over this many account ids
QUERY_POOL = 100_000  # distinct hashes the hash-only phase cycles through
REQUEST_TIMEOUT_S = 60.0
HEALTH_TIMEOUT_S = 120.0
INDEX_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 15.0
CHILD_START_S = 1.0
ERROR_EXAMPLES = 5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def vigil_command() -> str:
    beside = Path(sys.executable).with_name("vigil")
    found = str(beside) if beside.exists() else shutil.which("vigil")
    if found is None:
        raise SystemExit("the `vigil` command is not installed (pip install -e .)")
    return found


# --- the service under test ------------------------------------------------------------------


def service_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env["VIGIL_DATA_DIR"] = str(data_dir)
    env["VIGIL_EVIDENCE__MASTER_KEY"] = master_key(data_dir)
    # Every benchmark match lands on the same few entries, exactly the surge the flood guard
    # quarantines (after 50 an hour), which would silence them mid-run; real matches spread
    # over many entries. The guard stays on, so its bookkeeping is still measured.
    env["VIGIL_FLOOD_GUARD__MIN_MATCHES"] = str(10**9)
    return env


def master_key(data_dir: Path) -> str:
    """A throwaway key for this data directory's evidence, kept beside it (owner-only) so
    that ``--data-dir`` can reuse a kept directory."""
    path = data_dir / KEY_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(base64.b64encode(secrets.token_bytes(32)).decode())
    return path.read_text(encoding="ascii").strip()


def run_vigil(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [vigil_command(), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1):  # 1: an import rejected some records, reported below
        raise SystemExit(
            f"`vigil {args[0]} {args[1]}` failed ({done.returncode}):\n"
            f"{done.stderr.strip()[-2000:]}"
        )
    return done


def import_list(env: dict[str, str], randoms: Path, known: Path) -> float:
    """Create the list and import both files; returns the wall time of the big import."""
    run_vigil(env, "lists", "create", LIST_NAME, "--description", "benchmark: random PDQ")
    start = time.perf_counter()
    import_file(env, randoms, "--format", "text", "--signal-type", "pdq")
    elapsed = time.perf_counter() - start
    import_file(env, known, "--format", "csv")
    return elapsed


def import_file(env: dict[str, str], path: Path, *options: str) -> None:
    done = run_vigil(env, "lists", "import", LIST_NAME, str(path), *options)
    report = [line for line in done.stdout.splitlines() if line.strip()]
    print("  " + "\n  ".join(report[:6]))
    if done.returncode:
        print("  WARNING: the import rejected records (above)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_server(
    env: dict[str, str], port: int, workers: int, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``vigil serve`` in its own session, so Ctrl-C reaches only us and one signal to the
    group reaches every worker; stopped whatever happens."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                vigil_command(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_server(process)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_TIMEOUT_S)
    # Workers can outlive their parent; whatever is left of the group is killed.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < HEALTH_TIMEOUT_S:
        if process.poll() is not None:
            raise SystemExit(f"vigil serve exited with {process.returncode}:\n{log_tail(log_path)}")
        with contextlib.suppress(httpx.HTTPError, ValueError):
            reply = httpx.get(f"{base_url}/health", timeout=2.0)
            if reply.status_code == 200 and reply.json().get("status") == "ok":
                return time.perf_counter() - start
        time.sleep(0.2)
    raise SystemExit(f"/health not ready after {HEALTH_TIMEOUT_S:.0f} s:\n{log_tail(log_path)}")


def create_token(env: dict[str, str]) -> str:
    # A high per-key rate limit: the benchmark measures the service, not its throttle.
    done = run_vigil(
        env,
        "admin",
        "create-api-key",
        "bench",
        "--scope",
        "screen",
        "--rate-limit",
        str(RATE_LIMIT),
        "--json",
    )
    try:
        token = json.loads(done.stdout)["token"]
    except (ValueError, KeyError, TypeError) as exc:
        # The output holds the secret: say what was wrong with it, never print it.
        raise SystemExit(f"create-api-key --json printed no JSON with a token ({exc!r})") from None
    return str(token)


def wait_index(base_url: str, token: str, listed_pdq: str) -> float | None:
    """Seconds until a listed hash is flagged: /health may answer before the index is
    loaded, and a benchmark of an empty index would flatter the service."""
    start = time.perf_counter()
    body = {"items": [{"content_id": "bench-readiness", "hashes": {"pdq": listed_pdq}}]}
    last = "no reply"
    while time.perf_counter() - start < INDEX_TIMEOUT_S:
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
            reply = httpx.post(
                f"{base_url}/v1/screen/hashes",
                json=body,
                timeout=10.0,
                headers={"Authorization": f"Bearer {token}"},
            )
            last = f"HTTP {reply.status_code}: {reply.text[:200]}"
            if reply.status_code == 200 and reply.json()["results"][0]["verdict"] != "no_match":
                return time.perf_counter() - start
        time.sleep(0.5)
    print(
        f"  WARNING: a listed hash was not flagged within {INDEX_TIMEOUT_S:.0f} s "
        f"(last reply {last}); measuring anyway"
    )
    return None


def log_tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def group_cpu_seconds(group: int) -> float:
    """CPU time of every live process in the server's process group."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:  # pgrp
                total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLOCK_TICKS


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS, sum(values[:8]) / CLOCK_TICKS


# --- load generation (in client processes) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadJob:
    kind: str  # "upload" or "hashes"
    base_url: str
    token: str
    concurrency: int
    client: int
    clients: int
    start_at: float  # time.monotonic(), shared by all processes on Linux
    measure_from: float
    stop_at: float
    run_id: str
    images: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()
    batch: int = 100


@dataclass(slots=True)
class ClientResult:
    latencies: list[float] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)
    matched_images: Counter[int] = field(default_factory=Counter)
    sent_images: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    completed: int = 0
    bytes_sent: int = 0
    cpu_seconds: float = 0.0


def run_client(job: LoadJob) -> ClientResult:
    return asyncio.run(drive(job))


async def drive(job: LoadJob) -> ClientResult:
    payloads = [Path(p).read_bytes() for p in job.images]
    result = ClientResult()
    numbers = itertools.count(job.client, job.clients)  # unique across client processes
    limits = httpx.Limits(
        max_connections=job.concurrency, max_keepalive_connections=job.concurrency
    )
    headers = {"Authorization": f"Bearer {job.token}"}
    async with httpx.AsyncClient(
        base_url=job.base_url, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT_S
    ) as client:
        await asyncio.sleep(max(0.0, job.start_at - time.monotonic()))

        async def keep_one_in_flight() -> None:
            while time.monotonic() < job.stop_at:
                n = next(numbers)
                if job.kind == "upload":
                    await send_upload(client, job, n, payloads, result)
                else:
                    await send_hashes(client, job, n, result)

        cpu_task = asyncio.create_task(cpu_in_window(job))
        await asyncio.gather(*(keep_one_in_flight() for _ in range(job.concurrency)))
        result.cpu_seconds = await cpu_task
    return result


async def cpu_in_window(job: LoadJob) -> float:
    await asyncio.sleep(max(0.0, job.measure_from - time.monotonic()))
    start = time.process_time()
    await asyncio.sleep(max(0.0, job.stop_at - time.monotonic()))
    return time.process_time() - start


async def send_upload(
    client: httpx.AsyncClient, job: LoadJob, n: int, payloads: list[bytes], result: ClientResult
) -> None:
    image = n % len(payloads)  # n is unique across clients: a global round robin
    data = {"content_id": f"{job.run_id}-u{n}", "account_id": f"bench-account-{n % ACCOUNTS}"}
    files = {"file": (f"upload-{n}.jpg", payloads[image], "image/jpeg")}
    started = time.monotonic()
    reply, error = await post(client, "/v1/screen", data=data, files=files)
    if not in_window(job, time.monotonic()):
        return
    if reply is not None and error is None:
        error = record_verdicts(reply, result, [image])
    record(result, started, error)
    result.bytes_sent += len(payloads[image])


async def send_hashes(
    client: httpx.AsyncClient, job: LoadJob, n: int, result: ClientResult
) -> None:
    first = (n * job.batch) % len(job.hashes)
    items = [
        {
            "content_id": f"{job.run_id}-h{n}-{k}",
            "hashes": {"pdq": job.hashes[(first + k) % len(job.hashes)]},
        }
        for k in range(job.batch)
    ]
    started = time.monotonic()
    reply, error = await post(client, "/v1/screen/hashes", json={"items": items})
    if not in_window(job, time.monotonic()):
        return
    if reply is not None and error is None:
        error = record_verdicts(reply, result, None, expected=job.batch)
    record(result, started, error)


async def post(
    client: httpx.AsyncClient, url: str, **request: Any
) -> tuple[Any | None, str | None]:
    try:
        reply = await client.post(url, **request)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:200]
    if reply.status_code != 200:
        return None, f"HTTP {reply.status_code}: {reply.text[:200]}"
    try:
        return reply.json(), None
    except ValueError:
        return None, f"HTTP 200 with a body that is not JSON: {reply.text[:200]}"


def in_window(job: LoadJob, finished: float) -> bool:
    return job.measure_from <= finished <= job.stop_at


def record_verdicts(
    body: Any, result: ClientResult, images: list[int] | None, expected: int = 1
) -> str | None:
    """Count the verdicts; a reply that breaks the contract is an error, not a verdict."""
    try:
        verdicts = (
            [str(body["verdict"])]
            if images is not None
            else [str(item["verdict"]) for item in body["results"]]
        )
    except (KeyError, TypeError):
        return f"HTTP 200 without verdict(s): {json.dumps(body)[:200]}"
    if len(verdicts) != expected:
        return f"HTTP 200 with {len(verdicts)} results for {expected} items"
    result.verdicts.update(verdicts)
    for image in images or ():
        result.sent_images[image] += 1
        if verdicts[0] != "no_match":
            result.matched_images[image] += 1
    return None


def record(result: ClientResult, started: float, error: str | None) -> None:
    if error is not None:
        result.errors[error] += 1
        return
    result.latencies.append(time.monotonic() - started)
    result.completed += 1


def merge(results: list[ClientResult]) -> ClientResult:
    total = ClientResult()
    for part in results:
        total.latencies += part.latencies
        for name in ("verdicts", "matched_images", "sent_images", "errors"):
            getattr(total, name).update(getattr(part, name))
        total.completed += part.completed
        total.bytes_sent += part.bytes_sent
        total.cpu_seconds += part.cpu_seconds
    return total


# --- phases ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseOutcome:
    result: ClientResult
    duration: float
    server_cpu: float
    machine_busy: float
    machine_total: float

    def quantile_ms(self, q: float) -> float:
        if not self.result.latencies:
            return float("nan")
        return float(np.quantile(np.asarray(self.result.latencies), q)) * 1000

    def cpu_line(self) -> str:
        cores = os.cpu_count() or 1

        def share(seconds: float) -> str:
            return f"{100 * seconds / self.duration:.0f}%"

        other = self.machine_busy - self.server_cpu - self.result.cpu_seconds
        return (
            f"CPU in the window ({cores} cores = {100 * cores}%): server "
            f"{share(self.server_cpu)}, load clients {share(self.result.cpu_seconds)}, "
            f"everything else "
            f"{share(max(0.0, other))}, idle "
            f"{share(max(0.0, self.machine_total - self.machine_busy))}"
        )


def run_phase(pool: Any, jobs: list[LoadJob], group: int) -> PhaseOutcome:
    pending = pool.map_async(run_client, jobs)
    first = jobs[0]
    time.sleep(max(0.0, first.measure_from - time.monotonic()))
    server_before, machine_before = group_cpu_seconds(group), machine_busy_seconds()
    time.sleep(max(0.0, first.stop_at - time.monotonic()))
    server_after, machine_after = group_cpu_seconds(group), machine_busy_seconds()
    results = pending.get(REQUEST_TIMEOUT_S * 2 + first.stop_at - time.monotonic())
    return PhaseOutcome(
        merge(results),
        first.stop_at - first.measure_from,
        server_after - server_before,
        machine_after[0] - machine_before[0],
        machine_after[1] - machine_before[1],
    )


def phase_jobs(
    kind: str, args: argparse.Namespace, base_url: str, token: str, **payload: Any
) -> list[LoadJob]:
    start_at = time.monotonic() + CHILD_START_S
    measure_from = start_at + args.warmup
    shares = [
        args.concurrency // args.clients + (i < args.concurrency % args.clients)
        for i in range(args.clients)
    ]
    return [
        LoadJob(
            kind,
            base_url,
            token,
            share,
            i,
            args.clients,
            start_at,
            measure_from,
            measure_from + args.duration,
            secrets.token_hex(4),
            batch=args.batch,
            **payload,
        )
        for i, share in enumerate(shares)
        if share
    ]


def report_errors(result: ClientResult) -> None:
    for message, count in result.errors.most_common(ERROR_EXAMPLES):
        print(f"  error x{count}: {message}")


def verdict_text(counts: Counter[str]) -> str:
    names = ["match", "review", "no_match", *sorted(set(counts) - {"match", "review", "no_match"})]
    return ", ".join(f"{name} {counts[name]:,}" for name in names)


def passed(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def upload_phase(
    pool: Any,
    args: argparse.Namespace,
    base_url: str,
    token: str,
    images: list[UploadImage],
    group: int,
) -> list[str]:
    print(
        f"\n== uploads: concurrency {args.concurrency} over {args.clients} client "
        f"process(es), {args.warmup:.0f} s warm-up, {args.duration:.0f} s measured =="
    )
    jobs = phase_jobs(
        "upload", args, base_url, token, images=tuple(str(image.path) for image in images)
    )
    outcome = run_phase(pool, jobs, group)
    result = outcome.result
    rate = result.completed / outcome.duration
    p99 = outcome.quantile_ms(0.99)
    lines = [
        f"uploads/s {rate:,.1f} ({result.completed:,} in {outcome.duration:.0f} s, "
        f"{result.bytes_sent / outcome.duration / 1e6:.1f} MB/s), errors "
        f"{sum(result.errors.values()):,}; ratio to target: {rate / TARGET_UPLOADS:.2f}x "
        f"(target >= {TARGET_UPLOADS:.0f}/s) {passed(rate >= TARGET_UPLOADS)}",
        f"latency ms: p50 {outcome.quantile_ms(0.5):.0f}, p95 {outcome.quantile_ms(0.95):.0f}, "
        f"p99 {p99:.0f}, max {outcome.quantile_ms(1.0):.0f}; p99 ratio to target: "
        f"{TARGET_P99_S * 1000 / p99:.2f}x (target p99 <= {TARGET_P99_S * 1000:.0f} ms) "
        f"{passed(p99 <= TARGET_P99_S * 1000)}",
        f"verdicts: {verdict_text(result.verdicts)}; {match_check(result, images)}",
        outcome.cpu_line(),
    ]
    print("\n".join(lines))
    report_errors(result)
    return lines


def match_check(result: ClientResult, images: list[UploadImage]) -> str:
    """Uploads of images within the match distance of a listed hash should be flagged, the
    others not: a fast service that misses matches is not a result."""
    expected = sum(n for i, n in result.sent_images.items() if images[i].expect_match)
    flagged = sum(n for i, n in result.matched_images.items() if images[i].expect_match)
    stray = sum(n for i, n in result.matched_images.items() if not images[i].expect_match)
    return (
        f"uploads of listed images flagged {flagged:,} of {expected:,}, "
        f"other uploads flagged {stray:,}"
    )


def hash_phase(
    pool: Any,
    args: argparse.Namespace,
    base_url: str,
    token: str,
    images: list[UploadImage],
    group: int,
) -> list[str]:
    print(
        f"\n== hash-only: batches of {args.batch}, concurrency {args.concurrency} over "
        f"{args.clients} client process(es), {args.duration:.0f} s measured =="
    )
    hashes = tuple(query_hashes(QUERY_POOL, images, seed=17))
    jobs = phase_jobs("hashes", args, base_url, token, hashes=hashes)
    outcome = run_phase(pool, jobs, group)
    result = outcome.result
    rate = result.completed * args.batch / outcome.duration
    lines = [
        f"lookups/s {rate:,.0f} ({result.completed:,} batches of {args.batch} in "
        f"{outcome.duration:.0f} s), errors {sum(result.errors.values()):,}; ratio to target: "
        f"{rate / TARGET_LOOKUPS:.2f}x (target >= {TARGET_LOOKUPS:,.0f}/s) "
        f"{passed(rate >= TARGET_LOOKUPS)}",
        f"per-batch latency ms: p50 {outcome.quantile_ms(0.5):.0f}, "
        f"p99 {outcome.quantile_ms(0.99):.0f}, max {outcome.quantile_ms(1.0):.0f}",
        f"verdicts: {verdict_text(result.verdicts)} (1 in 20 queries is a listed image's "
        f"hash with 8 bits flipped, the rest random)",
        outcome.cpu_line(),
    ]
    print("\n".join(lines))
    report_errors(result)
    return lines


# --- main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="vigil serve --workers")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds a phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first")
    parser.add_argument("--batch", type=int, default=100, help="hashes per hash-only request")
    parser.add_argument("--images", type=int, default=200, help="distinct upload JPEGs")
    parser.add_argument("--entries", type=int, default=1_000_000, help="PDQ hashes listed")
    parser.add_argument(
        "--clients",
        type=int,
        default=2,
        help="load processes: one asyncio client cannot saturate 2 cores",
    )
    parser.add_argument("--phases", default="uploads,hashes", help="uploads, hashes or both")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument(
        "--data-dir", type=Path, help="reuse a data directory kept with --keep (no list import)"
    )
    parser.add_argument("--prepare-only", action="store_true", help="build the cache, stop")
    parser.add_argument(
        "--import-only", action="store_true", help="build the cache and time the list import, stop"
    )
    args = parser.parse_args()
    if (
        min(args.workers, args.concurrency, args.clients, args.batch, args.images) < 1
        or args.batch > 1000
        or args.duration <= 0
    ):
        parser.error("workers, concurrency, clients, images >= 1; batch 1-1000; duration > 0")
    return args


def prepare(args: argparse.Namespace) -> tuple[list[UploadImage], tuple[Path, Path]]:
    start = time.perf_counter()
    images = upload_images(args.images)
    files = list_files(args.entries, images)
    print(f"uploads: {sizes_summary(images)}")
    print(
        f"list files: {files[0].name} ({files[0].stat().st_size / 1e6:.0f} MB) + "
        f"{files[1].name}, {args.entries:,} PDQ hashes in all (data ready in "
        f"{time.perf_counter() - start:.1f} s; cached after the first run)"
    )
    return images, files


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up on kill too
    print(describe())
    print(f"load average at start: {os.getloadavg()[0]:.2f} (other jobs skew timings)")
    images, files = prepare(args)
    if args.prepare_only:
        return
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="vigil-bench-service-"))
    try:
        summary = benchmark(args, images, files, data_dir)
    finally:
        if args.keep or args.data_dir:
            print(f"data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    if summary:
        print("\n---- summary (for docs/benchmarks.md) ----")
        print("\n".join(summary))
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


def benchmark(
    args: argparse.Namespace, images: list[UploadImage], files: tuple[Path, Path], data_dir: Path
) -> list[str]:
    env = service_env(data_dir)
    if args.data_dir:
        import_line = f"list: reused from {data_dir} (import not timed)"
    else:
        print(f"\nimporting into a fresh data directory {data_dir} (SQLite):")
        imported = import_list(env, *files)
        count = args.entries - sum(image.listed for image in images)
        import_line = (
            f"list: {args.entries:,} PDQ entries; `vigil lists import` of the "
            f"{count:,} random ones (text file) took {imported:.1f} s "
            f"({count / imported:,.0f} records/s)"
        )
    print(import_line)
    if args.import_only:
        return [describe(), import_line]
    port = args.port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "serve.log"
    with running_server(env, port, args.workers, log_path) as server:
        healthy = wait_healthy(base_url, server, log_path)
        token = create_token(env)
        listed = next(image.pdq for image in images if image.listed)
        ready = wait_index(base_url, token, listed)
        ready_text = f"{healthy + ready:.1f} s" if ready is not None else "NOT CONFIRMED"
        server_line = (
            f"server: vigil serve --workers {args.workers}; /health after "
            f"{healthy:.1f} s, a listed hash flagged after {ready_text}"
        )
        print(server_line)
        summary = [describe(), import_line, server_line]
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(args.clients) as pool:
            if "uploads" in args.phases:
                summary += [
                    f"uploads ({sizes_summary(images)}), concurrency "
                    f"{args.concurrency}, {args.clients} client process(es):"
                ]
                summary += [
                    "  " + line
                    for line in upload_phase(pool, args, base_url, token, images, server.pid)
                ]
            if "hashes" in args.phases:
                summary += [f"hash-only (batches of {args.batch}), concurrency {args.concurrency}:"]
                summary += [
                    "  " + line
                    for line in hash_phase(pool, args, base_url, token, images, server.pid)
                ]
        if server.poll() is not None:
            print(f"WARNING: the server exited during the run:\n{log_tail(log_path)}")
    return summary


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: the server was stopped")
