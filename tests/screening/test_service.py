"""The screening service end to end on SQLite and PostgreSQL: real lists from the benign corpus,
a real match index, a real encrypted evidence vault, real webhook outbox and audit log."""

from __future__ import annotations

import functools
import hashlib
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from tests.screening.listed import fingerprint as fingerprint_file
from tests.screening.listed import list_video, make_clip, make_list, rotated_copy
from vigil.core.settings import FloodGuardSettings, ScreeningSettings, Settings
from vigil.screening import service as service_module
from vigil.screening.classifiers.base import ClassifierError, ClassifierResult
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.screening.service import ScreeningService
from vigil.screening.submission import (
    Submission,
    SubmissionInvalid,
    SubmittedHashes,
    UploadContext,
)
from vigil.store import Database
from vigil.store.audit.log import AuditLog
from vigil.store.errors import StoreError
from vigil.store.evidence import EvidenceVault, LocalEvidenceBackend, MasterKey, sweep_orphans
from vigil.store.models import (
    AuditAction,
    EntryStatus,
    EvidenceItem,
    HashList,
    ListEntry,
    MatchHit,
    MatchRecord,
    RecordSource,
    Verdict,
    WebhookDelivery,
)
from vigil.store.records.matches import (
    HitRow,
    RecordNotFound,
    get_record,
    list_records,
    record_summary,
    save_record,
)
from vigil.store.records.outbox import register_endpoint

SUBMITTER = "key:abc123"
# Corpus fingerprints are the same in every test: computing them once keeps the suite fast.
fingerprint = functools.cache(fingerprint_file)


@dataclass
class Env:
    database: Database
    live: LiveIndex
    root: Path
    vault: EvidenceVault
    images: list[Path]

    def service(
        self,
        classifiers: tuple[Any, ...] = (),
        *,
        vault: bool = True,
        matcher: Matcher | None = None,
        **screening: Any,
    ) -> ScreeningService:
        settings = Settings(data_dir=self.root / "data", screening=ScreeningSettings(**screening))
        return ScreeningService(
            self.database,
            matcher or Matcher(self.live),
            settings=settings,
            vault=self.vault if vault else None,
            classifiers=classifiers,
        )

    def count(self, model: type) -> int:
        with self.database.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def blobs(self) -> list[Path]:
        return [p for p in (self.root / "evidence").rglob("*") if p.is_file()]

    def nothing_written(self) -> None:
        assert [self.count(m) for m in (MatchRecord, EvidenceItem, WebhookDelivery)] == [0, 0, 0]
        assert self.blobs() == []


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[Env]:
    listed = [fingerprint(p) for p in corpus_images[:3]]
    make_list(
        database,
        "ncmec",
        [("sha256", listed[0].sha256, "case-1"), ("pdq", listed[1].pdq, "case-2")],
        tmp_path,
    )
    make_list(database, "partner", [("md5", listed[2].md5, "p-1")], tmp_path)
    master_key = MasterKey.generate()
    with database.transaction(write=True) as session:
        session.execute(update(HashList).where(HashList.name == "ncmec").values(version="v42"))
        session.execute(
            update(ListEntry).where(ListEntry.external_id == "p-1").values(list_version="2025-06")
        )
        register_endpoint(
            session,
            "https://hooks.example.org/vigil",
            ["verdict"],
            created_by="admin",
            master_key=master_key,
        )
    vault = EvidenceVault(
        LocalEvidenceBackend(tmp_path / "evidence"),
        master_key,
        max_bytes=64 << 20,
        retention=timedelta(days=90),
    )
    with LiveIndex.open(database, tmp_path / "index") as live:
        yield Env(database, live, tmp_path, vault, corpus_images)


def item(content_id: str = "c-1") -> Submission:
    return Submission(
        content_id,
        "acct-1",
        UploadContext(ip_address="192.0.2.1", port=5555, email="someone@example.org"),
    )


def stored(env: Env, record_id: str | None) -> MatchRecord:
    assert record_id is not None
    with env.database.transaction() as session:
        record = get_record(session, record_id)
        assert record is not None
        return record


# --- matches --------------------------------------------------------------------------


