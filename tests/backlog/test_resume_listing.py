"""Where a resumed job's listing starts: after the checkpoint in the store itself for an S3
prefix (no LIST request for the finished keys, plain or versioned bucket), from the start
with the count checked for every other source (a key list, a manifest, a local tree)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.backlog.listing_requests import ListingRequests
from vigil.screening.backlog.chunks import ListingChanged, resumed_listing
from vigil.screening.backlog.local_source import LocalSource
from vigil.screening.backlog.manifest_source import KeyListSource
from vigil.screening.backlog.objects import ObjectError, ObjectRef, ResumableSource
from vigil.screening.backlog.s3_source import S3Source

KEYS = [f"media/{n:02d}.jpg" for n in range(30)]
CHECKPOINT = KEYS[19]  # the last key of the finished chunks
PAGE = 5


def _source(bucket: str, requests: ListingRequests) -> S3Source:
    return S3Source(bucket, "media/", client=requests.attach(boto3.client("s3")), page_size=PAGE)


def _keys(items: Iterator[ObjectRef | ObjectError]) -> list[str]:
    return [item.key for item in items]


def test_an_s3_resume_lists_only_the_keys_after_the_checkpoint(s3: Any, bucket: str) -> None:
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    requests = ListingRequests()
    listing = resumed_listing(_source(bucket, requests), done=20, checkpoint=CHECKPOINT)
    assert _keys(listing) == KEYS[20:]
    assert requests.asked[0]["StartAfter"] == CHECKPOINT
    assert requests.answered == KEYS[20:]  # nothing before the checkpoint was asked for
    assert len(requests.asked) <= 3  # 10 keys in pages of 5, not the 30 keys' 6 pages

    requests = ListingRequests()
    assert _keys(resumed_listing(_source(bucket, requests), 0, None)) == KEYS  # a new job
    assert len(requests.asked) >= 6


def test_objects_deleted_or_added_before_the_checkpoint_do_not_stop_an_s3_resume(
    s3: Any, bucket: str
) -> None:
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    for key in (KEYS[3], CHECKPOINT):  # the checkpoint's own object may go too
        s3.delete_object(Bucket=bucket, Key=key)
    s3.put_object(Bucket=bucket, Key="media/05b.jpg", Body=b"new")  # screened on upload
    listing = resumed_listing(_source(bucket, ListingRequests()), 20, CHECKPOINT)
    assert _keys(listing) == KEYS[20:]


def test_a_versioned_resume_lists_each_later_key_once_as_its_current_version(
    s3: Any, bucket: str
) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    current: dict[str, str] = {}
    for key in KEYS:
        for body in (b"old", b"older is gone", b"current")[: 1 + KEYS.index(key) % 3]:
            current[key] = s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]
    s3.delete_object(Bucket=bucket, Key=KEYS[2])  # a delete marker before the checkpoint
    s3.delete_object(Bucket=bucket, Key=KEYS[24])  # and one after: that key is gone
    del current[KEYS[24]]
    requests = ListingRequests()
    # Pages of 5 versions end inside keys' version lists: the store's own markers go on.
    items = list(resumed_listing(_source(bucket, requests), 20, CHECKPOINT))
    refs = [item for item in items if isinstance(item, ObjectRef)]
    assert len(refs) == len(items)
    expected = [key for key in KEYS[20:] if key in current]
    assert [(ref.key, ref.version) for ref in refs] == [(key, current[key]) for key in expected]
    assert requests.asked[0]["KeyMarker"] == CHECKPOINT
    assert "VersionIdMarker" not in requests.asked[0]  # from the next key's first version
    assert all(key >= CHECKPOINT for key in requests.answered)


class _IgnoresTheMarker:
    """A store that answers a listing started after a key with the whole listing."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def objects(self) -> Iterator[ObjectRef | ObjectError]:
        return iter([ObjectRef("s3", "b", key, "v", 1) for key in self.keys])

    def objects_after(self, checkpoint: str) -> Iterator[ObjectRef | ObjectError]:
        return self.objects()

    def read(self, ref: ObjectRef, max_bytes: int) -> bytes:
        raise AssertionError("not read here")

    def describe(self) -> str:
        return "s3://b/"


def test_keys_at_or_before_the_checkpoint_are_never_scanned_twice() -> None:
    source = _IgnoresTheMarker(KEYS)
    assert isinstance(source, ResumableSource)
    assert _keys(resumed_listing(source, 20, CHECKPOINT)) == KEYS[20:]


def test_a_key_list_is_skipped_by_count_and_checked(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.txt"
    key_file.write_text("".join(f"{key}\n" for key in KEYS))
    source = KeyListSource("uploads", str(key_file))
    assert not isinstance(source, ResumableSource)
    assert _keys(resumed_listing(source, 20, CHECKPOINT)) == KEYS[20:]
    key_file.write_text("".join(f"{key}\n" for key in KEYS if key != KEYS[3]))
    with pytest.raises(ListingChanged, match="new job"):
        list(resumed_listing(source, 20, CHECKPOINT))


def test_a_local_tree_is_skipped_by_count_and_checked(tmp_path: Path) -> None:
    # Walked sorted per folder ("a/z" before "a-b"), not in the key order a marker needs.
    for name in ("a/z.bin", "a-b.bin", "c.bin"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    source = LocalSource(tmp_path)
    assert not isinstance(source, ResumableSource)
    listing = _keys(source.objects())
    assert listing == [str(tmp_path / name) for name in ("a/z.bin", "a-b.bin", "c.bin")]
    assert _keys(resumed_listing(source, 1, listing[0])) == listing[1:]
    (tmp_path / "a/z.bin").unlink()
    with pytest.raises(ListingChanged):
        list(resumed_listing(source, 1, listing[0]))
