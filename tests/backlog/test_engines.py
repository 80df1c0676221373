"""The scan engines behind one interface, on the S3 path (moto's server over a real socket)
and SQLite and PostgreSQL: the same Parquet rows and the same matches from each, one error
row per corrupt, empty or oversized object, a chunk redone after a crash adds nothing.
The Ray engine runs Ray in local mode and is marked slow."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from tests.screening.listed import fingerprint, make_list, rotated_copy
from vigil.core.settings import ScanningSettings, Settings
from vigil.screening.backlog.job_start import job_options, start_or_resume
from vigil.screening.backlog.scan_job import JobEnd
from vigil.screening.backlog.scan_session import EngineChoice, run_scan
from vigil.screening.backlog.source_uri import open_source
from vigil.store import Database
from vigil.store.models import ScanJob, ScanJobMatch, ScanJobStatus

MAX_OBJECT_BYTES = 2 << 20
ENGINES = ["local", pytest.param("ray", marks=pytest.mark.slow)]


@pytest.fixture
def listed_bucket(
    s3: Any, bucket: str, database: Database, tmp_path: Path, corpus_images: list[Path]
) -> str:
    """Benign corpus images, two of them listed (by digest; by PDQ, stored rotated), and
    objects that cannot be hashed: corrupt, empty, too large, not media."""
    turned = rotated_copy(corpus_images[3], tmp_path / "turned.jpg")
    objects = {
        "a/listed-digest.jpg": corpus_images[0].read_bytes(),
        "a/plain-1.jpg": corpus_images[1].read_bytes(),
        "a/plain-2.jpg": corpus_images[2].read_bytes(),
        "b/listed-pdq.jpg": turned.read_bytes(),
        "b/corrupt.jpg": b"\xff\xd8\xff\xe0" + os.urandom(3000),
        "b/empty.jpg": b"",
        "c/huge.bin": b"\0" * (MAX_OBJECT_BYTES + 1),
        "c/notes.txt": b"not media at all\n",
    }
    for key, data in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    make_list(
        database,
        "bank",
        [
            ("sha256", fingerprint(corpus_images[0]).sha256, "d-1"),
            ("pdq", fingerprint(corpus_images[3]).pdq, "p-1"),
        ],
        tmp_path,
    )
    return bucket


@pytest.fixture(scope="module")
def ray_module() -> Iterator[Any]:
    """Ray is started once per module (it takes seconds), by the first test that needs it."""
    ray = pytest.importorskip("ray")
    yield ray
    ray.shutdown()


@pytest.fixture
def local_ray(ray_module: Any, s3: Any) -> None:
    """A local Ray whose workers see this test's S3 configuration (workers take the
    environment Ray started with, not the test's later changes)."""
    if not ray_module.is_initialized():
        aws = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
        ray_module.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": aws | {"NO_PROXY": "127.0.0.1,localhost"}},
        )


def settings_for(tmp_path: Path, database_url: str, name: str) -> Settings:
    return Settings(
        data_dir=tmp_path / name,
        database_url=database_url,
        scanning=ScanningSettings(chunk_objects=3, max_object_bytes=MAX_OBJECT_BYTES),
    )


def scan(
    settings: Settings,
    database: Database,
    uri: str,
    choice: EngineChoice,
    stop_after_chunks: int | None = None,
) -> tuple[int, JobEnd]:
    source = open_source(uri)
    start = start_or_resume(
        database,
        source=source.describe(),
        engine=choice.kind,
        options=job_options(source.describe(), None, settings.scanning),
        data_dir=settings.data_dir,
        resume=True,
    )
    end = run_scan(settings, database, start, source, choice, stop_after_chunks=stop_after_chunks)
    return start.job_id, end


def parquet_rows(database: Database, job_id: int) -> list[dict[str, Any]]:
    with database.transaction() as session:
        folder = Path(session.get_one(ScanJob, job_id).store_dir)
    rows = [row for part in sorted(folder.glob("part-*.parquet")) for row in _read(part)]
    return sorted(rows, key=lambda row: str(row["identity"]))


def _read(part: Path) -> list[dict[str, Any]]:
    return list(pq.read_table(part).to_pylist())


def job_matches(database: Database, job_id: int) -> list[tuple[str, int, str, int | None]]:
    with database.transaction() as session:
        rows = session.execute(
            select(
                ScanJobMatch.key,
                ScanJobMatch.entry_id,
                ScanJobMatch.signal_type,
                ScanJobMatch.distance,
            ).where(ScanJobMatch.job_id == job_id)
        ).all()
    return sorted((key, entry, signal, distance) for key, entry, signal, distance in rows)


