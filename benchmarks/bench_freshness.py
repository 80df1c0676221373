"""What the freshness contract costs a lookup: `Matcher.screen` that first checks the change
feed (one query: has anything been committed since?) against the same lookup whose request
already checked (the reference: a lookup with no freshness check), in the same run.

    python -m benchmarks.bench_freshness [--entries 100000] [--lookups 3000]
        [--backend sqlite|postgresql]

A list of ``--entries`` random PDQ hashes plus the corpus pictures' SHA-256 (so some lookups
match), an idle index writer beside the reader being measured (as `vigil serve` beside
`vigil scan`), and the corpus fingerprints looked up round robin. Printed: lookups per
second each way, the ratio, and the cost of the check in microseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy

from benchmarks.machine import describe
from vigil.fingerprint.pipeline import fingerprint_path
from vigil.fingerprint.record import Fingerprint
from vigil.lists.sources import LocalFileSource
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.store import Database, open_database, upgrade_database
from vigil.store.lists.catalogue import create_list
from vigil.store.lists.importing import import_file

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "images"
POSTGRES_ADMIN = "postgresql+psycopg://root@127.0.0.1:5432/test"


@contextlib.contextmanager
def _database(backend: str, folder: Path) -> Iterator[Database]:
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'vigil.db'}"
        upgrade_database(url)
        with open_database(url) as database:
            yield database
        return
    name = f"vigil_bench_fresh_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade_database(url)
        with open_database(url) as database:
            yield database
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _list(database: Database, folder: Path, entries: int, photos: list[Fingerprint]) -> None:
    rows = ["signal_type,signal,external_id,classification"]
    rows += [f"pdq,{secrets.token_hex(32)},r{n},A1" for n in range(entries)]
    rows += [f"sha256,{p.sha256},{Path(p.path).name},A1" for p in photos]
    path = folder / "list.csv"
    path.write_text("\n".join(rows) + "\n")
    with database.transaction(write=True) as session:
        create_list(session, "bench", actor="bench")
    import_file(database, "bench", LocalFileSource(path), actor="bench")


def _rate(matcher: Matcher, photos: list[Fingerprint], lookups: int, *, check: bool) -> float:
    started = time.monotonic()
    matcher.screen(photos[0], started)  # the reference's one check, before the clock
    begin = time.perf_counter()
    for n in range(lookups):
        matcher.screen(photos[n % len(photos)], None if check else started)
    return lookups / (time.perf_counter() - begin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=3_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    print(describe())
    photos = [fingerprint_path(p) for p in sorted(CORPUS.glob("*.jpg"))]
    with (
        tempfile.TemporaryDirectory() as scratch,
        _database(args.backend, Path(scratch)) as database,
    ):
        folder = Path(scratch)
        _list(database, folder, args.entries, photos)
        with (
            LiveIndex.open(database, folder / "index") as _writer,
            LiveIndex.open(database, folder / "index") as reader,
        ):
            matcher = Matcher(reader)
            reference = _rate(matcher, photos, args.lookups, check=False)
            checked = _rate(matcher, photos, args.lookups, check=True)
    cost_us = (1 / checked - 1 / reference) * 1e6
    print(
        f"backend {args.backend}, list {args.entries + len(photos):,} entries, "
        f"{args.lookups:,} lookups of {len(photos)} corpus pictures"
    )
    print(f"lookups/s without a freshness check (reference): {reference:,.0f}")
    print(f"lookups/s checking the feed before each lookup:   {checked:,.0f}")
    print(f"ratio: {checked / reference:.2f}x; the check costs {cost_us:,.0f} us a lookup")


if __name__ == "__main__":
    main()
