"""Building the configured plug-ins of one kind (classifiers, copy descriptors) at start-up,
with the rule they share written once: names are unique ignoring case and outer spaces, since
a name says in results and audit records which plug-in spoke, and a plug-in's own refusal
stops the service as a ConfigurationError naming the section.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from vigil.core.errors import ConfigurationError


class Named(Protocol):
    @property
    def name(self) -> str: ...


ConfigT = TypeVar("ConfigT", bound=Named)
PluginT = TypeVar("PluginT")


def build_each(
    configs: Sequence[ConfigT],
    build: Callable[[ConfigT], PluginT],
    *,
    section: str,
    refusal: type[Exception],
) -> list[PluginT]:
    """One plug-in per config, in order; ConfigurationError names the one that is wrong."""
    seen: set[str] = set()
    plugins: list[PluginT] = []
    for config in configs:
        key = config.name.strip().casefold()
        if key in seen:
            raise ConfigurationError(f"{section}: the name {config.name!r} is used twice")
        seen.add(key)
        try:
            plugins.append(build(config))
        except refusal as exc:
            raise ConfigurationError(f"{section}: {exc}") from exc
    return plugins