def _engine_choice(kind: str, request: pytest.FixtureRequest) -> EngineChoice:
    if kind == "ray":
        request.getfixturevalue("local_ray")
        return EngineChoice("ray", workers=2, ray_actors=2)
    return EngineChoice("local", workers=1)


@pytest.mark.parametrize("kind", ENGINES)
def test_an_engine_scans_every_object_once_with_one_error_row_per_bad_one(
    kind: str,
    listed_bucket: str,
    database: Database,
    database_url: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    settings = settings_for(tmp_path, database_url, kind)
    job_id, end = scan(settings, database, f"s3://{listed_bucket}/", _engine_choice(kind, request))
    assert end is JobEnd.COMPLETED
    rows = parquet_rows(database, job_id)
    keys = [row["key"] for row in rows]
    assert sorted(keys) == keys and len(keys) == 8 and len(set(keys)) == 8
    failures = {row["key"]: row["error"] for row in rows if row["error"]}
    assert set(failures) >= {"b/corrupt.jpg", "b/empty.jpg", "c/huge.bin"}
    matches = job_matches(database, job_id)
    assert [(key, signal) for key, _, signal, _ in matches] == [
        ("a/listed-digest.jpg", "sha256"),
        ("b/listed-pdq.jpg", "pdq"),
    ]
    with database.transaction() as session:
        job = session.get_one(ScanJob, job_id)
        assert (job.status, job.objects, job.chunks, job.matches) == (
            ScanJobStatus.COMPLETED,
            8,
            3,
            2,
        )
        assert job.errors == 3  # not media is expected of a bucket, not an error
        assert job.checkpoint == "c/notes.txt"


def test_local_engine_with_worker_processes_gives_the_same_results(
    listed_bucket: str, database: Database, database_url: str, tmp_path: Path
) -> None:
    uri = f"s3://{listed_bucket}/"
    one, _ = scan(settings_for(tmp_path, database_url, "one"), database, uri, EngineChoice())
    with database.transaction(write=True) as session:
        session.get_one(ScanJob, one).source = "done"  # the next scan starts a new job
    two, _ = scan(
        settings_for(tmp_path, database_url, "two"), database, uri, EngineChoice(workers=2)
    )
    assert one != two
    assert _comparable(parquet_rows(database, one)) == _comparable(parquet_rows(database, two))
    assert job_matches(database, one) == job_matches(database, two)


@pytest.mark.slow
def test_ray_and_local_engines_give_the_same_rows_and_matches(
    listed_bucket: str, database: Database, database_url: str, tmp_path: Path, local_ray: None
) -> None:
    uri = f"s3://{listed_bucket}/"
    local, _ = scan(settings_for(tmp_path, database_url, "local"), database, uri, EngineChoice())
    with database.transaction(write=True) as session:
        session.get_one(ScanJob, local).source = "done"
    ray, _ = scan(
        settings_for(tmp_path, database_url, "ray"),
        database,
        uri,
        EngineChoice("ray", workers=2, ray_actors=2),
    )
    assert _comparable(parquet_rows(database, local)) == _comparable(parquet_rows(database, ray))
    assert job_matches(database, local) == job_matches(database, ray)


def test_a_stopped_job_resumes_after_its_checkpoint_without_duplicates(
    listed_bucket: str, database: Database, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, database_url, "data")
    uri = f"s3://{listed_bucket}/"
    job_id, end = scan(settings, database, uri, EngineChoice(), stop_after_chunks=1)
    assert end is JobEnd.STOPPED
    with database.transaction() as session:
        job = session.get_one(ScanJob, job_id)
        assert (job.status, job.objects, job.checkpoint) == (
            ScanJobStatus.INTERRUPTED,
            3,
            "a/plain-2.jpg",
        )
    again, end = scan(settings, database, uri, EngineChoice())
    assert (again, end) == (job_id, JobEnd.COMPLETED)
    keys = [row["key"] for row in parquet_rows(database, job_id)]
    assert len(keys) == len(set(keys)) == 8
    assert len(job_matches(database, job_id)) == 2


def test_a_local_folder_scans_as_a_job_too(
    database: Database, database_url: str, tmp_path: Path, corpus_images: list[Path]
) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    for image in corpus_images[:4]:
        shutil.copy(image, root / image.name)
    make_list(database, "bank", [("md5", fingerprint(corpus_images[1]).md5, "m-1")], tmp_path)
    job_id, end = scan(
        settings_for(tmp_path, database_url, "data"), database, str(root), EngineChoice()
    )
    assert end is JobEnd.COMPLETED
    assert len(parquet_rows(database, job_id)) == 4
    assert [signal for _, _, signal, _ in job_matches(database, job_id)] == ["md5"]


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows less what differs between two runs by design (none is expected to)."""
    return rows
