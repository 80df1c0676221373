"""The package's layers import downwards only, and domain services never import each other
(docs/architecture.md). Read from the source with ast, so a new module is checked at once."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "vigil"
LAYERS = {
    "core": 0, "fingerprint": 1, "index": 2, "lists": 3, "store": 4,
    "screening": 5, "review": 5, "reporting": 5, "clearinghouse": 5, "triage": 5, "stats": 5,
    "agency": 5,
    "jobs": 6,  # the background-job registry builds domain services' jobs
    "api": 7, "web": 7, "cli": 7,
}
DOMAIN = 5
# Shared on purpose, and named in docs/architecture.md: the clearinghouse receives the
# documents the platform side writes, and matches with the platform's own rules.
SHARED_DOMAIN_MODULES = ("vigil.reporting.cybertipline", "vigil.screening.matcher",
                         "vigil.screening.verdict")


def _imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "vigil" else None


MODULES = sorted(path for path in SOURCE.rglob("*.py") if path.parent != SOURCE)


def test_every_package_has_a_layer() -> None:
    packages = {path.relative_to(SOURCE).parts[0] for path in MODULES}
    assert packages <= set(LAYERS), packages - set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_imports_go_downwards_only(path: Path) -> None:
    own = path.relative_to(SOURCE).parts[0]
    wrong = []
    for module in _imports(path):
        target = _package(module)
        if target is None or target == own or target not in LAYERS:
            continue
        if module.startswith(SHARED_DOMAIN_MODULES) and LAYERS[own] >= DOMAIN:
            continue
        upwards = LAYERS[target] > LAYERS[own]
        sideways = LAYERS[target] == LAYERS[own] == DOMAIN
        if upwards or sideways:
            wrong.append(module)
    assert not wrong, f"{own} must not import {wrong}"
