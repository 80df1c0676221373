"""SOURCE strings into sources: each kind, the round trip through describe(), and hostile
input (empty buckets, bare schemes, other URL schemes, traversal that is only a key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.screening.backlog.local_source import LocalSource
from vigil.screening.backlog.manifest_source import KeyListSource, ManifestSource
from vigil.screening.backlog.objects import SourceError
from vigil.screening.backlog.s3_source import S3Source
from vigil.screening.backlog.source_uri import open_source


def test_s3_addresses() -> None:
    source = open_source("s3://photos/2024/")
    assert isinstance(source, S3Source)
    assert (source.bucket, source.prefix) == ("photos", "2024/")
    whole = open_source("s3://photos")
    assert isinstance(whole, S3Source) and (whole.bucket, whole.prefix) == ("photos", "")


def test_traversal_in_an_s3_address_is_only_a_prefix() -> None:
    source = open_source("s3://photos/../../etc//passwd")
    assert isinstance(source, S3Source)
    assert (source.bucket, source.prefix) == ("photos", "../../etc//passwd")


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "   ",
        "s3://",
        "s3:///prefix",
        "s3://../x",
        "s3://a b/x",
        "s3://-x/y",
        "keys:",
        "keys:b",
        "keys::/tmp/k.txt",
        "keys:b:",
        "manifest:",
        "gs://bucket/x",
        "https://example.org/a",
        "file://relative/path",
    ],
)
def test_hostile_or_empty_sources_are_refused(uri: str) -> None:
    with pytest.raises(SourceError):
        open_source(uri)


def test_manifests_and_key_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    manifest = open_source("manifest:inv/manifest.json")
    assert isinstance(manifest, ManifestSource)
    assert manifest.describe() == f"manifest:{tmp_path}/inv/manifest.json"  # absolute
    remote = open_source("manifest:s3://dest/inv/manifest.json")
    assert isinstance(remote, ManifestSource) and remote.location == "s3://dest/inv/manifest.json"
    keys = open_source("keys:photos:s3://lists/keys.txt")
    assert isinstance(keys, KeyListSource)
    assert (keys.bucket, keys.location) == ("photos", "s3://lists/keys.txt")


def test_local_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for uri in ("media", f"{tmp_path}/media", f"file://{tmp_path}/media"):
        source = open_source(uri)
        assert isinstance(source, LocalSource) and source.root == tmp_path / "media"
    # A colon in a file name does not make it an address.
    odd = open_source("photo:2024.jpg")
    assert isinstance(odd, LocalSource) and odd.root == tmp_path / "photo:2024.jpg"


@pytest.mark.parametrize(
    "uri",
    ["s3://photos/2024/", "s3://photos/", "manifest:s3://dest/m.json", "keys:b:s3://l/k.txt"],
)
def test_describe_reopens_the_same_source(uri: str) -> None:
    assert open_source(open_source(uri).describe()).describe() == uri


def test_describe_reopens_local_sources(tmp_path: Path) -> None:
    for uri in (str(tmp_path), f"manifest:{tmp_path}/m.json", f"keys:b:{tmp_path}/k.txt"):
        assert open_source(open_source(uri).describe()).describe() == uri
