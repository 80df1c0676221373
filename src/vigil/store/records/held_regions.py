"""Region hashes of pictures Vigil holds itself, stored for the second screening stage.

When a reviewer confirms an item or an analyst labels a received file, the picture's named
regions (vigil.fingerprint.held_regions) are hashed from the evidence Vigil keeps and stored
under their owner. Holding them is a side effect of the decision, never a condition of it: a
video, a file without kept evidence or a picture that cannot be decoded is skipped and
logged, and the decision goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, Connection, delete, func, select
from sqlalchemy.orm import Session

from vigil.fingerprint import held_windows, pdq
from vigil.fingerprint.descriptors.base import DescriptorError
from vigil.fingerprint.errors import FingerprintError
from vigil.fingerprint.held_regions import RegionHash, held_region_hashes
from vigil.store.evidence import EvidenceVault
from vigil.store.evidence.errors import EvidenceError
from vigil.store.models import HeldRegionHash

log = logging.getLogger(__name__)

PHOTO = "photo"  # the media type whose regions are hashed; videos are skipped


@dataclass(frozen=True, slots=True)
class HeldOwner:
    """Whose picture: a confirmed review item or a labelled clearinghouse file."""

    case_item_id: int | None = None
    intake_file_id: int | None = None

    def __post_init__(self) -> None:
        if (self.case_item_id is None) == (self.intake_file_id is None):
            raise ValueError("a held picture has exactly one owner")

    def __str__(self) -> str:
        if self.case_item_id is not None:
            return f"review item {self.case_item_id}"
        return f"intake file {self.intake_file_id}"

    def where(self) -> ColumnElement[bool]:
        if self.case_item_id is not None:
            return HeldRegionHash.case_item_id == self.case_item_id
        return HeldRegionHash.intake_file_id == self.intake_file_id


@dataclass(frozen=True, slots=True)
class HeldTable:
    """Every held region as arrays for a Hamming scan: row i is ``owners[i]``'s region
    ``regions[i]``, its 256 bits as four big-endian uint64 words in ``bits[i]``."""

    owners: tuple[HeldOwner, ...]
    regions: NDArray[np.str_]
    bits: NDArray[np.uint64]
    # Row i's window colour layout (held_windows.py) when ``windows[i]``; zeros otherwise.
    vectors: NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((0, held_windows.DESCRIPTOR.dimension), np.float32)
    )
    windows: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    def __len__(self) -> int:
        return len(self.owners)


def add(session: Session, owner: HeldOwner, hashes: Sequence[RegionHash]) -> int:
    """Store ``hashes`` as the owner's regions, replacing any it had. Returns how many."""
    remove(session, owner)
    session.add_all(
        HeldRegionHash(
            case_item_id=owner.case_item_id,
            intake_file_id=owner.intake_file_id,
            region=digest.region,
            pdq=digest.pdq.hex,
            quality=digest.pdq.quality,
            vector=None if digest.vector is None else digest.vector.astype("<f4").tobytes(),
            descriptor=None if digest.vector is None else held_windows.version(),
        )
        for digest in hashes
    )
    session.flush()
    return len(hashes)


def remove(session: Session, owner: HeldOwner) -> int:
    """Forget the owner's regions. Returns how many rows went."""
    removed = session.execute(delete(HeldRegionHash).where(owner.where()))
    return int(getattr(removed, "rowcount", 0) or 0)


def of_owner(session: Session, owner: HeldOwner) -> tuple[RegionHash, ...]:
    rows = session.scalars(select(HeldRegionHash).where(owner.where()).order_by(HeldRegionHash.id))
    return tuple(
        RegionHash(
            r.region,
            pdq.PdqHash(r.pdq, r.quality),
            None if r.vector is None else np.frombuffer(r.vector, dtype="<f4").astype(np.float32),
        )
        for r in rows
    )


def held_hashes(picture: bytes) -> tuple[RegionHash, ...]:
    """What Vigil holds of a picture: its regions (held_regions.py) and its windows
    (held_windows.py). Raises FingerprintError or DescriptorError."""
    return held_region_hashes(picture) + held_windows.held_window_hashes(picture)


HeldStamp = tuple[int, int | None, object]


def held_stamp(connection: Connection) -> HeldStamp:
    """What changes whenever the held set does: its size, its newest id and its newest
    time. The newest time catches a row removed and another added under a reused id
    (SQLite hands out the highest id again once it is gone); a cascade from a deleted
    review item or intake file changes the size."""
    count, newest, latest = connection.execute(
        select(
            func.count(HeldRegionHash.id),
            func.max(HeldRegionHash.id),
            func.max(HeldRegionHash.created_at),
        )
    ).one()
    return int(count), newest, latest


def load_all(session: Session, *, min_quality: int = pdq.WEAK_QUALITY) -> HeldTable:
    """Every held region strong enough to match (weak hashes of flat regions never do).
    A window whose vector another descriptor version made is left out, with a warning:
    comparing it would answer wrongly, and re-holding the picture makes it current."""
    rows = session.execute(
        select(
            HeldRegionHash.case_item_id,
            HeldRegionHash.intake_file_id,
            HeldRegionHash.region,
            HeldRegionHash.pdq,
            HeldRegionHash.vector,
            HeldRegionHash.descriptor,
        )
        .where(HeldRegionHash.quality >= min_quality)
        .order_by(HeldRegionHash.id)
    ).all()
    current = held_windows.version()
    stale = [row for row in rows if row.vector is not None and row.descriptor != current]
    if stale:
        log.warning("held windows: %d made by another descriptor version, left out", len(stale))
        rows = [row for row in rows if row.vector is None or row.descriptor == current]
    owners = tuple(HeldOwner(row.case_item_id, row.intake_file_id) for row in rows)
    regions = np.array([row.region for row in rows], dtype=np.str_)
    raw = b"".join(bytes.fromhex(row.pdq) for row in rows)
    bits = np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(rows), 4)
    return HeldTable(owners, regions, bits, *_vectors(rows))


def _vectors(rows: Sequence[Any]) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    dimension = held_windows.DESCRIPTOR.dimension
    vectors = np.zeros((len(rows), dimension), dtype=np.float32)
    windows = np.zeros(len(rows), dtype=np.bool_)
    damaged = 0
    for index, row in enumerate(rows):
        if row.vector is None:
            continue
        vector = np.frombuffer(row.vector, dtype="<f4") if len(row.vector) % 4 == 0 else None
        if vector is None or vector.size != dimension:  # never compared, but said
            damaged += 1
            continue
        vectors[index], windows[index] = vector, True
    if damaged:
        log.warning("held windows: %d with a damaged vector, left out", damaged)
    return vectors, windows


def hold_evidence(
    session: Session,
    vault: EvidenceVault | None,
    owner: HeldOwner,
    evidence_item_id: str | None,
    media_type: str | None,
) -> int:
    """Hash and store the regions of the owner's kept picture. Returns how many regions were
    stored: 0 when there is nothing to hash (logged, never raised, so the decision that
    called this is never refused because of it)."""
    if vault is None or evidence_item_id is None:
        log.info("held regions: %s has no kept evidence to hash", owner)
        return 0
    if media_type not in (None, PHOTO):
        log.info("held regions: %s is a %s, not a photo; skipped", owner, media_type)
        return 0
    try:
        hashes = held_hashes(vault.get(session, evidence_item_id))
    except (EvidenceError, FingerprintError, DescriptorError) as error:
        log.warning("held regions: %s not hashed: %s", owner, error)
        return 0
    return add(session, owner, hashes)
