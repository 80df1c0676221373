"""Clearinghouse intake throughput: complete CyberTipline-style reports (submit, three 1080p
JPEG uploads, three fileinfo, finish) against ``vigil serve`` on PostgreSQL.

    python benchmarks/bench_intake.py [--workers 2] [--concurrency 8] [--clients 2]
        [--duration 30] [--warmup 5] [--images 200] [--keep-database]

Target (issue 7): at least 40 complete reports a second sustained on this 2-core machine,
with every file hashed and matched (known, seen or new) before ``/finish`` returns. There is
no other clearinghouse to run the same requests against, so the ratio printed is
measured/target.

Each run creates a fresh PostgreSQL database at 127.0.0.1:5432 (user root, else postgres;
trust auth), migrates it with ``vigil db upgrade`` and drops it at the end, also on Ctrl-C or
SIGTERM. A small list (``vigil lists create/import``) holds the PDQ hashes of one upload image
in twenty with a classification, so copies of those are ``known``; every image is uploaded
again and again (a global round robin over the cached images of benchmarks/service_data.py),
so later copies are ``seen``, the first copy of an unlisted image ``new``, as in real traffic.
The server (``vigil serve --workers N`` with the clearinghouse enabled, a throwaway evidence
master key, ``VIGIL_*`` of the calling shell not passed on) and its load clients are started
and measured as in bench_service.py: closed loop, C report transactions in flight over
``--clients`` processes, only transactions that finish in the window count.

After the run the database is read back: every file of every finished report must have a
verdict; the counts and the share known+seen (the dashboard's headline figure) are printed,
and the verdicts are checked against the images (copies of listed images must be known).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import itertools
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import numpy as np
import sqlalchemy
from sqlalchemy.engine import make_url

from benchmarks.bench_service import (
    CLOCK_TICKS,
    ERROR_EXAMPLES,
    free_port,
    group_cpu_seconds,
    log_tail,
    machine_busy_seconds,
    master_key,
    passed,
    run_vigil,
    running_server,
    vigil_command,
    wait_healthy,
)
from benchmarks.machine import describe
from benchmarks.service_data import CLASSIFICATION, UploadImage, sizes_summary, upload_images
from vigil.reporting.cybertipline.schema import validate

TARGET_REPORTS = 40.0  # complete reports a second
FILES_PER_REPORT = 3
ADMIN_URLS = (
    "postgresql+psycopg://root@127.0.0.1:5432/postgres",
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
)
KNOWN_LIST = "bench-known"
COMPANY = "Bench Platform"
USERNAME = "bench-platform"
REPORTED_USERS = 500  # reports name one of this many users: some entities link, as in life
REQUEST_TIMEOUT_S = 60.0
READY_TIMEOUT_S = 60.0
CHILD_START_S = 1.0
ENDPOINTS = ("submit", "upload", "fileinfo", "finish")


# --- documents -------------------------------------------------------------------------------


def report_document(n: int) -> bytes:
    """A minimal valid <report> (the documented example's shape) naming a reported user."""
    user = n % REPORTED_USERS
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<report>'
        "<incidentSummary><incidentType>Child Pornography (possession, manufacture, and "
        "distribution)</incidentType><incidentDateTime>2024-05-01T12:00:00Z</incidentDateTime>"
        "</incidentSummary>"
        f"<internetDetails><webPageIncident><url>https://bench.example/post/{n}</url>"
        "</webPageIncident></internetDetails>"
        "<reporter><reportingPerson><email>trust@bench.example</email></reportingPerson>"
        "</reporter>"
        f"<personOrUserReported><personOrUserReportedPerson><email>user{user}@mail.example"
        f"</email></personOrUserReportedPerson><espIdentifier>{100000 + user}</espIdentifier>"
        f"<screenName>bench_user_{user}</screenName></personOrUserReported>"
        "</report>"
    ).encode()


