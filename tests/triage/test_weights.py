"""The weights file: the packaged default, and hostile or mistaken files refused with a
plain one-line message (huge, wrong types, unknown keys, negative or huge numbers)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vigil.triage.weights import (
    MAX_FILE_BYTES,
    REASON_DIRECTIONS,
    WeightsRefused,
    load_weights,
    parse_weights,
)

DEFAULT = load_weights()


def test_the_packaged_default_is_versioned_and_complete() -> None:
    assert DEFAULT.version == "2026-12-2"
    assert set(DEFAULT.weights) == set(REASON_DIRECTIONS)
    assert DEFAULT.sha256 == hashlib.sha256(DEFAULT.content).hexdigest()
    assert DEFAULT.level_2 <= DEFAULT.level_1
    assert DEFAULT.signed("known_only") < 0 < DEFAULT.signed("escalation")


def test_a_file_on_disk_is_read_byte_for_byte(tmp_path: Path) -> None:
    changed = DEFAULT.content.replace(b'version = "2026-12-2"', b'version = "local-2"')
    path = tmp_path / "weights.toml"
    path.write_bytes(changed)
    weights = load_weights(path)
    assert weights.version == "local-2" and weights.content == changed
    assert weights.sha256 != DEFAULT.sha256


def _edit(old: bytes, new: bytes) -> bytes:
    assert old in DEFAULT.content
    return DEFAULT.content.replace(old, new, 1)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (_edit(b"escalation = 20.0", b"escalation = -1.0"), "weights.escalation"),
        (_edit(b"escalation = 20.0", b"escalation = 1e300"), "less than or equal to 1000"),
        (_edit(b"escalation = 20.0", b"escalation = inf"), "finite"),
        (_edit(b"escalation = 20.0", b"escalation = nan"), "finite"),
        (_edit(b"escalation = 20.0", b'escalation = "high"'), "valid number"),
        (_edit(b"escalation = 20.0", b"escalation = true"), "valid number"),
        (_edit(b"escalation = 20.0", b"escalaton = 20.0"), "unknown reason 'escalaton'"),
        (_edit(b"escalation = 20.0", b""), "missing reason 'escalation'"),
        (_edit(b'version = "2026-12-2"', b""), "no version"),
        (_edit(b'version = "2026-12-2"', b"version = 3"), "version"),
        (_edit(b'version = "2026-12-2"', b'version = "../../etc"'), "version"),
        (_edit(b'version = "2026-12-2"', b'version = ""'), "version"),
        (_edit(b"file_count_cap = 100", b"file_count_cap = 0"), "scales.file_count_cap"),
        (_edit(b"file_count_cap = 100", b"file_count_cap = 2.5"), "scales.file_count_cap"),
        (_edit(b"known_only_best_level = 3", b"known_only_best_level = 9"), "best_level"),
        (_edit(b"level_2 = 30.0", b"level_2 = 90.0"), "must not exceed"),
        (_edit(b'["contact", "danger_now"', b'["bogus", "danger_now"'), "unknown reason 'bogus'"),
        (_edit(b"imminent_words = []", b'imminent_words = ["im"]'), "imminent_words"),
        (_edit(b"contact_floor = 0.3", b"contact_floor = 1.5"), "scales.contact_floor"),
        (_edit(b"contact_floor = 0.3", b"contact_floor = nan"), "scales.contact_floor"),
        (_edit(b"urgent_contact = 0.7", b"urgent_contact = -0.1"), "scales.urgent_contact"),
        (_edit(b"viral_reports_cap = 10", b"viral_reports_cap = 0"), "viral_reports_cap"),
        (
            _edit(b"viral_informational_value = 0.5", b'viral_informational_value = "x"'),
            "viral_informational_value",
        ),
        (DEFAULT.content + b"\n[extra]\nkey = 1\n", "extra: unknown key"),
        (DEFAULT.content + b"\nsurprise = 1\n", "surprise: unknown key"),
        (_edit(b"[scales]", b"[scales]\nbogus_cap = 3"), "scales.bogus_cap: unknown key"),
        (b'version = "x"\n[weights\n', "not valid TOML"),
        (b"\xff\xfe version", "not UTF-8"),
        (b"", "no version"),
    ],
)
def test_mistaken_and_hostile_files_are_refused_plainly(content: bytes, words: str) -> None:
    with pytest.raises(WeightsRefused) as refused:
        parse_weights(content)
    message = str(refused.value)
    assert words in message and "\n" not in message and "Traceback" not in message


def test_a_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_bytes(DEFAULT.content + b"#" * (MAX_FILE_BYTES + 10))
    with pytest.raises(WeightsRefused, match="larger than"):
        load_weights(path)


def test_a_deeply_nested_file_is_refused(tmp_path: Path) -> None:
    nested = b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n"
    with pytest.raises(WeightsRefused):
        parse_weights(nested)


def test_a_missing_file_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(WeightsRefused, match=r"nothing\.toml"):
        load_weights(tmp_path / "nothing.toml")
