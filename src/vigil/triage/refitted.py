"""A weights file with refitted thresholds: the same file, byte for byte, but for its version
and [priority] level_1 / level_2, so the operator's comments and every weight are kept and
the change reads as a three-line diff. Pure.

The result is parsed again and compared with the original: anything but the version and the
two thresholds differing (a file written in a shape the rewrite does not know, such as
dotted keys or an inline table) is refused rather than applied."""

from __future__ import annotations

import re
from dataclasses import fields

from vigil.triage.calibration import PLACES
from vigil.triage.weights import Weights, WeightsRefused, parse_weights

# what may differ between the original and the refitted weights
CHANGED = frozenset({"version", "level_1", "level_2", "content", "sha256"})
TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$")


def refitted_weights(weights: Weights, level_1: float, level_2: float, version: str) -> Weights:
    """``weights`` with these thresholds under a new ``version``; WeightsRefused otherwise."""
    if version == weights.version:
        raise WeightsRefused(f"give the refitted weights a new version, not {version}")
    lines = weights.content.decode("utf-8").split("\n")
    _set(lines, None, "version", _quoted(version))
    for key, old, new in (
        ("level_1", weights.level_1, level_1),
        ("level_2", weights.level_2, level_2),
    ):
        if round(new, PLACES) != old:  # an unchanged line stays as the operator wrote it
            _set(lines, "priority", key, _number(new))
    refitted = parse_weights("\n".join(lines).encode("utf-8"))
    _same_but_thresholds(weights, refitted, level_1, level_2, version)
    return refitted


def _quoted(version: str) -> str:
    if '"' in version or "\\" in version:
        raise WeightsRefused("the version may hold letters, digits, '.', '_' or '-'")
    return f'"{version}"'


def _number(value: float) -> str:
    """Two decimals at most, always a float in TOML: 24.06, 24.5, 65.0."""
    text = f"{value:.{PLACES}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _set(lines: list[str], table: str | None, key: str, value: str) -> None:
    """Replace ``key = ...`` in ``table`` (None: before any table), keeping a comment in
    its column."""
    current: str | None = None
    pattern = re.compile(rf"^(\s*{re.escape(key)}\s*=\s*)([^#]*?)(\s*#.*)?$")
    for index, line in enumerate(lines):
        heading = TABLE.match(line)
        if heading:
            current = heading.group(1)
            continue
        found = pattern.match(line) if current == table else None
        if found:
            comment = (found.group(3) or "").lstrip()
            width = len(found.group(2)) + len(found.group(3) or "") - len(comment)
            padding = " " * max(1, width - len(value)) if comment else ""
            lines[index] = found.group(1) + value + padding + comment
            return
    where = f"[{table}] " if table else ""
    raise WeightsRefused(
        f"the weights file has no line '{where}{key} = ...' to rewrite: "
        "change the thresholds by hand"
    )


def _same_but_thresholds(
    original: Weights, refitted: Weights, level_1: float, level_2: float, version: str
) -> None:
    differs = [
        field.name
        for field in fields(Weights)
        if field.name not in CHANGED
        and getattr(original, field.name) != getattr(refitted, field.name)
    ]
    wanted = (version, round(level_1, PLACES), round(level_2, PLACES))
    if differs or (refitted.version, refitted.level_1, refitted.level_2) != wanted:
        raise WeightsRefused(
            "rewriting the thresholds changed more than them"
            + (f" ({differs[0]})" if differs else "")
            + ": change the thresholds by hand"
        )
