"""An exchange client's pages read ahead in a thread of their own, a few at a time.

A fetch (vigil.exchanges.fetching) writes pages while the service is asked for the next
ones: the HTTP wait and the parsing of a page (in the client's iterator) overlap the
database writes of the pages before it, and the fetch can store what it holds when the next
page is slow to come, even when the service hangs on it, instead of waiting for it.

* Only the reading thread calls the client's ``fetch`` and advances its iterator; the
  fetch's thread takes pages from a queue of PAGES_AHEAD, so memory stays flat whatever
  the service's speed.
* What ends the client's iterator comes through the queue in order, after the pages
  before it: its end, or the exception it raised (ExchangeError, a bug, a simulated death:
  any BaseException), raised again in the fetch's thread by ``next_page``.
* ``stop`` (on leaving the ``with``, however it is left: a Ctrl-C, a failure of the
  fetch's own) tells the reader to stop; when the fetch stopped before the client's end,
  it closes the client, so that a request the service is hanging on may end, and waits
  STOP_SECONDS at most for the reader. The reader is a daemon thread: a client that does
  not let go at once (httpx's close does not wake a read blocked in another thread) leaves
  it to end with the request's own timeout, dropping what it then has, and the process
  can exit meanwhile.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from enum import Enum
from types import TracebackType

from vigil.exchanges.protocol import Exchange as ExchangeClient
from vigil.exchanges.protocol import FetchedPage

PAGES_AHEAD = 3  # pages read but not yet taken: with the one being read, 4 in memory at most
STOP_SECONDS = 1.0  # how long a stopped fetch (a Ctrl-C: keep it short) waits for its reader
OFFER_SECONDS = 0.1  # how often a reader waiting on a full queue looks whether it was stopped


class Pending(Enum):
    """What ``next_page`` gives when it has no page."""

    NOT_YET = "not yet"  # no page came within the time asked
    ENDED = "ended"  # the client has no more pages


@dataclass(frozen=True, slots=True)
class _Failed:
    """The client's iterator raised this; pages before it were queued first."""

    failure: BaseException


_Item = FetchedPage | Pending | _Failed


class PagePrefetch:
    """Reads ``client.fetch(checkpoint)`` in a daemon thread; use as a context manager."""

    def __init__(self, client: ExchangeClient, checkpoint: str | None) -> None:
        self._client = client
        self._checkpoint = checkpoint
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=PAGES_AHEAD)
        self._stopped = threading.Event()
        self._last_taken = False  # the end or the failure was taken: the reader is done
        self._reader = threading.Thread(target=self._read, name="exchange-page-reader", daemon=True)

    def __enter__(self) -> PagePrefetch:
        self._reader.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def next_page(self, timeout: float | None) -> FetchedPage | Pending:
        """The next page; Pending.NOT_YET when none came within ``timeout`` seconds (None:
        wait for it), Pending.ENDED after the last. Raises what the client raised."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return Pending.NOT_YET
        if isinstance(item, _Failed):
            self._last_taken = True
            raise item.failure
        if item is Pending.ENDED:
            self._last_taken = True
        return item

    def stop(self) -> None:
        """Stop the reader; close the client when it may still be waiting on the service."""
        self._stopped.set()
        if not self._reader.is_alive():
            return
        if not self._last_taken:
            self._client.close()  # so that a request the service hangs on may end
        self._reader.join(STOP_SECONDS)

    def _read(self) -> None:
        """The reader thread: every page, then the end or the failure, unless stopped."""
        try:
            pages = self._client.fetch(self._checkpoint)
            try:
                if all(self._offer(page) for page in pages):  # stops reading once stopped
                    self._offer(Pending.ENDED)
            finally:
                close = getattr(pages, "close", None)  # a generator's own clean-up, here
                if close is not None:
                    close()
        except BaseException as failure:  # forwarded, never lost in this thread
            self._offer(_Failed(failure))

    def _offer(self, item: _Item) -> bool:
        """Queue ``item`` once there is room; False when the fetch stopped meanwhile."""
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=OFFER_SECONDS)
            except queue.Full:
                continue
            return True
        return False
