"""Real clearinghouse intake while an anonymous client floods /ispws with bad credentials
(issue 14, item 6).

    python benchmarks/bench_intake_flood.py [--duration 20] [--rate 6]

Starts ``vigil serve`` (one worker, SQLite in a throwaway data directory, the clearinghouse
enabled, ``VIGIL_*`` of the calling shell not passed on) on a free loopback port, adds a
reporting company with ``vigil clearinghouse add-company --password-stdin``, then times real
report transactions (``/submit`` of the documentation's example report, then ``/finish``),
one after another, for ``--duration`` seconds twice: alone, and while another process sends
``GET /ispws/status`` with the company's user name and a different wrong password each time
(a guesser) at ``--rate`` requests a second. Prints the median and 95th percentile of a
transaction's latency in each phase and their ratio, and what the flood was answered.

Everything stays on 127.0.0.1 and every loop is bounded by the duration. To measure another
checkout, put its sources first: ``PYTHONPATH=<checkout>/src python benchmarks/...``.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.bench_service import (
    free_port,
    log_tail,
    running_server,
    service_env,
    vigil_command,
    wait_healthy,
)
from benchmarks.machine import describe
from tests.clearinghouse.documented import report_xml

USERNAME = "flood-bench"
REQUEST_TIMEOUT_S = 60.0
MAX_TRANSACTIONS = 10_000  # a bound on each phase's loop besides its duration


def add_company(env: dict[str, str], password: str) -> None:
    done = subprocess.run(
        [
            vigil_command(),
            "clearinghouse",
            "add-company",
            "Flood Bench Platform",
            "--username",
            USERNAME,
            "--password-stdin",
        ],
        input=password + "\n",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"add-company failed ({done.returncode}): {done.stderr[-2000:]}")


def basic(password: str) -> dict[str, str]:
    token = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def transaction(client: httpx.Client, headers: dict[str, str]) -> float:
    """Seconds for one report: /submit, then /finish; raises on any refusal."""
    start = time.perf_counter()
    submitted = client.post(
        "/ispws/submit",
        content=report_xml(),
        headers={**headers, "Content-Type": "text/xml; charset=utf-8"},
    )
    if submitted.status_code != 200:
        raise RuntimeError(f"/submit answered {submitted.status_code}: {submitted.text[:300]}")
    report_id = submitted.text.split("<reportId>")[1].split("</reportId>")[0]
    finished = client.post(
        "/ispws/finish", files={"id": (None, report_id.encode())}, headers=headers
    )
    if finished.status_code != 200:
        raise RuntimeError(f"/finish answered {finished.status_code}: {finished.text[:300]}")
    return time.perf_counter() - start


def timed_transactions(
    base_url: str, password: str, duration: float, errors: Counter[str] | None = None
) -> list[float]:
    """Latencies of the transactions that succeeded; refusals counted in ``errors`` (their
    time is in no percentile, so the count is printed beside them)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + duration
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        for _ in range(MAX_TRANSACTIONS):
            if time.perf_counter() >= deadline:
                break
            try:
                latencies.append(transaction(client, basic(password)))
            except (RuntimeError, httpx.HTTPError) as exc:
                if errors is None:
                    raise
                errors[str(exc)[:60]] += 1
    return latencies


def flood(base_url: str, rate: float, duration: float, answers: dict[str, int]) -> None:
    """Open loop: one request every 1/rate s, each in its own thread, so a slow answer does
    not slow the flood down; a new wrong password every time, as a guesser sends."""
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def guess(n: int) -> None:
        try:
            reply = httpx.get(
                f"{base_url}/ispws/status",
                headers=basic(f"guess-{n:06d}"),
                timeout=REQUEST_TIMEOUT_S,
            )
            status = str(reply.status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        with lock:
            statuses[status] += 1

    threads = []
    start = time.perf_counter()
    for n in range(int(rate * duration)):
        time.sleep(max(0.0, start + n / rate - time.perf_counter()))
        thread = threading.Thread(target=guess, args=(n,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(REQUEST_TIMEOUT_S)
    answers.update(statuses)


def server_errors(log_path: Path, limit: int = 8) -> str:
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [
        line
        for line in lines
        if "ERROR" in line or line.startswith(("sqlalchemy", "vigil", "TimeoutError", "psycopg"))
    ]
    return "\n".join(errors[:limit]) or log_tail(log_path, 15)


def summary(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies) or [float("nan")]
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return statistics.median(ordered), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=6.0, help="flood requests a second")
    args = parser.parse_args()
    print(f"machine: {describe()}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="vigil-flood-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir(mode=0o700)
        env = {**service_env(data_dir), "VIGIL_CLEARINGHOUSE__ENABLED": "true"}
        password = secrets.token_urlsafe(18)
        add_company(env, password)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "serve.log"
        with running_server(env, port, 1, log_path) as process:
            wait_healthy(base_url, process, log_path)
            timed_transactions(base_url, password, 2.0)  # warm up: first compile, caches
            quiet_errors: Counter[str] = Counter()
            flood_errors: Counter[str] = Counter()
            quiet = timed_transactions(base_url, password, args.duration, quiet_errors)
            with multiprocessing.Manager() as manager:
                answers = manager.dict()
                flooder = multiprocessing.Process(
                    target=flood, args=(base_url, args.rate, args.duration, answers)
                )
                flooder.start()
                flooded = timed_transactions(base_url, password, args.duration, flood_errors)
                flooder.join(args.duration + REQUEST_TIMEOUT_S)
                flood_answers = dict(answers)
            if quiet_errors or flood_errors:
                print("server errors:\n" + server_errors(log_path))
    report(quiet, flooded, flood_answers, args)
    for phase, errors in (("no flood", quiet_errors), ("under flood", flood_errors)):
        for error, count in errors.most_common(5):
            print(f"FAILED transactions {phase}: {count} x {error}")


def report(
    quiet: list[float], flooded: list[float], answers: dict[str, int], args: argparse.Namespace
) -> None:
    quiet_median, quiet_p95 = summary(quiet)
    flood_median, flood_p95 = summary(flooded)
    for phase, latencies, median, p95 in (
        ("no flood:   ", quiet, quiet_median, quiet_p95),
        ("under flood:", flooded, flood_median, flood_p95),
    ):
        print(
            f"{phase} {len(latencies)} transactions in {args.duration:g} s, median "
            f"{median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, slowest "
            f"{max(latencies, default=float('nan')) * 1000:.1f} ms"
        )
    print(f"flood: {args.rate:g} bad sign-ins/s for {args.duration:g} s")
    print(
        f"ratio (flood/quiet): median {flood_median / quiet_median:.1f}x, "
        f"p95 {flood_p95 / quiet_p95:.1f}x"
    )
    print(
        "flood answered: "
        + ", ".join(f"{count} x {status}" for status, count in sorted(answers.items()))
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
