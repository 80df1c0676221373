"""The package's layers import downwards only, and domain services never import each other
(docs/architecture.md). Read from the source with ast, so a new module is checked at once."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "vigil"
LAYERS = {
    "core": 0,
    "fingerprint": 1,
    "index": 2,
    "lists": 3,
    "store": 4,
    "screening": 5,
    "review": 5,
    "reporting": 5,
    "clearinghouse": 5,
    "triage": 5,
    "stats": 5,
    "agency": 5,
    "exchanges": 5,
    "jobs": 6,  # the background-job registry builds domain services' jobs
    "http": 7,  # what the API and the console share: authentication, state, errors, middleware
    "api": 8,
    "web": 8,
    "server": 9,  # the application that mounts both
    "cli": 10,
}
# api and web are siblings: neither may import the other (both use vigil.http below them).
INTERFACES = 8
DOMAIN = 5
# Shared on purpose, and named in docs/architecture.md: the clearinghouse receives the
# documents the platform side writes, and matches with the platform's own rules.
SHARED_DOMAIN_MODULES = (
    "vigil.reporting.cybertipline",
    "vigil.screening.matcher",
    "vigil.screening.verdict",
)


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
        sideways = LAYERS[target] == LAYERS[own] in (DOMAIN, INTERFACES)
        if upwards or sideways:
            wrong.append(module)
    assert not wrong, f"{own} must not import {wrong}"


# core is the bottom layer: every layer may use it, and it uses nothing of Vigil's but itself
# (not even through a relative import), so it can be read, tested and reused alone.
CORE = SOURCE / "core"


def _outside_core(source: str) -> list[str]:
    wrong = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            wrong += [alias.name for alias in node.names if _leaves_core(alias.name)]
        elif isinstance(node, ast.ImportFrom) and _from_outside_core(node):
            wrong.append("." * node.level + (node.module or ""))
    return wrong


def _from_outside_core(node: ast.ImportFrom) -> bool:
    # core has no subpackages: two dots already climb out of it
    return node.level > 1 or (node.level == 0 and _leaves_core(node.module or ""))


def _leaves_core(module: str) -> bool:
    return module.split(".")[0] == "vigil" and not (module + ".").startswith("vigil.core.")


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: p.name)
def test_core_imports_nothing_from_vigil(path: Path) -> None:
    wrong = _outside_core(path.read_text(encoding="utf-8"))
    assert not wrong, f"core/{path.name} must not import {wrong}"


@pytest.mark.parametrize(
    "source",
    [
        "from vigil.store.errors import StoreError",
        "import vigil.fingerprint",
        "import vigil",
        "from vigil import private_files",
        "from ..store import database",
        "def later():\n    from vigil.http.state import ServiceState",
    ],
)
def test_the_core_rule_catches_every_way_out(source: str) -> None:
    assert _outside_core(source)


def test_the_core_rule_allows_core_and_outside_libraries() -> None:
    assert not _outside_core(
        "from vigil.core.errors import ConfigurationError\n"
        "from .files import write_atomically\nimport lxml.etree\n"
        "import vigilance"
    )