def file_details_document(report_id: str, file_id: str, n: int, k: int) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<fileDetails>'
        f"<reportId>{report_id}</reportId><fileId>{file_id}</fileId>"
        f"<originalFileName>photo-{n}-{k}.jpg</originalFileName>"
        f"<ipCaptureEvent><ipAddress>198.51.100.{n % 250 + 1}</ipAddress>"
        "<eventName>Upload</eventName><dateTime>2024-05-01T12:00:00Z</dateTime>"
        "</ipCaptureEvent></fileDetails>"
    ).encode()


def check_documents() -> None:
    """The benchmark's documents must pass the intake's own XSD, or it measures refusals."""
    for document, root in (
        (report_document(1), "report"),
        (file_details_document("1", "f" * 32, 1, 0), "fileDetails"),
    ):
        problems = validate(document, root=root)
        if problems:
            raise SystemExit(f"the benchmark's <{root}> is invalid: {problems[0]}")


# --- PostgreSQL ------------------------------------------------------------------------------


def admin_engine() -> sqlalchemy.Engine:
    failures = []
    for url in ADMIN_URLS:
        engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            return engine
        except sqlalchemy.exc.DBAPIError as exc:
            failures.append(f"{url}: {str(exc.orig).strip()}")
            engine.dispose()
    raise SystemExit("PostgreSQL unreachable: " + " | ".join(failures))


@contextlib.contextmanager
def fresh_database(keep: bool) -> Iterator[str]:
    """A new database for this run, dropped on exit (error, Ctrl-C and SIGTERM included)."""
    engine = admin_engine()
    name = f"vigil_bench_{secrets.token_hex(5)}"
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(str(engine.url)).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"database kept: {name}")
        else:
            with engine.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def postgres_version(url: str) -> str:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("SHOW server_version").scalar())
    finally:
        engine.dispose()


