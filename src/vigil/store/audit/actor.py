"""The one check of who acts: every audit record must name its actor, in at most the
column's ``MAX_ACTOR_CHARS`` characters.

Callers differ only in the exception that refuses a missing name (each area has its own,
so its interface answers as it always has) and in what a too-long name means: store
functions called by components cut it, while names a person typed (reviewers, legal
requests) are refused rather than recorded as someone else's truncated name.
"""

from __future__ import annotations

from typing import Literal

from vigil.store.models.audit import MAX_ACTOR_CHARS

TooLong = Literal["cut", "refuse"]


def checked_actor(actor: object, *, refusal: type[Exception], too_long: TooLong = "cut") -> str:
    """``actor`` stripped; an empty (or non-text) one raises ``refusal``, and so does one
    longer than ``MAX_ACTOR_CHARS`` when ``too_long`` is "refuse" (otherwise it is cut)."""
    cleaned = actor.strip() if isinstance(actor, str) else ""
    if not cleaned:
        raise refusal(f"say who makes the change (actor, 1 to {MAX_ACTOR_CHARS} characters)")
    if len(cleaned) > MAX_ACTOR_CHARS and too_long == "refuse":
        raise refusal(f"the actor must be named in 1 to {MAX_ACTOR_CHARS} characters")
    return cleaned[:MAX_ACTOR_CHARS]
