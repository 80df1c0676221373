"""The second screening stage (issue 19): after a reviewer confirms a picture Vigil keeps, a
captioned copy of it, which its whole-picture PDQ does not reach, is found through a held
region, named with the region and the confirmed item; a distinct picture is not."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import update

from tests.fingerprint.test_held_regions import query_regions
from tests.review.review_env import ReviewEnv, kept_evidence_vault, review_env
from tests.screening.listed import fingerprint
from vigil.fingerprint import pdq
from vigil.fingerprint.held_regions import (
    HELD_REGION_DISTANCE,
    SIGNAL,
    RegionHash,
)
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_bytes
from vigil.fingerprint.record import Fingerprint
from vigil.screening.held_scan import HeldMatch, HeldQuery, scan
from vigil.screening.matcher import Matcher
from vigil.screening.submission import Submission, UploadContext
from vigil.store import Database
from vigil.store.models import HeldRegionHash, Verdict
from vigil.store.records.held_regions import HeldOwner, HeldTable, remove
from vigil.store.records.matches import get_record

HELD, DISTINCT = 10, 35  # corpus photographs on no list


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[ReviewEnv]:
    with review_env(database, tmp_path, corpus_images) as made:
        yield made


def confirm_kept(env: ReviewEnv, content: bytes) -> int:
    return env.confirm(content, kept_evidence_vault(env.root))


def captioned(path: Path) -> bytes:
    """The picture with a caption bar of text over its top 12%, as a site would add one."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    draw = ImageDraw.Draw(image)
    bar = round(image.height * 0.12)
    draw.rectangle((0, 0, image.width, bar), fill=(250, 250, 250))
    draw.text((8, bar // 3), "when you see it... share before it's gone", fill=(10, 10, 10))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def screened(env: ReviewEnv, content: bytes, name: str) -> tuple[Fingerprint, list[HeldMatch]]:
    upload = env.root / name
    upload.write_bytes(content)
    record = fingerprint(upload)
    record.held_regions = query_regions(content)
    return record, Matcher(env.live).screen(record).held


def test_a_captioned_copy_of_a_confirmed_picture_is_found_through_a_held_region(
    env: ReviewEnv,
) -> None:
    item_id = confirm_kept(env, env.images[HELD].read_bytes())
    record, [found] = screened(env, captioned(env.images[HELD]), "copy.jpg")
    # out of the whole-picture hash's reach, so only the held region finds it
    assert pdq.hamming(record.pdq or "", env.fingerprint(HELD).pdq or "") > 31
    assert found.signal == SIGNAL
    assert found.region in {"bottom_third", "centre_70"}  # the regions the bar is out of
    assert found.distance <= HELD_REGION_DISTANCE
    assert (found.case_item_id, found.intake_file_id) == (item_id, None)
    assert found.to_dict()["signal"] == "held_region"


def test_a_distinct_picture_matches_nothing_held(env: ReviewEnv) -> None:
    confirm_kept(env, env.images[HELD].read_bytes())
    assert screened(env, env.images[DISTINCT].read_bytes(), "other.jpg")[1] == []


def test_weak_or_differently_named_regions_never_match() -> None:
    strong = pdq.PdqHash("f" * 64, 100)
    ones = np.full((1, 4), np.iinfo(np.uint64).max, dtype=np.uint64)
    table = HeldTable((HeldOwner(intake_file_id=1),), np.array(["top_half"]), ones)
    assert scan(table, HeldQuery([RegionHash("top_half", strong)])) == [
        HeldMatch("top_half", 0, None, 1)
    ]
    assert (
        scan(table, HeldQuery([RegionHash("top_half", pdq.PdqHash("f" * 63 + "0", 100))]))[
            0
        ].distance
        == 4
    )
    assert scan(table, HeldQuery([RegionHash("top_third", strong)])) == []
    assert scan(table, HeldQuery([RegionHash("top_half", pdq.PdqHash("f" * 64, 10))])) == []
    empty = HeldTable((), np.array([], dtype=np.str_), np.zeros((0, 4), dtype=np.uint64))
    assert scan(empty, HeldQuery([RegionHash("top_half", strong)])) == []


def test_the_service_sends_a_captioned_copy_of_held_content_to_review(env: ReviewEnv) -> None:
    item_id = confirm_kept(env, env.images[HELD].read_bytes())
    outcome = env.service().screen_upload(
        Submission("c-9", "acct-2", UploadContext()),
        captioned(env.images[HELD]),
        submitted_by="key:test0001",
    )
    assert outcome.verdict is Verdict.REVIEW and outcome.matches == ()
    [found] = outcome.to_dict()["held_matches"]
    assert (found["signal"], found["case_item_id"]) == ("held_region", item_id)
    assert any(
        r.startswith(f"held_region: region {found['region']}") and f"review item {item_id}" in r
        for r in outcome.reasons
    )
    with env.database.session() as session:
        record = get_record(session, outcome.record_id or "")
        assert record is not None and record.reasons == list(outcome.reasons)


def test_the_service_skips_the_held_stage_while_nothing_is_held(env: ReviewEnv) -> None:
    outcome = env.service().screen_upload(
        Submission("c-9", "acct-2", UploadContext()),
        captioned(env.images[HELD]),
        submitted_by="key:test0001",
    )
    assert outcome.verdict is Verdict.NO_MATCH and outcome.held_matches == ()


def test_a_service_running_before_a_picture_is_held_finds_its_copies_after(
    env: ReviewEnv,
) -> None:
    """The held table is cached per process: a hold committed after it was loaded must be
    seen by the next upload, and a hold let go must stop matching (no stale answer)."""
    service = env.service()
    copy = captioned(env.images[HELD])

    def upload() -> tuple[HeldMatch, ...]:
        submission = Submission("c-9", "acct-2", UploadContext())
        started = time.monotonic()
        return service.screen_upload(
            submission, copy, submitted_by="key:test0001", started=started
        ).held_matches

    assert upload() == ()
    item_id = confirm_kept(env, env.images[HELD].read_bytes())
    assert [m.case_item_id for m in upload()] == [item_id]
    with env.database.transaction(write=True) as session:
        remove(session, HeldOwner(case_item_id=item_id))
    assert upload() == ()


def test_the_upload_is_region_hashed_only_while_something_is_held(env: ReviewEnv) -> None:
    matcher = Matcher(env.live)
    assert not matcher.held.holds_any()
    confirm_kept(env, env.images[HELD].read_bytes())
    assert matcher.held.holds_any(time.monotonic())
    content = captioned(env.images[HELD])
    asked = fingerprint_bytes(content, FingerprintOptions(held_regions=True))
    assert asked.held_regions == query_regions(content)  # from the same decode
    assert fingerprint_bytes(content).held_regions == ()
    assert "held_regions" not in asked.to_dict()  # query-side only, never stored


def cropped_copy(path: Path) -> bytes:
    """The picture with 10% of each side cut off, 30/70 between the edges."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    width, height = image.size
    left, top = round(width * 0.03), round(height * 0.07)
    out = io.BytesIO()
    image.crop((left, top, left + round(width * 0.9), top + round(height * 0.9))).save(
        out, "JPEG", quality=85
    )
    return out.getvalue()


def test_a_cropped_copy_of_a_confirmed_picture_is_found_through_a_held_window(
    env: ReviewEnv,
) -> None:
    item_id = confirm_kept(env, env.images[HELD].read_bytes())
    copy = cropped_copy(env.images[HELD])
    outcome = env.service().screen_upload(
        Submission("c-10", "acct-2", UploadContext()), copy, submitted_by="key:test0001"
    )
    assert outcome.verdict is Verdict.REVIEW and outcome.matches == ()
    [found] = outcome.held_matches
    assert (found.signal, found.case_item_id) == ("held_window", item_id)
    assert found.region.startswith("window_") and found.similarity is not None
    assert found.similarity >= 0.9 and found.distance <= 96
    # out of the whole-picture hash's reach: only the window finds it
    copy_pdq = fingerprint_bytes(copy).pdq or ""
    assert pdq.hamming(copy_pdq, env.fingerprint(HELD).pdq or "") > 31
    assert any(r.startswith(f"held_window: {found.region}") for r in outcome.reasons)


def test_windows_of_another_descriptor_version_are_left_out_and_said(
    env: ReviewEnv, caplog: pytest.LogCaptureFixture
) -> None:
    confirm_kept(env, env.images[HELD].read_bytes())
    with env.database.transaction(write=True) as session:
        session.execute(
            update(HeldRegionHash)
            .where(HeldRegionHash.vector.is_not(None))
            .values(descriptor="colour_layout/0")
        )
    with caplog.at_level(logging.WARNING):
        outcome = env.service().screen_upload(
            Submission("c-11", "acct-2", UploadContext()),
            cropped_copy(env.images[HELD]),
            submitted_by="key:test0001",
        )
    assert all(match.signal != "held_window" for match in outcome.held_matches)
    assert any("another descriptor version" in r.getMessage() for r in caplog.records)


def test_windows_with_a_damaged_vector_are_left_out_and_said(
    env: ReviewEnv, caplog: pytest.LogCaptureFixture
) -> None:
    confirm_kept(env, env.images[HELD].read_bytes())
    with env.database.transaction(write=True) as session:
        session.execute(
            update(HeldRegionHash)
            .where(HeldRegionHash.vector.is_not(None))
            .values(vector=b"\x00\x01\x02")
        )
    with caplog.at_level(logging.WARNING):
        outcome = env.service().screen_upload(
            Submission("c-12", "acct-2", UploadContext()),
            cropped_copy(env.images[HELD]),
            submitted_by="key:test0001",
        )
    assert all(match.signal != "held_window" for match in outcome.held_matches)
    assert any("damaged vector" in r.getMessage() for r in caplog.records)
