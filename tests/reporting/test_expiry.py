"""The documented life of an unfinished report, written once for the platform side and the
clearinghouse: 24 h after opening or 1 h after the last modification, whichever is later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vigil.core.settings import ClearinghouseSettings, load_settings
from vigil.reporting.cybertipline.expiry import Windows, expiry_deadline

OPENED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_an_untouched_report_lives_a_day() -> None:
    assert expiry_deadline(OPENED, None) == OPENED + timedelta(hours=24)
    assert expiry_deadline(OPENED, OPENED) == OPENED + timedelta(hours=24)


def test_a_late_modification_extends_by_an_hour() -> None:
    modified = OPENED + timedelta(hours=23, minutes=30)
    assert expiry_deadline(OPENED, modified) == modified + timedelta(hours=1)


def test_configured_windows_replace_the_documented_ones() -> None:
    windows = Windows.configured(ClearinghouseSettings(open_hours=48, idle_hours=2))
    modified = OPENED + timedelta(hours=47)
    assert expiry_deadline(OPENED, None, windows) == OPENED + timedelta(hours=48)
    assert expiry_deadline(OPENED, modified, windows) == modified + timedelta(hours=2)


def test_the_clearinghouse_defaults_are_the_documented_windows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VIGIL_CONFIG", raising=False)
    settings = load_settings(data_dir=tmp_path)
    assert Windows.configured(settings.clearinghouse) == Windows()
