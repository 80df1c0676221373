"""A Ctrl-C during a fetch's write takes effect when the fetch next waits for the service.

A fetch (vigil.exchanges.fetching) stores the pages it received before it stops on a
Ctrl-C. A KeyboardInterrupt raised in the middle of a group's transaction would roll the
group back, and one raised while a page is prepared would lose the pages waiting with it;
so, while this is entered (in the main thread, where Python's default SIGINT handler is
in place; elsewhere it does nothing), a Ctrl-C is held until the fetch waits for the
service (``waiting``), where it is raised and the fetch stores what it holds first. A
second Ctrl-C while one is held is raised at once: a database that does not answer can
still be left.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any


class HeldInterrupt:
    def __init__(self) -> None:
        self._waiting = False
        self._held = False
        self._previous: Any = None

    def __enter__(self) -> HeldInterrupt:
        in_main = threading.current_thread() is threading.main_thread()
        if in_main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self._held and kind is None:
            raise KeyboardInterrupt  # pressed during the last write: still a Ctrl-C

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """While the service is waited for, a Ctrl-C (held or new) raises at once."""
        self._waiting = True  # before the look at _held: a Ctrl-C in between is not lost
        try:
            if self._held:
                self._held = False
                raise KeyboardInterrupt
            yield
        finally:
            self._waiting = False

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self._waiting or self._held:
            raise KeyboardInterrupt
        self._held = True
