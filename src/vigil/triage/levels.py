"""The triage levels and their names, written once: the triage and agency screens, the routing
queue, the command line and the statistics all name a level from here (docs/triage.md)."""

from __future__ import annotations

LEVEL_NAMES = {
    1: "Imminent danger",  # a child may be in imminent danger
    2: "Refer soon",
    3: "Refer",
    4: "Informational",  # kept and counted, not referred
}
LEVELS = tuple(LEVEL_NAMES)
INFORMATIONAL = 4


def level_name(level: int | None) -> str:
    """The level's name ("Refer soon"); "Not scored" for none, the number for an unknown one."""
    if level is None:
        return "Not scored"
    return LEVEL_NAMES.get(level, str(level))


def level_label(level: int | None) -> str:
    """Number and name, as lists and selections show a level: "2 · Refer soon"."""
    return level_name(level) if level is None else f"{level} · {level_name(level)}"
