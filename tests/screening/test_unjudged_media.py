"""Media Vigil cannot judge goes to a person, not through (issue 14, item 3).

Before: a listed picture truncated by 2% (browsers still show it) or over a decoding limit
answered ``no_match`` and nothing was kept. Now what decodes is hashed (``partial``), and what
cannot be judged goes to review with the reason, kept as evidence in the account's case.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from tests import decode_bombs
from tests.screening import test_service
from tests.screening.test_service import SUBMITTER, Env, item, stored
from vigil.core.settings import DecodingSettings, ScreeningSettings, Settings
from vigil.screening.matcher import Matcher
from vigil.screening.service import ScreeningService
from vigil.screening.submission import SubmittedHashes
from vigil.store.models import CaseItem, Verdict

MIB = 1 << 20
env = test_service.env  # the same fixture: lists, vault and index of the service's tests


def service(env: Env, *, max_bytes: int = 512 * MIB, **screening: object) -> ScreeningService:
    settings = Settings(
        data_dir=env.root / "data",
        screening=ScreeningSettings(**screening),  # type: ignore[arg-type]
        decoding=DecodingSettings(max_bytes=max_bytes),
    )
    return ScreeningService(env.database, Matcher(env.live), settings=settings, vault=env.vault)


def in_a_case(env: Env, record_id: str | None) -> bool:
    record = stored(env, record_id)
    with env.database.transaction() as session:
        return (
            session.scalar(select(CaseItem.id).where(CaseItem.record_id == record.id)) is not None
        )


def cut(data: bytes, share: float = 0.98) -> bytes:
    return data[: int(len(data) * share)]


def test_a_listed_picture_cut_by_two_percent_is_not_let_through(env: Env) -> None:
    truncated = cut(env.images[1].read_bytes())  # listed on "ncmec" by its PDQ
    outcome = service(env).screen_upload(item(), truncated, submitted_by=SUBMITTER)
    assert outcome.verdict is not Verdict.NO_MATCH, outcome
    assert [m.external_id for m in outcome.matches] == ["case-2"]
    assert outcome.fingerprint["partial"] is True
    assert any(
        reason.startswith("only part of the content could be decoded") for reason in outcome.reasons
    )
    assert outcome.evidence_kept and in_a_case(env, outcome.record_id)
    with env.database.session() as session:
        assert env.vault.get(session, outcome.evidence_item_id or "") == truncated


def test_an_unlisted_truncated_picture_goes_to_review(env: Env) -> None:
    outcome = service(env).screen_upload(
        item(), cut(env.images[5].read_bytes()), submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.REVIEW and outcome.matches == ()
    assert outcome.fingerprint["partial"] is True and outcome.fingerprint["pdq"]
    assert outcome.evidence_kept and in_a_case(env, outcome.record_id)


def test_media_over_a_decoding_limit_goes_to_review_with_the_reason(env: Env) -> None:
    bomb = decode_bombs.png16(2_000, 2_000)  # 16 MB decoded: over a 8 MiB budget
    outcome = service(env, max_bytes=8 * MIB).screen_upload(item(), bomb, submitted_by=SUBMITTER)
    assert outcome.verdict is Verdict.REVIEW
    assert outcome.error_reason == "over_decode_budget"
    assert outcome.reasons[0].startswith("content could not be decoded (over_decode_budget")
    assert outcome.to_dict()["error"]  # the API's answer says why
    assert outcome.evidence_kept and in_a_case(env, outcome.record_id)
    assert stored(env, outcome.record_id).reasons == list(outcome.reasons)


def test_fail_open_only_when_the_operator_says_so(env: Env) -> None:
    bomb = decode_bombs.png16(2_000, 2_000)
    outcome = service(env, max_bytes=8 * MIB, review_undecodable=False).screen_upload(
        item(), bomb, submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.NO_MATCH and outcome.record_id is None
    env.nothing_written()


def test_files_that_are_not_media_are_not_sent_to_review(env: Env) -> None:
    """Digests judged them as far as anything can: review would drown in text files."""
    outcome = service(env).screen_upload(
        item(), b"plain text, not a picture\n" * 10, submitted_by=SUBMITTER
    )
    assert (outcome.verdict, outcome.error_reason) == (Verdict.NO_MATCH, "not_media")
    env.nothing_written()


def test_hashes_sent_by_the_platform_are_judged_as_before(env: Env) -> None:
    outcome = service(env).screen_hashes(
        item(), SubmittedHashes(sha1="0" * 40), submitted_by=SUBMITTER
    )
    assert outcome.verdict is Verdict.NO_MATCH and outcome.reasons == ()


@pytest.mark.slow
def test_a_listed_picture_upscaled_to_90_megapixels_matches(env: Env) -> None:
    """9,500 x 9,500 = 90.25 MP: over Pillow's own 89.5 MP limit, under Vigil's 100 MP."""
    upscaled = Image.open(env.images[1]).convert("RGB").resize((9_500, 9_500))
    buffer = io.BytesIO()
    upscaled.save(buffer, "PNG", compress_level=1)
    del upscaled
    outcome = service(env).screen_upload(item(), buffer.getvalue(), submitted_by=SUBMITTER)
    assert outcome.error_reason is None, outcome.error
    assert [m.external_id for m in outcome.matches] == ["case-2"]
    assert outcome.verdict is not Verdict.NO_MATCH
