"""constraints.txt pins what the suite passed with: every dependency pyproject.toml names (with
every extra) at one exact version inside pyproject's range, and this environment has it.

Without the pins a clone tomorrow installs whatever is newest, as when a new libxml2 broke a
test that had passed; these tests fail when a dependency is added, or a range changed, and
the lock file was not regenerated (scripts/lock.sh).
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _declared(*, skip_extras: tuple[str, ...] = ()) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra, requirements in project["optional-dependencies"].items():
        if extra not in skip_extras:
            names.extend(requirements)
    return [Requirement(name) for name in names]


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        [spec] = list(requirement.specifier)
        assert spec.operator == "==", f"not an exact pin: {line}"
        pins[canonicalize_name(requirement.name)] = Version(spec.version)
    return pins


def test_every_declared_dependency_is_pinned_inside_its_range() -> None:
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in constraints.txt: run scripts/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside {requirement.specifier}"
        )


def test_the_project_itself_is_not_pinned() -> None:
    assert "vigil" not in _pins()


@pytest.mark.parametrize(
    "requirement", _declared(skip_extras=("bench",)), ids=lambda r: canonicalize_name(r.name)
)
def test_installed_versions_are_the_pinned_ones(requirement: Requirement) -> None:
    """The environment running the suite (./test.sh installs the test extra) is the locked
    one; the benchmarks' extra is installed only by hand."""
    name = canonicalize_name(requirement.name)
    assert Version(version(name)) == _pins()[name], f"{name} differs from constraints.txt"
