"""Master key files: creating one safely, the default location outside the data directory,
and first-run setup. XDG_CONFIG_HOME points platformdirs at a temporary folder."""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path

import pytest

from vigil.core.settings import load_settings
from vigil.store.evidence import MasterKey, MasterKeyMissing, load_master_key
from vigil.store.evidence.keys import (
    MasterKeyFileExists,
    default_master_key_path,
    ensure_master_key,
    write_master_key_file,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("VIGIL_EVIDENCE__MASTER_KEY", raising=False)
    monkeypatch.delenv("VIGIL_EVIDENCE__MASTER_KEY_FILE", raising=False)
    return home


def encoded(key: MasterKey) -> str:
    return base64.b64encode(key.material).decode()


def test_default_path_is_in_the_config_dir_not_the_data_dir(
    config_home: Path, tmp_path: Path
) -> None:
    assert default_master_key_path() == config_home / "vigil" / "master.key"
    settings = load_settings(data_dir=tmp_path / "data")
    assert not default_master_key_path().is_relative_to(settings.data_dir)


@posix_only
def test_write_creates_a_private_file_and_folder(config_home: Path) -> None:
    path = config_home / "vigil" / "master.key"
    key = write_master_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert MasterKey.from_base64(path.read_text()) == key
    assert [entry.name for entry in path.parent.iterdir()] == ["master.key"]  # no temp left


def test_write_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = write_master_key_file(path)
    with pytest.raises(MasterKeyFileExists, match="refusing to overwrite"):
        write_master_key_file(path)
    assert MasterKey.from_base64(path.read_text()) == first


@posix_only
def test_write_refuses_a_planted_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    link = tmp_path / "master.key"
    link.symlink_to(target)  # dangling: exists() is False, but it is still not ours to write
    with pytest.raises(MasterKeyFileExists):
        write_master_key_file(link)
    assert not target.exists()


def test_concurrent_writers_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    won: list[MasterKey] = []
    lost: list[Exception] = []
    barrier = threading.Barrier(4)

    def create() -> None:
        barrier.wait()
        try:
            won.append(write_master_key_file(path))
        except MasterKeyFileExists as exc:
            lost.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 3
    assert MasterKey.from_base64(path.read_text()) == won[0]


def test_load_finds_the_default_key_file(config_home: Path, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    with pytest.raises(MasterKeyMissing, match="vigil evidence new-key"):
        load_master_key(settings)
    key = write_master_key_file(default_master_key_path())
    assert load_master_key(settings) == key


def test_configured_key_wins_over_the_default_file(
    config_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_master_key_file(default_master_key_path())
    configured = MasterKey.generate()
    monkeypatch.setenv("VIGIL_EVIDENCE__MASTER_KEY", encoded(configured))
    settings = load_settings(data_dir=tmp_path / "data")
    assert load_master_key(settings) == configured
    assert ensure_master_key(settings) == (configured, None)


@posix_only
def test_default_key_file_must_be_private(config_home: Path, tmp_path: Path) -> None:
    path = default_master_key_path()
    write_master_key_file(path)
    path.chmod(0o644)
    with pytest.raises(MasterKeyMissing, match="chmod 600"):
        load_master_key(load_settings(data_dir=tmp_path / "data"))


def test_ensure_creates_once_then_reuses(config_home: Path, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    key, created = ensure_master_key(settings)
    assert created == default_master_key_path() and created.is_file()
    again, created_again = ensure_master_key(settings)
    assert again == key and created_again is None
    assert load_master_key(settings) == key


def test_ensure_uses_a_configured_file_and_creates_nothing(
    config_home: Path, tmp_path: Path
) -> None:
    key_file = tmp_path / "secrets" / "evidence.key"
    configured = write_master_key_file(key_file)
    settings = load_settings(data_dir=tmp_path / "data", evidence={"master_key_file": key_file})
    assert ensure_master_key(settings) == (configured, None)
    assert not default_master_key_path().exists()


def test_ensure_refuses_to_create_inside_the_data_dir(
    config_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A data directory that contains the config dir: the key would share its backups.
    settings = load_settings(data_dir=config_home.parent)
    with pytest.raises(MasterKeyMissing, match="inside the data directory"):
        ensure_master_key(settings)
    assert not default_master_key_path().exists()


@pytest.mark.parametrize("content", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_malformed_default_key_file_is_refused_without_echoing_it(
    config_home: Path, tmp_path: Path, content: str
) -> None:
    path = default_master_key_path()
    path.parent.mkdir(parents=True)
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(MasterKeyMissing) as caught:
        ensure_master_key(load_settings(data_dir=tmp_path / "data"))
    assert not content or content not in str(caught.value)
    assert path.read_text() == content  # never replaced by a new key
