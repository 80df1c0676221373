"""Validation of what platforms submit: well-formed input normalised, hostile input refused
with a message naming the field (and never echoing the value)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from vigil.screening.submission import (
    Submission,
    SubmissionInvalid,
    SubmittedHashes,
    UploadContext,
)

MD5 = "0" * 31 + "a"
SHA1 = "1" * 40
SHA256 = "2" * 64
PDQ = "f" * 64


def submission(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "content_id": "c-1",
        "account_id": "acct-9",
        "context": {
            "ip_address": "2001:DB8:0:0::1",
            "port": 443,
            "ip_seen_at": "2025-01-02T03:04:05Z",
            "uploaded_at": "2025-01-02T03:04:06+02:00",
            "email": "a@example.org",
            "screen_name": "someone",
            "conversation_id": "conv-1",
            "visibility": "private",
        },
    }
    data.update(overrides)
    return data


def context(**fields: Any) -> dict[str, Any]:
    return submission(context=fields)


def test_a_full_submission_is_normalised() -> None:
    parsed = Submission.from_mapping(submission())
    assert parsed.content_id == "c-1" and parsed.account_id == "acct-9"
    assert parsed.context.ip_address == "2001:db8::1"
    assert parsed.context.ip_seen_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    as_dict = parsed.context.to_dict()
    assert as_dict["ip_address"] == "2001:db8::1" and as_dict["port"] == 443
    assert as_dict["ip_seen_at"] == "2025-01-02T03:04:05+00:00"
    assert as_dict["uploaded_at"] == "2025-01-02T03:04:06+02:00"


def test_minimal_submission_has_an_empty_context() -> None:
    parsed = Submission.from_mapping({"content_id": "x"})
    assert parsed.account_id is None and parsed.context.to_dict() == {}


@pytest.mark.parametrize(
    "address", ["999.1.1.1", "10.0.0", "::g", "localhost", "", "1.2.3.4/24", "1" * 100]
)
def test_bad_ip_addresses(address: str) -> None:
    with pytest.raises(SubmissionInvalid, match=r"^context\.ip_address:") as caught:
        Submission.from_mapping(context(ip_address=address))
    if address:
        assert address not in str(caught.value)


def test_ipv4_is_kept_and_padded_whitespace_trimmed() -> None:
    assert UploadContext(ip_address=" 192.0.2.7 ").ip_address == "192.0.2.7"


@pytest.mark.parametrize("port", [70000, -1, 65536, "443", True, 1.5])
def test_bad_ports(port: object) -> None:
    with pytest.raises(SubmissionInvalid, match=r"^context\.port:"):
        Submission.from_mapping(context(port=port))


@pytest.mark.parametrize("port", [0, 65535])
def test_port_bounds_are_allowed(port: int) -> None:
    assert UploadContext(port=port).port == port


@pytest.mark.parametrize(
    "when", ["2025-01-02T03:04:05", "2025-01-02", "yesterday", 17, "2025-13-45T00:00:00Z"]
)
def test_naive_or_invalid_datetimes(when: object) -> None:
    with pytest.raises(SubmissionInvalid, match=r"^context\.uploaded_at:"):
        Submission.from_mapping(context(uploaded_at=when))


def test_naive_datetime_object_is_refused() -> None:
    with pytest.raises(SubmissionInvalid, match="time zone"):
        UploadContext(ip_seen_at=datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("content_id", "x" * 256),
        ("content_id", ""),
        ("content_id", "bad\nid"),
        ("content_id", "nul\x00"),
        ("content_id", "\x1b[31mred"),
        ("content_id", 12),
        ("account_id", "a" * 256),
        ("account_id", "tab\there"),
        ("account_id", ["a"]),
    ],
)
def test_bad_ids(field: str, value: object) -> None:
    with pytest.raises(SubmissionInvalid, match=rf"^{field}:"):
        Submission.from_mapping(submission(**{field: value}))


def test_ids_at_the_limit_are_fine() -> None:
    parsed = Submission.from_mapping(submission(content_id="x" * 255, account_id="é" * 255))
    assert len(parsed.content_id) == 255


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "no-at-sign"),
        ("email", "a@" + "b" * 253),
        ("email", "a@b\r\nBcc: x"),
        ("screen_name", "s" * 256),
        ("conversation_id", "c" * 256),
        ("visibility", "friends"),
        ("screen_name", 5),
    ],
)
def test_bad_context_fields(field: str, value: object) -> None:
    with pytest.raises(SubmissionInvalid, match=rf"^context\.{field}:"):
        Submission.from_mapping(context(**{field: value}))


def test_unknown_keys_are_rejected_everywhere() -> None:
    with pytest.raises(SubmissionInvalid, match=r"^submission: unknown fields \['extra'\]"):
        Submission.from_mapping(submission(extra=1))
    with pytest.raises(SubmissionInvalid, match=r"^context: unknown fields \['ip'\]"):
        Submission.from_mapping(context(ip="1.2.3.4"))
    with pytest.raises(SubmissionInvalid, match=r"^hashes: unknown fields \['crc32'\]"):
        SubmittedHashes.from_mapping({"md5": MD5, "crc32": "00"})


@pytest.mark.parametrize("data", [[], "c-1", None])
def test_non_objects_are_rejected(data: object) -> None:
    with pytest.raises(SubmissionInvalid, match="must be an object"):
        Submission.from_mapping(data)  # type: ignore[arg-type]


def test_missing_content_id() -> None:
    with pytest.raises(SubmissionInvalid, match=r"^content_id: is required"):
        Submission.from_mapping({"account_id": "a"})


def test_context_must_be_an_object() -> None:
    with pytest.raises(SubmissionInvalid, match=r"^context:"):
        Submission.from_mapping(submission(context="1.2.3.4"))


# --- hashes ----------------------------------------------------------------------------


def test_hashes_are_lowercased_and_become_a_fingerprint() -> None:
    hashes = SubmittedHashes.from_mapping(
        {"md5": MD5.upper(), "sha1": SHA1, "sha256": SHA256, "pdq": PDQ.upper(), "pdq_quality": 77}
    )
    assert hashes.md5 == MD5 and hashes.pdq == PDQ
    fingerprint = hashes.to_fingerprint()
    assert (fingerprint.md5, fingerprint.sha1, fingerprint.sha256, fingerprint.pdq) == (
        MD5,
        SHA1,
        SHA256,
        PDQ,
    )
    assert fingerprint.pdq_quality == 77 and fingerprint.media_type == "photo"
    assert fingerprint.ok and fingerprint.frames is None


def test_pdq_without_quality_counts_as_full_quality() -> None:
    assert SubmittedHashes(pdq=PDQ).to_fingerprint().pdq_quality == 100
    assert SubmittedHashes(md5=MD5).to_fingerprint().pdq_quality is None


def test_video_frames_become_frame_hashes() -> None:
    hashes = SubmittedHashes.from_mapping({"frames": [[PDQ.upper(), 0], ["a" * 64, 1.5]]})
    fingerprint = hashes.to_fingerprint()
    assert fingerprint.media_type == "video"
    assert [(f.pdq, f.t) for f in fingerprint.frames or []] == [(PDQ, 0.0), ("a" * 64, 1.5)]


def test_no_hashes_at_all() -> None:
    for empty in ({}, {"pdq_quality": None}, {"frames": []}):
        with pytest.raises(SubmissionInvalid, match=r"^hashes: at least one hash"):
            SubmittedHashes.from_mapping(empty)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("md5", "0" * 31),
        ("md5", "0" * 33),
        ("sha1", "1" * 64),
        ("sha256", "2" * 63),
        ("pdq", "f" * 65),
        ("md5", "g" * 32),
        ("sha256", " " + "2" * 63),
        ("pdq", 12),
        ("sha1", "\uff11" * 40),  # full-width digits are not hex
    ],
)
def test_wrong_hash_lengths_and_non_hex(field: str, value: object) -> None:
    with pytest.raises(SubmissionInvalid, match=rf"^{field}:"):
        SubmittedHashes.from_mapping({field: value})


@pytest.mark.parametrize("quality", [-1, 101, "50", True])
def test_bad_quality(quality: object) -> None:
    with pytest.raises(SubmissionInvalid, match=r"^pdq_quality:"):
        SubmittedHashes.from_mapping({"pdq": PDQ, "pdq_quality": quality})


def test_quality_without_pdq() -> None:
    with pytest.raises(SubmissionInvalid, match=r"^pdq_quality: given without"):
        SubmittedHashes.from_mapping({"md5": MD5, "pdq_quality": 50})


@pytest.mark.parametrize(
    ("frames", "where"),
    [
        ("abc", "frames"),
        ([[PDQ]], r"frames\[0\]"),
        ([[PDQ, 1, 2]], r"frames\[0\]"),
        ([[PDQ, 0], ["x" * 64, 1]], r"frames\[1\]"),
        ([[PDQ, -1]], r"frames\[0\]"),
        ([[PDQ, float("nan")]], r"frames\[0\]"),
        ([[PDQ, "1"]], r"frames\[0\]"),
        ([[PDQ, float("inf")]], r"frames\[0\]"),
        ([[5, 0]], r"frames\[0\]"),
    ],
)
def test_bad_frames(frames: object, where: str) -> None:
    with pytest.raises(SubmissionInvalid, match=rf"^{where}:"):
        SubmittedHashes.from_mapping({"frames": frames})


def test_too_many_frames() -> None:
    frames = [[PDQ, float(n)] for n in range(11)]
    with pytest.raises(SubmissionInvalid, match=r"^frames: at most 10"):
        SubmittedHashes.from_mapping({"frames": frames}, max_frames=10)
    assert len(SubmittedHashes.from_mapping({"frames": frames[:10]}, max_frames=10).frames) == 10
