"""Finds VICS media items in a stream of ijson ``basic_parse`` events.

``basic_parse`` is used rather than ijson's prefixed events because prefix strings grow
with nesting depth, and a hostile file of nested brackets would make them quadratic.
The walker tracks only the path it needs and refuses nesting deeper than ``MAX_DEPTH``.
"""

from __future__ import annotations

from enum import Enum

import ijson

MAX_DEPTH = 32
MAX_ITEM_EVENTS = 50_000  # keys and values in one item: far above any real media record
MEDIA_KEY = "media"
VALUE_KEY = "value"
_ARRAY = "#"


class ItemKind(Enum):
    MEDIA = "media"
    OVERSIZED = "oversized"
    DUPLICATE_KEY = "duplicate key"


_NOTHING: tuple[tuple[ItemKind, object], ...] = ()


class VicsStructureError(ValueError):
    """The document is not shaped like a VICS file; nothing after this point is read."""


class VicsEventWalker:
    """Feed it every event; it hands back each media item once that item is complete.

    A top-level ``value`` entry with a ``Media`` array is a case: its media items are
    built one at a time while the case's own fields are collected without them. A
    ``value`` entry without ``Media`` is itself a media item (a hash-set file).
    """

    def __init__(self) -> None:
        self.items_seen = 0
        self._path: list[str] = []
        self._case: _Capture | None = None
        self._media: _Capture | None = None
        self._case_has_media = False
        self._saw_value = False

    def feed(self, event: str, value: object) -> tuple[tuple[ItemKind, object], ...]:
        if event == "map_key":
            return self._key(str(value))
        if event in ("start_map", "start_array"):
            return self._open(event)
        if event in ("end_map", "end_array"):
            return self._close(event)
        return self._scalar(event, value)

    def check_complete(self) -> None:
        if not self._saw_value:
            raise VicsStructureError('no "value" array: not a VICS file')

    def _open(self, event: str) -> tuple[tuple[ItemKind, object], ...]:
        self._check_container(event)
        if event == "start_map" and self._at_case_level():
            self._case, self._case_has_media = _Capture(), False
        elif event == "start_map" and self._at_media_level():
            self._media = _Capture()
        self._send(event, None)
        self._path.append("" if event == "start_map" else _ARRAY)
        return _NOTHING

    def _close(self, event: str) -> tuple[tuple[ItemKind, object], ...]:
        self._path.pop()
        self._send(event, None)
        if event == "end_map" and self._media is not None and self._at_media_level():
            return self._finish(self._media, media=True)
        if event == "end_map" and self._case is not None and self._at_case_level():
            return self._finish(self._case, media=False)
        return _NOTHING

    def _key(self, key: str) -> tuple[tuple[ItemKind, object], ...]:
        self._path[-1] = key.lower()
        if self._case is not None and len(self._path) == 3 and self._path[2] == MEDIA_KEY:
            self._case_has_media = True  # the case's media are streamed, not collected
            return _NOTHING
        self._send("map_key", key)
        return _NOTHING

    def _scalar(self, event: str, value: object) -> tuple[tuple[ItemKind, object], ...]:
        if not self._path:
            raise VicsStructureError("a VICS file is a JSON object")
        if self._path == [VALUE_KEY]:
            raise VicsStructureError('"value" must be an array')
        self._send(event, value)
        if self._at_case_level() or self._at_media_level():
            self.items_seen += 1  # a bare value where an item belongs: reported as bad
            return ((ItemKind.MEDIA, value),)
        return _NOTHING

    def _check_container(self, event: str) -> None:
        if len(self._path) >= MAX_DEPTH:
            raise VicsStructureError(f"JSON nested deeper than {MAX_DEPTH} levels")
        if not self._path and event != "start_map":
            raise VicsStructureError("a VICS file is a JSON object")
        if self._path == [VALUE_KEY]:
            if event != "start_array":
                raise VicsStructureError('"value" must be an array')
            self._saw_value = True

    def _finish(self, capture: _Capture, *, media: bool) -> tuple[tuple[ItemKind, object], ...]:
        if media:
            self._media = None
        else:
            self._case = None
            if self._case_has_media:
                return _NOTHING  # a case: its media items were handed back already
        self.items_seen += 1
        return ((capture.kind, capture.value),)

    def _send(self, event: str, value: object) -> None:
        if self._media is not None:
            self._media.add(event, value)
        elif self._case is not None and not self._in_case_media():
            self._case.add(event, value)

    def _at_case_level(self) -> bool:
        return len(self._path) == 2 and self._path[0] == VALUE_KEY

    def _at_media_level(self) -> bool:
        path = self._path
        return len(path) == 4 and path[0] == VALUE_KEY and path[2] == MEDIA_KEY

    def _in_case_media(self) -> bool:
        path = self._path
        return len(path) >= 3 and path[0] == VALUE_KEY and path[2] == MEDIA_KEY


class _Capture:
    """Builds one item from events, giving up (and freeing it) past MAX_ITEM_EVENTS.

    Keys of the item itself are checked for repeats, case-insensitively: with two "MD5"
    keys a reviewer could see one hash while the import takes the other.
    """

    def __init__(self) -> None:
        self._builder: ijson.ObjectBuilder | None = ijson.ObjectBuilder()
        self._events = 0
        self._depth = 0
        self._keys: set[str] = set()
        self._duplicate = False

    @property
    def kind(self) -> ItemKind:
        if self._builder is None:
            return ItemKind.OVERSIZED
        return ItemKind.DUPLICATE_KEY if self._duplicate else ItemKind.MEDIA

    @property
    def value(self) -> object:
        return None if self._builder is None else self._builder.value

    def add(self, event: str, value: object) -> None:
        if self._builder is None:
            return
        self._events += 1
        if self._events > MAX_ITEM_EVENTS:
            self._builder = None
            return
        self._track_keys(event, value)
        self._builder.event(event, value)

    def _track_keys(self, event: str, value: object) -> None:
        if event in ("start_map", "start_array"):
            self._depth += 1
        elif event in ("end_map", "end_array"):
            self._depth -= 1
        elif event == "map_key" and self._depth == 1:
            key = str(value).lower()
            self._duplicate = self._duplicate or key in self._keys
            self._keys.add(key)
