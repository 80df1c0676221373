"""Provenance fields as exchanges send them (tags, member names, labels), checked once.

Exchange answers are hostile input like any list file: a tag is shown to reviewers, so it
is bounded text without control characters, and a record carries a bounded number of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from vigil.lists.formats.fields import MAX_LABEL_CHARS, FieldError, identifier, optional_text

MAX_TAGS = 64


def clean_tags(values: Iterable[object], name: str = "tag") -> tuple[str, ...]:
    """Sorted, de-duplicated tags; FieldError for a tag that is not short plain text."""
    tags: set[str] = set()
    for value in values:
        text = optional_text(value, name, MAX_LABEL_CHARS)
        if text is not None:
            tags.add(text)
    if len(tags) > MAX_TAGS:
        raise FieldError(f"{len(tags)} {name}s; the limit is {MAX_TAGS}")
    return tuple(sorted(tags))


def clean_member(values: Iterable[object]) -> str | None:
    """The members (sharers) of an entry as one comma-separated field, None when unknown."""
    members = sorted({text for value in values if (text := identifier(value, "member"))})
    if not members:
        return None
    joined = ",".join(members)
    if len(joined) > MAX_LABEL_CHARS:
        raise FieldError(f"member list is {len(joined)} characters; the limit is {MAX_LABEL_CHARS}")
    return joined