def postgres_cpu_seconds() -> float:
    """CPU time of every live PostgreSQL process (the server is not in our process group)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            head, rest = stat.read_text().rsplit(")", 1)
            if head.split("(", 1)[1].startswith("postgres"):
                fields = rest.split()
                total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


# --- setup through the CLI -------------------------------------------------------------------


def intake_env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env["VIGIL_DATA_DIR"] = str(data_dir)
    env["VIGIL_DATABASE_URL"] = database_url
    env["VIGIL_EVIDENCE__MASTER_KEY"] = master_key(data_dir)
    env["VIGIL_CLEARINGHOUSE__ENABLED"] = "true"
    return env


def prepare_database(env: dict[str, str], images: list[UploadImage], data_dir: Path) -> str:
    run_vigil(env, "db", "upgrade")
    listed = [(i, image.pdq) for i, image in enumerate(images) if image.listed]
    csv = data_dir / "known.csv"
    csv.write_text(
        "signal_type,signal,external_id,classification\n"
        + "".join(f"pdq,{pdq},bench-upload-{i:04d},{CLASSIFICATION}\n" for i, pdq in listed),
        encoding="ascii",
    )
    run_vigil(env, "lists", "create", KNOWN_LIST, "--description", "benchmark: known images")
    done = run_vigil(env, "lists", "import", KNOWN_LIST, str(csv), "--format", "csv")
    if done.returncode:
        raise SystemExit(f"the known list import rejected records:\n{done.stdout[-2000:]}")
    return f"known list: {len(listed)} PDQ hashes of the upload images, classified"


def add_company(env: dict[str, str]) -> str:
    password = secrets.token_urlsafe(24)
    done = subprocess.run(
        [
            vigil_command(),
            "clearinghouse",
            "add-company",
            COMPANY,
            "--username",
            USERNAME,
            "--password-stdin",
        ],
        env=env,
        input=password + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"add-company failed ({done.returncode}): {done.stderr[-2000:]}")
    token = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
    return f"Basic {token}"


def wait_intake(base_url: str, authorization: str) -> float:
    start = time.perf_counter()
    last = "no reply"
    while time.perf_counter() - start < READY_TIMEOUT_S:
        with contextlib.suppress(httpx.HTTPError):
            reply = httpx.get(
                f"{base_url}/ispws/status", timeout=10.0, headers={"Authorization": authorization}
            )
            last = f"HTTP {reply.status_code}: {reply.text[:200]}"
            if reply.status_code == 200:
                return time.perf_counter() - start
        time.sleep(0.3)
    raise SystemExit(f"/ispws/status not ready after {READY_TIMEOUT_S:.0f} s ({last})")


# --- load generation (in client processes) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadJob:
    base_url: str
    authorization: str
    concurrency: int
    client: int
    clients: int
    start_at: float  # time.monotonic(), shared by all processes on Linux
    measure_from: float
    stop_at: float
    images: tuple[str, ...]


@dataclass(slots=True)
class ClientResult:
    latencies: list[float] = field(default_factory=list)  # whole reports
    requests: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    completed: int = 0
    bytes_sent: int = 0
    cpu_seconds: float = 0.0


class Refused(Exception):
    """A reply that is not HTTP 200 with responseCode 0."""


def run_client(job: LoadJob) -> ClientResult:
    return asyncio.run(drive(job))


async def drive(job: LoadJob) -> ClientResult:
    payloads = [Path(p).read_bytes() for p in job.images]
    digests = [hashlib.md5(p, usedforsecurity=False).hexdigest() for p in payloads]
    result = ClientResult()
    numbers = itertools.count(job.client, job.clients)  # unique across client processes
    limits = httpx.Limits(
        max_connections=job.concurrency, max_keepalive_connections=job.concurrency
    )
    async with httpx.AsyncClient(
        base_url=job.base_url,
        limits=limits,
        headers={"Authorization": job.authorization},
        timeout=REQUEST_TIMEOUT_S,
    ) as client:
        await asyncio.sleep(max(0.0, job.start_at - time.monotonic()))

        async def keep_one_in_flight() -> None:
            while time.monotonic() < job.stop_at:
                await one_report(client, job, next(numbers), payloads, digests, result)

        cpu_task = asyncio.create_task(cpu_in_window(job))
        await asyncio.gather(*(keep_one_in_flight() for _ in range(job.concurrency)))
        result.cpu_seconds = await cpu_task
    return result


async def cpu_in_window(job: LoadJob) -> float:
    await asyncio.sleep(max(0.0, job.measure_from - time.monotonic()))
    start = time.process_time()
    await asyncio.sleep(max(0.0, job.stop_at - time.monotonic()))
    return time.process_time() - start


async def one_report(
    client: httpx.AsyncClient,
    job: LoadJob,
    n: int,
    payloads: list[bytes],
    digests: list[str],
    result: ClientResult,
) -> None:
    started = time.monotonic()
    sent = 0
    try:
        sent = await transaction(client, job, n, payloads, digests, result)
    except Refused as exc:
        if in_window(job, time.monotonic()):
            result.errors[str(exc)[:200]] += 1
        return
    if in_window(job, time.monotonic()):
        result.latencies.append(time.monotonic() - started)
        result.completed += 1
        result.bytes_sent += sent


async def transaction(
    client: httpx.AsyncClient,
    job: LoadJob,
    n: int,
    payloads: list[bytes],
    digests: list[str],
    result: ClientResult,
) -> int:
    """submit, the uploads (one after the other, as a reporting client sends them), their
    fileinfo, finish; returns the bytes uploaded."""
    xml = {"Content-Type": "text/xml; charset=utf-8"}
    answer = await call(client, job, result, "submit", content=report_document(n), headers=xml)
    report_id = text_of(answer, "reportId")
    file_ids, sent = [], 0
    for k in range(FILES_PER_REPORT):
        image = (n * FILES_PER_REPORT + k) % len(payloads)  # a global round robin
        files = {"file": (f"photo-{n}-{k}.jpg", payloads[image], "image/jpeg")}
        answer = await call(client, job, result, "upload", data={"id": report_id}, files=files)
        if text_of(answer, "hash") != digests[image]:
            raise Refused("upload answered with a different MD5")
        file_ids.append(text_of(answer, "fileId"))
        sent += len(payloads[image])
    for k, file_id in enumerate(file_ids):
        await call(
            client,
            job,
            result,
            "fileinfo",
            headers=xml,
            content=file_details_document(report_id, file_id, n, k),
        )
    answer = await call(client, job, result, "finish", data={"id": report_id})
    if [e.text for e in answer.iter("fileId")] != file_ids:
        raise Refused("finish answered with other file ids")
    return sent


async def call(
    client: httpx.AsyncClient, job: LoadJob, result: ClientResult, endpoint: str, **request: Any
) -> ElementTree.Element:
    started = time.monotonic()
    try:
        reply = await client.post(f"/ispws/{endpoint}", **request)
    except httpx.HTTPError as exc:
        raise Refused(f"{endpoint}: {type(exc).__name__}: {exc}") from None
    if in_window(job, time.monotonic()):
        result.requests[endpoint].append(time.monotonic() - started)
    try:
        answer = ElementTree.fromstring(reply.content)
    except ElementTree.ParseError:
        answer = None
    code = answer.findtext("responseCode") if answer is not None else None
    if reply.status_code != 200 or code != "0":
        raise Refused(
            f"{endpoint}: HTTP {reply.status_code}, responseCode {code}: {reply.text[:160]}"
        )
    return answer


def text_of(answer: ElementTree.Element, name: str) -> str:
    value = answer.findtext(name)
    if not value:
        raise Refused(f"an answer without <{name}>")
    return value.strip()


def in_window(job: LoadJob, finished: float) -> bool:
    return job.measure_from <= finished <= job.stop_at


def merge(results: list[ClientResult]) -> ClientResult:
    total = ClientResult()
    for part in results:
        total.latencies += part.latencies
        for endpoint, latencies in part.requests.items():
            total.requests[endpoint] += latencies
        total.errors.update(part.errors)
        total.completed += part.completed
        total.bytes_sent += part.bytes_sent
        total.cpu_seconds += part.cpu_seconds
    return total


# --- the measured phase ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    result: ClientResult
    duration: float
    server_cpu: float
    postgres_cpu: float
    machine_busy: float
    machine_total: float

    def share(self, seconds: float) -> str:
        return f"{100 * seconds / self.duration:.0f}%"

    def cpu_line(self) -> str:
        cores = os.cpu_count() or 1
        other = self.machine_busy - self.server_cpu - self.postgres_cpu - self.result.cpu_seconds
        return (
            f"CPU in the window ({cores} cores = {100 * cores}%): vigil serve "
            f"{self.share(self.server_cpu)}, PostgreSQL {self.share(self.postgres_cpu)}, "
            f"load clients {self.share(self.result.cpu_seconds)}, everything else "
            f"{self.share(max(0.0, other))}, idle "
            f"{self.share(max(0.0, self.machine_total - self.machine_busy))}"
        )

    def per_report_cpu_line(self) -> str:
        count = max(1, self.result.completed)
        return (
            f"CPU per report: vigil serve {1000 * self.server_cpu / count:.1f} ms, "
            f"PostgreSQL {1000 * self.postgres_cpu / count:.1f} ms, load clients "
            f"{1000 * self.result.cpu_seconds / count:.1f} ms"
        )


def quantiles_ms(values: list[float]) -> str:
    if not values:
        return "none"
    p50, p95, p99, top = (
        float(v) * 1000 for v in np.quantile(np.asarray(values), [0.5, 0.95, 0.99, 1.0])
    )
    return f"p50 {p50:.0f}, p95 {p95:.0f}, p99 {p99:.0f}, max {top:.0f}"


def run_load(
    args: argparse.Namespace,
    base_url: str,
    authorization: str,
    images: list[UploadImage],
    group: int,
) -> Outcome:
    start_at = time.monotonic() + CHILD_START_S
    measure_from = start_at + args.warmup
    stop_at = measure_from + args.duration
    shares = [
        args.concurrency // args.clients + (i < args.concurrency % args.clients)
        for i in range(args.clients)
    ]
    paths = tuple(str(image.path) for image in images)
    jobs = [
        LoadJob(
            base_url, authorization, share, i, args.clients, start_at, measure_from, stop_at, paths
        )
        for i, share in enumerate(shares)
        if share
    ]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        pending = pool.map_async(run_client, jobs)
        time.sleep(max(0.0, measure_from - time.monotonic()))
        before = (group_cpu_seconds(group), postgres_cpu_seconds(), machine_busy_seconds())
        time.sleep(max(0.0, stop_at - time.monotonic()))
        after = (group_cpu_seconds(group), postgres_cpu_seconds(), machine_busy_seconds())
        results = pending.get(REQUEST_TIMEOUT_S * 4 + stop_at - time.monotonic())
    return Outcome(
        merge(results),
        stop_at - measure_from,
        after[0] - before[0],
        after[1] - before[1],
        after[2][0] - before[2][0],
        after[2][1] - before[2][1],
    )


def load_lines(args: argparse.Namespace, outcome: Outcome) -> list[str]:
    result = outcome.result
    rate = result.completed / outcome.duration
    errors = sum(result.errors.values())
    requests = sum(len(v) for v in result.requests.values())
    lines = [
        f"reports/s {rate:.1f} ({result.completed:,} complete reports in "
        f"{outcome.duration:.0f} s, {FILES_PER_REPORT * rate:.0f} files/s, "
        f"{result.bytes_sent / outcome.duration / 1e6:.1f} MB/s uploaded), failed reports "
        f"{errors:,}; ratio to target: {rate / TARGET_REPORTS:.2f}x "
        f"(target >= {TARGET_REPORTS:.0f}/s) {passed(rate >= TARGET_REPORTS and not errors)}",
        f"per-report latency ms (8 requests in sequence): {quantiles_ms(result.latencies)}",
        f"requests {requests:,} ({requests / outcome.duration:.0f}/s): "
        + ", ".join(f"{name} {len(result.requests[name]):,}" for name in ENDPOINTS),
    ]
    lines += [f"  {name:<8} ms: {quantiles_ms(result.requests[name])}" for name in ENDPOINTS]
    lines += [outcome.cpu_line(), outcome.per_report_cpu_line()]
    return lines


# --- reading the verdicts back ---------------------------------------------------------------

VERDICT_QUERY = """
SELECT f.sha256, coalesce(f.verdict::text, 'none') AS verdict, count(*)
FROM intake_files f JOIN intake_reports r ON r.id = f.report_id
WHERE r.state = 'finished'
GROUP BY 1, 2
"""
STATE_QUERY = "SELECT state::text, count(*) FROM intake_reports GROUP BY 1"


def verdict_lines(database_url: str, images: list[UploadImage]) -> tuple[list[str], bool]:
    """Every file of every finished report must carry a verdict, and copies of listed images
    must be known (a fast intake that matches nothing is not a result)."""
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(VERDICT_QUERY).all()
            states = dict(connection.exec_driver_sql(STATE_QUERY).all())
    finally:
        engine.dispose()
    listed = {
        hashlib.sha256(image.path.read_bytes()).hexdigest(): image.expect_match for image in images
    }
    counts: Counter[str] = Counter()
    listed_known = listed_files = stray_known = 0
    for sha256, verdict, count in rows:
        counts[verdict] += count
        if listed.get(sha256):
            listed_files += count
            listed_known += count if verdict == "known" else 0
        elif verdict == "known":
            stray_known += count
    files = sum(counts.values())
    share = (counts["known"] + counts["seen"]) / files if files else 0.0
    ok = files > 0 and counts["none"] == 0 and listed_known == listed_files
    lines = [
        "reports in the database (warm-up and run): "
        + ", ".join(f"{state} {count:,}" for state, count in sorted(states.items())),
        f"files of finished reports {files:,}: known {counts['known']:,}, seen "
        f"{counts['seen']:,}, new {counts['new']:,}, without a verdict {counts['none']:,}; "
        f"known+seen {100 * share:.1f}% {passed(ok)}",
        f"copies of listed images known {listed_known:,} of {listed_files:,}, other files "
        f"known {stray_known:,}; new = first copies of {len(images)} images (round robin)",
    ]
    return lines, ok


# --- main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="vigil serve --workers")
    parser.add_argument("--concurrency", type=int, default=8, help="reports in flight")
    parser.add_argument("--clients", type=int, default=2, help="load processes")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first")
    parser.add_argument("--images", type=int, default=200, help="distinct upload JPEGs")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it")
    args = parser.parse_args()
    if (
        min(args.workers, args.concurrency, args.clients, args.images) < 1
        or args.duration <= 0
        or args.warmup < 0
    ):
        parser.error("workers, concurrency, clients, images >= 1; duration > 0; warmup >= 0")
    return args


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up on kill too
    check_documents()
    print(describe())
    print(f"load average at start: {os.getloadavg()[0]:.2f} (other jobs skew timings)")
    images = upload_images(args.images)
    print(f"uploads: {sizes_summary(images)}")
    with (
        tempfile.TemporaryDirectory(prefix="vigil-bench-intake-") as folder,
        fresh_database(args.keep_database) as database_url,
    ):
        summary = benchmark(args, images, Path(folder), database_url)
    print("\n---- summary (for docs/benchmarks.md) ----")
    print("\n".join(summary))
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


def benchmark(
    args: argparse.Namespace, images: list[UploadImage], data_dir: Path, database_url: str
) -> list[str]:
    env = intake_env(data_dir, database_url)
    database_line = (
        f"database: PostgreSQL {postgres_version(database_url)} at 127.0.0.1, "
        f"fresh database {make_url(database_url).database}"
    )
    print(database_line)
    known_line = prepare_database(env, images, data_dir)
    authorization = add_company(env)
    port = args.port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "serve.log"
    with running_server(env, port, args.workers, log_path) as server:
        healthy = wait_healthy(base_url, server, log_path)
        ready = wait_intake(base_url, authorization)
        server_line = (
            f"server: vigil serve --workers {args.workers}, clearinghouse enabled; "
            f"/health after {healthy:.1f} s, /ispws/status after "
            f"{healthy + ready:.1f} s"
        )
        print(server_line)
        print(
            f"\n== reports: concurrency {args.concurrency} over {args.clients} client "
            f"process(es), {args.warmup:.0f} s warm-up, {args.duration:.0f} s measured =="
        )
        outcome = run_load(args, base_url, authorization, images, server.pid)
        lines = load_lines(args, outcome)
        print("\n".join(lines))
        for message, count in outcome.result.errors.most_common(ERROR_EXAMPLES):
            print(f"  error x{count}: {message}")
        if server.poll() is not None:
            print(f"WARNING: the server exited during the run:\n{log_tail(log_path)}")
        errors_logged = log_tail(log_path, 2000).count("Traceback")
    checked, _ = verdict_lines(database_url, images)
    print("\n".join(checked))
    if errors_logged:
        print(f"WARNING: {errors_logged} traceback(s) in the server log:\n{log_tail(log_path)}")
    return [
        describe(),
        database_line,
        known_line,
        server_line,
        f"complete reports (submit, {FILES_PER_REPORT} uploads of "
        f"{sizes_summary(images)}, {FILES_PER_REPORT} fileinfo, finish), concurrency "
        f"{args.concurrency}, {args.clients} client process(es):",
        *("  " + line for line in lines),
        *("  " + line for line in checked),
    ]


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: the server was stopped and the database dropped")
