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
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, Connection, delete, func, select
from sqlalchemy.orm import Session

from vigil.fingerprint import pdq
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
    return tuple(RegionHash(r.region, pdq.PdqHash(r.pdq, r.quality)) for r in rows)


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
    """Every held region strong enough to match (weak hashes of flat regions never do)."""
    rows = session.execute(
        select(
            HeldRegionHash.case_item_id,
            HeldRegionHash.intake_file_id,
            HeldRegionHash.region,
            HeldRegionHash.pdq,
        )
        .where(HeldRegionHash.quality >= min_quality)
        .order_by(HeldRegionHash.id)
    ).all()
    owners = tuple(HeldOwner(item, file) for item, file, _, _ in rows)
    regions = np.array([region for _, _, region, _ in rows], dtype=np.str_)
    raw = b"".join(bytes.fromhex(hex_) for _, _, _, hex_ in rows)
    bits = np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(rows), 4)
    return HeldTable(owners, regions, bits)


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
        hashes = held_region_hashes(vault.get(session, evidence_item_id))
    except (EvidenceError, FingerprintError) as error:
        log.warning("held regions: %s not hashed: %s", owner, error)
        return 0
    return add(session, owner, hashes)