def test_a_flood_of_uploads_makes_the_entry_suspect_never_silent(env: Env) -> None:
    # Anyone with an upload key can send one listed picture 55 times in an hour. The entry
    # must keep matching: from the surge on, each upload answers review, flagged, recorded.
    guard = FloodGuardSettings(threshold=10, min_matches=50, baseline_hours=24, min_history_hours=0)
    live_uploads = Matcher(env.live, flood_guard=guard, count_for_flood_guard=True)
    service = env.service(matcher=live_uploads)
    content = env.images[0].read_bytes()
    outcomes = [
        service.screen_upload(item(f"c-{n}"), content, submitted_by=SUBMITTER) for n in range(56)
    ]
    assert [o.verdict for o in outcomes[:50]] == [Verdict.MATCH] * 50
    assert [o.verdict for o in outcomes[50:]] == [Verdict.REVIEW] * 6
    last = outcomes[-1]
    assert last.to_dict()["matches"][0]["suspect"] is True
    assert any("is suspect" in reason for reason in last.reasons)
    record = stored(env, last.record_id)
    assert record.verdict is Verdict.REVIEW and [h.suspect for h in record.hits] == [True]
    assert record_summary(record)["hits"][0]["suspect"] is True
    with env.database.session() as session:
        entry = session.scalars(select(ListEntry).where(ListEntry.external_id == "case-1")).one()
        assert entry.status is EntryStatus.ACTIVE
        deliveries = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert deliveries[-1].payload["hits"][0]["suspect"] is True


def test_matching_upload_is_recorded_with_evidence_and_webhook(env: Env) -> None:
    content = env.images[0].read_bytes()
    outcome = env.service().screen_upload(item(), content, submitted_by=SUBMITTER)
    assert outcome.verdict is Verdict.MATCH
    assert outcome.reasons == ("sha256 digest on list ncmec",)
    assert outcome.evidence_kept and outcome.evidence_item_id
    assert outcome.fingerprint["sha256"] == fingerprint(env.images[0]).sha256
    assert "path" not in outcome.fingerprint and outcome.error is None

    record = stored(env, outcome.record_id)
    assert (record.source, record.verdict, record.submitted_by) == (
        RecordSource.UPLOAD,
        Verdict.MATCH,
        SUBMITTER,
    )
    assert record.context["ip_address"] == "192.0.2.1"
    [hit] = record.hits
    assert (hit.list_name, hit.list_version, hit.external_id, hit.classification) == (
        "ncmec",
        "v42",
        "case-1",
        "A1",
    )
    assert record.evidence_item_id == outcome.evidence_item_id

    with env.database.session() as session:
        assert env.vault.get(session, record.evidence_item_id) == content
        evidence = session.get(EvidenceItem, record.evidence_item_id)
        assert evidence is not None and evidence.reference == outcome.record_id
        [delivery] = session.scalars(select(WebhookDelivery)).all()
    payload = delivery.payload
    assert delivery.event == "verdict"
    assert (
        payload["record_id"],
        payload["verdict"],
        payload["content_id"],
        payload["account_id"],
    ) == (outcome.record_id, "match", "c-1", "acct-1")
    assert payload["hits"][0]["list"] == "ncmec" and payload["hits"][0]["list_version"] == "v42"
    assert "context" not in payload and "192.0.2.1" not in str(payload)
    assert "someone@example.org" not in str(payload)
    assert content not in b"".join(p.read_bytes() for p in env.blobs())  # only ciphertext


