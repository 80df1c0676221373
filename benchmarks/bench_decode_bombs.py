"""Decode bombs against ``vigil serve`` (issue 14, item 1): peak memory of the server while it
screens four bombs sent at once, and what each caller is answered.

    python benchmarks/bench_decode_bombs.py [--parallel 4] [--workers 1] [--bombs png16 gif]

The bombs are made here (tests/decode_bombs.py): a 16-bit RGB PNG of 9,400 x 9,400 (0.5 MB
on disk, 88 MP) and an animated GIF with a 9,400 x 9,400 canvas and 113 one-pixel frames
(2.6 KB). For each kind a fresh ``vigil serve`` (SQLite in a temporary data directory, a
throwaway evidence key, ``VIGIL_*`` of the calling shell not passed on; PYTHONPATH is, so
``PYTHONPATH=<other checkout>/src`` measures that code) starts on a free loopback port, an
API key is made with ``vigil admin create-api-key x --scope screen --json``, and the bombs are
POSTed to /v1/screen all at once. Memory is read from /proc/<pid>/status of every process of
the server's group: VmRSS before, VmHWM (the peak) after the answers, and VmRSS a few seconds
later (what stayed allocated).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import machine
from benchmarks.bench_service import (
    free_port,
    run_vigil,
    running_server,
    service_env,
    wait_healthy,
)
from tests import decode_bombs

BOMBS = {
    "png16": ("bomb.png", "image/png", decode_bombs.png16),
    "gif": ("bomb.gif", "image/gif", decode_bombs.gif_canvas),
}
REQUEST_TIMEOUT_S = 600
SETTLE_S = 5  # after the answers, before reading what stayed allocated
MIB = 1 << 20


@dataclass
class Answer:
    status: int
    seconds: float
    summary: str


def group_memory(group: int) -> dict[int, dict[str, int]]:
    """{pid: {"VmRSS": bytes, "VmHWM": bytes}} of every live process in ``group``."""
    found: dict[int, dict[str, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) != group:
                continue
            with open(f"/proc/{entry}/status", encoding="ascii") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except (OSError, ValueError):
            continue
        found[int(entry)] = {
            key: int(fields[key].split()[0]) * 1024 for key in ("VmRSS", "VmHWM") if key in fields
        }
    return found


def create_key(env: dict[str, str]) -> str:
    done = run_vigil(env, "admin", "create-api-key", "x", "--scope", "screen", "--json")
    try:
        return str(json.loads(done.stdout)["token"])
    except (ValueError, KeyError, TypeError) as exc:  # never print the output: it holds a key
        raise SystemExit(f"create-api-key --json printed no JSON with a token ({exc!r})") from None


def send(base_url: str, token: str, name: str, kind: str, content: bytes, n: int) -> Answer:
    started = time.perf_counter()
    try:
        reply = httpx.post(
            f"{base_url}/v1/screen",
            headers={"Authorization": f"Bearer {token}"},
            data={"content_id": f"bomb-{n}"},
            files={"file": (name, content, kind)},
            timeout=REQUEST_TIMEOUT_S,
        )
    except httpx.HTTPError as exc:
        return Answer(0, time.perf_counter() - started, f"no answer: {exc!r}")
    seconds = time.perf_counter() - started
    body = (
        reply.json() if reply.headers.get("content-type", "").startswith("application/json") else {}
    )
    if reply.status_code == 200:
        summary = f"verdict {body.get('verdict')}, error_reason {body.get('error_reason')}"
    else:
        error = body.get("error", {})
        summary = (
            f"{error.get('code')}: {error.get('message')}"
            f" (Retry-After {reply.headers.get('retry-after')})"
        )
    return Answer(reply.status_code, seconds, summary)


def measure(bomb: str, args: argparse.Namespace) -> None:
    name, kind, make = BOMBS[bomb]
    content = make()
    print(
        f"\n{bomb}: {len(content):,} bytes, {args.parallel} at once, "
        f"{args.workers} worker process(es)"
    )
    with tempfile.TemporaryDirectory(prefix="vigil-bombs-") as scratch:
        data_dir = Path(scratch) / "data"
        data_dir.mkdir(mode=0o700)
        env = service_env(data_dir)
        token = create_key(env)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log_path = Path(scratch) / "serve.log"
        with running_server(env, port, args.workers, log_path) as server:
            wait_healthy(base_url, server, log_path)
            before = group_memory(server.pid)
            with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
                answers = list(
                    pool.map(
                        lambda n: send(base_url, token, name, kind, content, n),
                        range(args.parallel),
                    )
                )
            peak = group_memory(server.pid)
            time.sleep(SETTLE_S)
            after = group_memory(server.pid)
    for n, answer in enumerate(answers):
        print(f"  request {n}: HTTP {answer.status} in {answer.seconds:.1f} s: {answer.summary}")
    print(f"  server RSS before:            {_total(before, 'VmRSS')}")
    print(f"  server peak RSS (VmHWM):      {_total(peak, 'VmHWM')}")
    print(f"  server RSS {SETTLE_S} s after:         {_total(after, 'VmRSS')}")


def _total(memory: dict[int, dict[str, int]], key: str) -> str:
    values = [fields.get(key, 0) for fields in memory.values()]
    per_process = ", ".join(f"{v / MIB:,.0f}" for v in values)
    return f"{sum(values) / MIB:,.0f} MiB (per process: {per_process})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--bombs", nargs="+", choices=sorted(BOMBS), default=["png16", "gif"])
    args = parser.parse_args()
    print(machine.describe())
    source = os.environ.get("PYTHONPATH") or "the installed vigil"
    print(f"code under test: {source}")
    for bomb in args.bombs:
        measure(bomb, args)


if __name__ == "__main__":
    main()
