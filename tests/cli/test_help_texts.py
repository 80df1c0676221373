"""Every `vigil ... --help` reads whole: each option's and argument's help is there, and shown
as written (Rich markup swallows a "[default: ...]" typed into a help text, leaving "Port .")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from vigil.cli.app import app

WIDE = {"COLUMNS": "300"}


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(get_command(app)))


def _shown(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.replace("│", " ").split())


def _parameters(command: Any) -> list[Any]:
    return [p for p in command.params if p.name != "help" and not getattr(p, "hidden", False)]


def test_the_walk_finds_the_commands() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {"serve", "admin create-api-key", "admin reset-password", "lists import"} <= paths


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(path) or "vigil" for path, _ in COMMANDS]
)
def test_every_parameter_has_help_and_it_is_shown_whole(
    path: tuple[str, ...], command: Any
) -> None:
    shown = _shown(path)
    for parameter in _parameters(command):
        written = " ".join((parameter.help or "").split())
        assert written, f"{parameter.name} has no help"
        assert written in shown, f"{parameter.name}: {written!r} is not shown whole"
    lost = re.search(r"\w \.(?:\s|$)", shown)  # "Port ." where "Port [default: 8000]." was
    assert not lost, f"a help text lost its words before a full stop: {lost.group()!r}"
