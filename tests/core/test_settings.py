"""Settings: defaults, environment, TOML file, precedence, validation and secret masking."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vigil.core.database_urls import mask_url
from vigil.core.errors import ConfigurationError
from vigil.core.settings import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No VIGIL_* from the developer's shell; the per-user data dir lives under tmp_path."""
    for name in list(os.environ):
        if name.startswith("VIGIL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path


def test_defaults_use_the_per_user_data_dir(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == (tmp_path / "xdg" / "vigil").resolve()
    assert settings.database_url == f"sqlite:///{settings.data_dir / 'vigil.db'}"
    assert settings.evidence_dir == settings.data_dir / "evidence"
    assert settings.matching.pdq_distance == 31
    assert settings.matching.min_quality == 50


def test_environment_sets_top_level_and_nested_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIGIL_MATCHING__PDQ_DISTANCE", "20")
    monkeypatch.setenv("VIGIL_DATABASE__BUSY_TIMEOUT", "0.5")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url.endswith(str(tmp_path / "data" / "vigil.db"))
    assert settings.matching.pdq_distance == 20
    assert settings.database.busy_timeout == 0.5


def test_toml_in_data_dir_is_found_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "vigil.toml").write_text(
        "[matching]\npdq_distance = 10\nmin_quality = 70\n[flood_guard]\nthreshold = 4.0\n"
    )
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIGIL_MATCHING__PDQ_DISTANCE", "12")
    settings = load_settings()
    assert settings.matching.pdq_distance == 12  # environment beats the file
    assert settings.matching.min_quality == 70  # the rest of the section still applies
    assert settings.flood_guard.threshold == 4.0


def test_vigil_config_points_at_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text(f'data_dir = "{tmp_path / "d"}"\n')
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    assert load_settings().data_dir == tmp_path / "d"


def test_explicit_config_file_beats_vigil_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "env.toml").write_text("[server]\nport = 1111\n")
    (tmp_path / "cli.toml").write_text("[server]\nport = 2222\n")
    monkeypatch.setenv("VIGIL_CONFIG", str(tmp_path / "env.toml"))
    assert load_settings(tmp_path / "cli.toml").server.port == 2222


@pytest.mark.parametrize(
    ("env", "file_text", "expected"),
    [
        ({"VIGIL_CONFIG": "/nonexistent/vigil.toml"}, None, "VIGIL_CONFIG points to"),
        ({}, "[matchin]\nmin_quality = 1\n", "matchin: Extra inputs are not permitted"),
        ({}, "[matching\n", "not valid TOML"),
        ({"VIGIL_MATCHING__MIN_QUALITY": "101"}, None, "matching.min_quality"),
        ({"VIGIL_DATABASE_URL": "mysql://u:hunter2@h/db"}, None, "unsupported database"),
    ],
)
def test_bad_configuration_is_a_readable_error(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    file_text: str | None,
    expected: str,
) -> None:
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    if file_text is not None:
        (tmp_path / "vigil.toml").write_text(file_text)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert expected in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_passwords_never_show_in_repr_str_or_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_DATABASE_URL", "postgresql://vigil:hunter2@db.example/vigil")
    monkeypatch.setenv("VIGIL_SERVER__SECRET_KEY", "topsecretkey")
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://vigil:hunter2@db.example/vigil"
    for text in (repr(settings), str(settings), str(settings.redacted())):
        assert "hunter2" not in text
        assert "topsecretkey" not in text
    assert settings.redacted()["database_url"] == "postgresql+psycopg://vigil:***@db.example/vigil"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+psycopg://u:p%40ss@h:5432/d", "postgresql+psycopg://u:***@h:5432/d"),
        ("postgresql+psycopg://u@h/d?password=x", "postgresql+psycopg://u@h/d?password=***"),
        ("sqlite:////tmp/v.db", "sqlite:////tmp/v.db"),
        ("not a url://u:secret@host", "not a url://u:***@host"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_overrides_beat_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_SERVER__PORT", "1234")
    assert load_settings(server={"port": 4321}).server.port == 4321
