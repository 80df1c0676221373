"""Building hash lists for screening tests: hashes of the benign corpus, imported from CSV
files through the real list import, and generated clips of corpus images."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image

from tests.fingerprint.video_media import slideshow, write_clip
from vigil.fingerprint.pipeline import fingerprint_path
from vigil.fingerprint.record import Fingerprint
from vigil.lists.sources import LocalFileSource
from vigil.store import Database
from vigil.store.lists.catalogue import create_list, get_list
from vigil.store.lists.importing import import_file
from vigil.store.models import EntryFrame, ListEntry, SignalType, frame_set_signal

CSV_HEADER = "signal_type,signal,external_id,classification\n"


def fingerprint(path: Path) -> Fingerprint:
    record = fingerprint_path(path)
    assert record.ok, record.error
    return record


def make_list(
    database: Database,
    name: str,
    rows: Iterable[tuple[str, str | None, str]],
    folder: Path,
    **settings: object,
) -> None:
    """A list holding ``rows`` of (signal type, signal, external id), classification A1."""
    rows = list(rows)
    assert all(signal for _, signal, _ in rows)
    with database.transaction(write=True) as session:
        create_list(session, name, actor="test", **settings)  # type: ignore[arg-type]
    path = folder / f"{name}.csv"
    path.write_text(CSV_HEADER + "".join(f"{t},{s},{e},A1\n" for t, s, e in rows))
    report = import_file(database, name, LocalFileSource(path), actor="test")
    assert report.error_count == 0, report.errors


def rotated_copy(source: Path, target: Path) -> Path:
    with Image.open(source) as image:
        image.convert("RGB").rotate(90, expand=True).save(target, quality=90)
    return target


def flipped_bits(pdq: str | None, count: int) -> str:
    """``pdq`` at exactly ``count`` bits' distance."""
    assert pdq is not None
    value = int(pdq, 16) ^ ((1 << count) - 1)
    return f"{value:064x}"


def make_clip(images: Sequence[Path], target: Path, seconds_each: float = 2.0) -> Path:
    """An H.264 slideshow of corpus images (pick ones whose frames hash with good quality:
    vPDQ drops frames below 50)."""
    pictures = [Image.open(p) for p in images]
    return write_clip(target, slideshow(pictures, seconds_each))


def list_video(database: Database, list_name: str, video: Fingerprint, external_id: str) -> int:
    """A video entry holding ``video``'s frames (list files carry no frames, so the entry is
    written directly, as a video-aware import would)."""
    assert video.frames
    with database.transaction(write=True) as session:
        hash_list = get_list(session, list_name)
        entry = ListEntry(
            hash_list=hash_list,
            signal_type=SignalType.VIDEO_PDQ,
            signal=frame_set_signal(f.pdq for f in video.frames),
            external_id=external_id,
            classification="A1",
        )
        entry.frames = [
            EntryFrame(position=i, pdq=f.pdq, quality=f.quality, time_offset=f.t)
            for i, f in enumerate(video.frames)
        ]
        session.add(entry)
        session.flush()
        return entry.id


UNREACHABLE_DATABASE = "postgresql+psycopg://vigil@127.0.0.1:1/vigil"


def cli_env(tmp_path: Path, database_url: str) -> dict[str, str | None]:
    """Environment for running `vigil` in-process against one database."""
    return {
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "VIGIL_DATABASE__BUSY_TIMEOUT": "0.2",
        "VIGIL_DATABASE__CONNECT_TIMEOUT": "2",
        "COLUMNS": "200",
    }