def test_hit_takes_the_entry_version_when_the_list_has_none(env: Env) -> None:
    outcome = env.service().screen_upload(
        item(), env.images[2].read_bytes(), submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.MATCH
    [hit] = stored(env, outcome.record_id).hits
    assert (hit.list_name, hit.list_version, hit.signal_type) == ("partner", "2025-06", "md5")


def test_unmatched_upload_writes_nothing(env: Env) -> None:
    outcome = env.service().screen_upload(
        item(), env.images[5].read_bytes(), submitted_by=SUBMITTER
    )
    assert (outcome.verdict, outcome.record_id, outcome.evidence_kept) == (
        Verdict.NO_MATCH,
        None,
        False,
    )
    assert outcome.matches == () and outcome.fingerprint["pdq"]
    env.nothing_written()


def test_keep_unmatched_keeps_record_and_evidence(env: Env) -> None:
    content = env.images[5].read_bytes()
    outcome = env.service(keep_unmatched=True).screen_upload(
        item(), content, submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.NO_MATCH and outcome.evidence_kept
    record = stored(env, outcome.record_id)
    assert record.verdict is Verdict.NO_MATCH and record.hits == []
    with env.database.session() as session:
        assert env.vault.get(session, outcome.evidence_item_id or "") == content


def test_without_a_vault_the_record_is_kept_without_evidence(env: Env) -> None:
    outcome = env.service(vault=False).screen_upload(
        item(), env.images[0].read_bytes(), submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.MATCH and not outcome.evidence_kept
    assert stored(env, outcome.record_id).evidence_item_id is None
    assert env.count(EvidenceItem) == 0 and env.blobs() == []


def test_rotated_image_matches_through_a_variant(env: Env) -> None:
    rotated = rotated_copy(env.images[1], env.root / "rotated.jpg").read_bytes()
    outcome = env.service(match_pdq_distance=31).screen_upload(
        item(), rotated, submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.MATCH
    [match] = outcome.matches
    assert match.variant not in (None, "original") and match.external_id == "case-2"
    [hit] = stored(env, outcome.record_id).hits
    assert (hit.signal_type, hit.variant, hit.distance) == ("pdq", match.variant, match.distance)


def test_near_match_goes_to_review(env: Env) -> None:
    buffer = io.BytesIO()
    with Image.open(env.images[1]) as image:
        image.convert("RGB").resize((image.width // 2, image.height // 2)).save(
            buffer, "JPEG", quality=30
        )
    outcome = env.service(match_pdq_distance=0).screen_upload(
        item(), buffer.getvalue(), submitted_by=SUBMITTER
    )
    [match] = outcome.matches
    assert match.distance is not None and 0 < match.distance <= 31
    assert outcome.verdict is Verdict.REVIEW
    assert outcome.reasons[0].startswith(f"near match: pdq distance {match.distance} > 0")
    assert stored(env, outcome.record_id).verdict is Verdict.REVIEW


def test_review_list_setting_sends_a_digest_match_to_review(env: Env) -> None:
    outcome = env.service(review_lists=["partner"]).screen_upload(
        item(), env.images[2].read_bytes(), submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.REVIEW
    assert "review list" in outcome.reasons[0]


def test_hashes_only(env: Env) -> None:
    photo = fingerprint(env.images[0])
    hashes = SubmittedHashes.from_mapping({"sha256": (photo.sha256 or "").upper()})
    outcome = env.service().screen_hashes(item(), hashes, submitted_by=SUBMITTER)
    assert outcome.verdict is Verdict.MATCH and not outcome.evidence_kept
    record = stored(env, outcome.record_id)
    assert (record.source, record.sha256, record.evidence_item_id) == (
        RecordSource.HASHES,
        photo.sha256,
        None,
    )
    unlisted = SubmittedHashes(md5="0" * 32)
    assert (
        env.service().screen_hashes(item("c-2"), unlisted, submitted_by=SUBMITTER).record_id is None
    )
    assert env.count(MatchRecord) == 1


def test_too_many_submitted_frames_are_refused(env: Env) -> None:
    hashes = SubmittedHashes(frames=tuple(("a" * 64, float(n)) for n in range(4)))
    with pytest.raises(SubmissionInvalid, match=r"^frames:"):
        env.service(max_frames_per_video=3).screen_hashes(item(), hashes, submitted_by=SUBMITTER)


def test_allow_list_suppresses_to_no_match(env: Env, tmp_path: Path) -> None:
    photo = fingerprint(env.images[0])
    make_list(env.database, "stock", [("md5", photo.md5, "s-1")], tmp_path, is_allow_list=True)
    outcome = env.service().screen_upload(
        item(), env.images[0].read_bytes(), submitted_by=SUBMITTER
    )
    assert (outcome.verdict, outcome.matches) == (Verdict.NO_MATCH, ())
    assert [m.list for m in outcome.suppressed_by] == ["stock"]
    assert outcome.to_dict()["suppressed_by"][0]["external_id"] == "s-1"
    env.nothing_written()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, corpus_images: list[Path]) -> Path:
    return make_clip(corpus_images[8:12], tmp_path_factory.mktemp("clip") / "clip.mp4")


def test_listed_video_matches_as_upload_and_as_frame_hashes(env: Env, clip: Path) -> None:
    video = fingerprint(clip)
    make_list(env.database, "videos", [], env.root)
    list_video(env.database, "videos", video, "v-1")
    uploaded = env.service().screen_upload(item(), clip.read_bytes(), submitted_by=SUBMITTER)
    assert uploaded.verdict is Verdict.MATCH
    assert uploaded.reasons == ("video frames on list videos",)
    assert uploaded.fingerprint["frame_count"] == len(video.frames or [])
    [hit] = stored(env, uploaded.record_id).hits
    assert hit.signal_type == "video_pdq" and hit.external_id == "v-1"
    assert hit.share is not None and 0.8 <= hit.share <= 1.0
    frames = [[f.pdq, f.t] for f in video.frames or []]
    hashes = SubmittedHashes.from_mapping({"frames": frames})
    by_hashes = env.service().screen_hashes(item("c-2"), hashes, submitted_by=SUBMITTER)
    assert by_hashes.verdict is Verdict.MATCH
    assert stored(env, by_hashes.record_id).frame_count == len(frames)


# --- flags ----------------------------------------------------------------------------


def test_user_report_goes_to_review_with_its_note(env: Env) -> None:
    outcome = env.service().flag(
        item(),
        source=RecordSource.USER_REPORT,
        submitted_by="user:alice",
        note="looks wrong\nplease check",
    )
    assert outcome.verdict is Verdict.REVIEW and outcome.reasons == ("user report",)
    record = stored(env, outcome.record_id)
    assert (record.source, record.note, record.sha256) == (
        RecordSource.USER_REPORT,
        "looks wrong\nplease check",
        None,
    )
    assert env.count(WebhookDelivery) == 1


def test_reported_unmatched_content_is_kept_as_evidence(env: Env) -> None:
    content = env.images[6].read_bytes()
    outcome = env.service().flag(
        item(), source=RecordSource.USER_REPORT, submitted_by="user:alice", content=content
    )
    assert outcome.verdict is Verdict.REVIEW and outcome.evidence_kept
    with env.database.session() as session:
        assert env.vault.get(session, outcome.evidence_item_id or "") == content


def test_report_of_listed_content_is_a_match(env: Env) -> None:
    outcome = env.service().flag(
        item(),
        source=RecordSource.USER_REPORT,
        submitted_by="user:alice",
        content=env.images[0].read_bytes(),
    )
    assert outcome.verdict is Verdict.MATCH
    assert outcome.reasons == ("sha256 digest on list ncmec", "user report")


def test_escalation_is_reviewed_and_audited(env: Env) -> None:
    photo = fingerprint(env.images[7])
    outcome = env.service().flag(
        item(),
        source=RecordSource.ESCALATION,
        submitted_by="user:mod",
        hashes=SubmittedHashes(pdq=photo.pdq, pdq_quality=photo.pdq_quality),
        note="urgent",
    )
    assert outcome.verdict is Verdict.REVIEW and outcome.reasons == ("escalation",)
    assert stored(env, outcome.record_id).pdq == photo.pdq
    with env.database.session() as session:
        # The fixture's lists were audited as they were created and imported.
        [audit] = [
            record for record in AuditLog(session).recent(50) if record.subject_type != "hash_list"
        ]
    assert (audit.action, audit.actor, audit.subject_type, audit.subject_id) == (
        AuditAction.ESCALATION,
        "user:mod",
        "match_record",
        outcome.record_id,
    )
    assert audit.details == {"content_id": "c-1", "verdict": "review"}


def test_only_reports_and_escalations_are_flags(env: Env) -> None:
    for source in (RecordSource.UPLOAD, RecordSource.HASHES, RecordSource.CLASSIFIER):
        with pytest.raises(SubmissionInvalid, match=r"^source:"):
            env.service().flag(item(), source=source, submitted_by="user:alice")
    env.nothing_written()


def test_flag_refuses_content_and_hashes_together_and_long_notes(env: Env) -> None:
    with pytest.raises(SubmissionInvalid, match=r"^content:"):
        env.service().flag(
            item(),
            source=RecordSource.USER_REPORT,
            submitted_by="u",
            content=b"x",
            hashes=SubmittedHashes(md5="0" * 32),
        )
    with pytest.raises(SubmissionInvalid, match=r"^note:"):
        env.service().flag(
            item(), source=RecordSource.USER_REPORT, submitted_by="u", note="n" * 10_001
        )
    with pytest.raises(ValueError, match="submitted_by"):
        env.service().screen_upload(item(), b"x", submitted_by="")


# --- classifiers ----------------------------------------------------------------------


@dataclass
class FixedScore:
    name: str
    threshold: float
    score: float
    calls: list[str] = field(default_factory=list)

    def classify(self, media: bytes, media_type: str) -> ClassifierResult:
        assert media
        self.calls.append(media_type)
        return ClassifierResult(
            self.name, self.score, ("test",), self.threshold, {"model": "fixed-1"}
        )


@dataclass
class Broken:
    name: str = "broken"
    threshold: float = 0.5
    error: Exception = field(default_factory=lambda: ClassifierError("service unreachable"))

    def classify(self, media: bytes, media_type: str) -> ClassifierResult:
        raise self.error


def test_classifier_above_threshold_sends_to_review(env: Env) -> None:
    high = FixedScore("nudity", 0.8, 0.93)
    outcome = env.service((high,)).screen_upload(
        item(), env.images[6].read_bytes(), submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.REVIEW
    assert outcome.reasons == ("classifier nudity score 0.93 > 0.80",)
    assert high.calls == ["photo"]
    record = stored(env, outcome.record_id)
    assert record.source is RecordSource.CLASSIFIER and outcome.evidence_kept
    assert record.classifier == {"results": [high.classify(b"x", "photo").to_dict()], "errors": []}


def test_classifier_below_threshold_changes_nothing(env: Env) -> None:
    low = FixedScore("nudity", 0.8, 0.2)
    outcome = env.service((low,)).screen_upload(
        item(), env.images[6].read_bytes(), submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.NO_MATCH and low.calls == ["photo"]
    assert outcome.classifier[0].score == 0.2
    env.nothing_written()


def test_classifiers_are_skipped_when_the_lists_already_match(env: Env) -> None:
    high = FixedScore("nudity", 0.8, 0.99)
    outcome = env.service((high,)).screen_upload(
        item(), env.images[0].read_bytes(), submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.MATCH and high.calls == [] and outcome.classifier == ()


@pytest.mark.parametrize(
    "error", [ClassifierError("service unreachable"), RuntimeError("secret-token-in-bug")]
)
def test_failing_classifier_is_reported_and_changes_nothing(env: Env, error: Exception) -> None:
    high = FixedScore("other", 0.5, 0.9)
    service = env.service((Broken(error=error), high))
    outcome = service.screen_upload(item(), env.images[6].read_bytes(), submitted_by=SUBMITTER)
    assert outcome.verdict is Verdict.REVIEW  # the working classifier still counted
    [failure] = outcome.classifier_errors
    assert failure["name"] == "broken"
    assert "secret-token" not in failure["error"]
    alone = env.service((Broken(error=error),)).screen_upload(
        item("c-2"), env.images[6].read_bytes(), submitted_by=SUBMITTER
    )
    assert alone.verdict is Verdict.NO_MATCH and len(alone.classifier_errors) == 1
    assert env.count(MatchRecord) == 1
    assert stored(env, outcome.record_id).classifier["errors"] == [failure]  # type: ignore[index]


# --- broken content and failures ------------------------------------------------------


def test_undecodable_upload(env: Env, tmp_path: Path) -> None:
    garbage = b"\xff\xd8\xff" + bytes(range(256)) * 8
    listed = SubmittedHashes(sha1=hashlib.sha1(garbage).hexdigest())
    # Fail-open is opt-in (issue 14): unjudged media goes to review unless turned off.
    unlisted = env.service(review_undecodable=False).screen_upload(
        item(), garbage + b"!", submitted_by=SUBMITTER
    )
    assert (unlisted.verdict, unlisted.error_reason) == (Verdict.NO_MATCH, "corrupt_media")
    assert unlisted.fingerprint["sha1"] and unlisted.fingerprint["pdq"] is None
    env.nothing_written()
    make_list(env.database, "digests", [("sha1", listed.sha1, "d-1")], tmp_path)
    outcome = env.service().screen_upload(item(), garbage, submitted_by=SUBMITTER)
    assert outcome.verdict is Verdict.MATCH and outcome.error_reason == "corrupt_media"
    assert outcome.to_dict()["error"]
    with env.database.session() as session:
        assert env.vault.get(session, outcome.evidence_item_id or "") == garbage
    reported = env.service().flag(
        item("c-3"), source=RecordSource.USER_REPORT, submitted_by="user:a", content=b"\x00" * 100
    )
    assert reported.verdict is Verdict.REVIEW and reported.error_reason == "not_media"


def _failing_save(*_args: Any, **_kwargs: Any) -> MatchRecord:
    raise RuntimeError("database went away")


def test_failure_after_sealing_leaves_no_record_and_no_blob(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "save_record", _failing_save)
    with pytest.raises(RuntimeError, match="went away"):
        env.service().screen_upload(item(), env.images[0].read_bytes(), submitted_by=SUBMITTER)
    env.nothing_written()


def test_crash_after_sealing_leaves_only_an_undecryptable_orphan(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = env.images[0].read_bytes()
    monkeypatch.setattr(service_module, "save_record", _failing_save)

    def crashed(_blob_id: str) -> None:  # the process died before it could clean up
        raise OSError("gone")

    monkeypatch.setattr(env.vault.backend, "delete", crashed)
    with pytest.raises(RuntimeError):
        env.service().screen_upload(item(), content, submitted_by=SUBMITTER)
    monkeypatch.undo()
    assert env.count(MatchRecord) == env.count(EvidenceItem) == 0
    [orphan] = env.blobs()
    everything = b"".join(
        p.read_bytes()
        for p in env.root.rglob("*")
        if p.is_file() and p.suffix not in {".jpg", ".csv"} and "index" not in p.parts
    )
    assert content not in everything and content[1000:1064] not in everything
    with env.database.session() as session:
        removed = sweep_orphans(session, env.vault, older_than=timedelta(0))
    assert removed == [orphan.name] and env.blobs() == []


def test_concurrent_uploads_are_all_recorded(env: Env) -> None:
    service = env.service()
    contents = [env.images[0].read_bytes(), env.images[2].read_bytes(), env.images[5].read_bytes()]
    outcomes: list[Any] = []
    errors: list[BaseException] = []

    def screen(n: int) -> None:
        try:
            outcomes.append(
                service.screen_upload(item(f"c-{n}"), contents[n % 3], submitted_by=SUBMITTER)
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=screen, args=(n,)) for n in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    recorded = [o for o in outcomes if o.record_id]
    assert len(recorded) == 6 and len({o.record_id for o in recorded}) == 6
    assert env.count(MatchRecord) == env.count(EvidenceItem) == env.count(WebhookDelivery) == 6
    assert env.count(MatchHit) == 6


# --- reading records ------------------------------------------------------------------


def test_records_list_newest_first_with_keyset_pages(env: Env) -> None:
    service = env.service()
    ids = [
        service.flag(
            item(f"c-{n}"), source=RecordSource.USER_REPORT, submitted_by="user:a"
        ).record_id
        for n in range(5)
    ]
    match = service.screen_upload(item("c-9"), env.images[0].read_bytes(), submitted_by=SUBMITTER)
    with env.database.session() as session:
        first = list_records(session, limit=4)
        assert [r.public_id for r in first] == [match.record_id, *reversed(ids[2:])]
        rest = list_records(session, limit=4, before=first[-1].public_id)
        assert [r.public_id for r in rest] == list(reversed(ids[:2]))
        assert [r.public_id for r in list_records(session, verdict="match")] == [match.record_id]
        assert [r.public_id for r in list_records(session, content_id="c-3")] == [ids[3]]
        summary = record_summary(first[0])
    assert summary["hits"][0]["list_version"] == "v42"
    assert summary["evidence_item_id"] == match.evidence_item_id
    assert isinstance(summary["received_at"], str)


def test_store_refuses_unknown_hits_and_cursors(env: Env) -> None:
    with env.database.session() as session:
        with pytest.raises(RecordNotFound):
            list_records(session, before="0" * 32)
        with pytest.raises(StoreError, match="does not exist"):
            save_record(
                session,
                source=RecordSource.HASHES,
                verdict=Verdict.MATCH,
                reasons=["x"],
                submitted_by="t",
                content_id="c",
                hits=[HitRow(entry_id=999_999, list_id=1, signal_type="md5")],
            )
        session.rollback()
    assert env.count(MatchRecord) == 0
