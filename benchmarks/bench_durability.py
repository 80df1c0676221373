"""What durable SQLite commits cost: `PRAGMA synchronous=FULL` (Vigil's default, so an
acknowledged /finish or kept record survives power loss) against NORMAL (faster; under WAL
the last commits can be lost), in the same run on the same disk.

    python benchmarks/bench_durability.py [--commits 2000] [--rows 1]

Each commit writes ``--rows`` audit-log-sized rows in its own write transaction, as the
service writes one record, one intake step or one audit entry. Prints commits per second for
both levels and the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from benchmarks.machine import describe
from vigil.store.database import Database, create_engine


def _commits_per_second(folder: Path, level: str, commits: int, rows: int) -> float:
    database = Database(
        create_engine(f"sqlite:///{folder / (level + '.db')}", sqlite_synchronous=level)
    )  # type: ignore[arg-type]
    with database.transaction(write=True) as session:
        session.execute(text("CREATE TABLE entry (id INTEGER PRIMARY KEY, body TEXT)"))
    body = "x" * 400  # about an audit record with its details
    started = time.perf_counter()
    for _ in range(commits):
        with database.transaction(write=True) as session:
            session.execute(
                text("INSERT INTO entry (body) VALUES (:body)"), [{"body": body}] * rows
            )
    elapsed = time.perf_counter() - started
    database.dispose()
    return commits / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=1)
    args = parser.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        normal = _commits_per_second(folder, "normal", args.commits, args.rows)
        full = _commits_per_second(folder, "full", args.commits, args.rows)
    print(f"commits/s synchronous=NORMAL {normal:,.0f}")
    print(f"commits/s synchronous=FULL   {full:,.0f} (Vigil's default)")
    print(
        f"ratio FULL/NORMAL: {full / normal:.2f}x; "
        f"added per commit: {1000 / full - 1000 / normal:.2f} ms"
    )


if __name__ == "__main__":
    main()
