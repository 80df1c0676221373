"""The one check of an audit record's actor (vigil.store.audit.checked_actor) and the one
length it allows (MAX_ACTOR_CHARS, the AuditRecord.actor column's): each area refuses with
its own exception, and no module writes the length or its own check again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vigil.reporting.preservation import checked_actor as preservation_actor
from vigil.reporting.preservation_errors import InvalidRequest
from vigil.review.decisions import _checked_actor as reviewer_actor
from vigil.review.errors import InvalidReviewInput
from vigil.store.audit import MAX_ACTOR_CHARS, AuditRecord, checked_actor
from vigil.store.exchanges.audit_trail import checked_actor as exchange_actor
from vigil.store.exchanges.errors import InvalidExchangeSetting
from vigil.store.lists.audit_trail import checked_actor as list_actor
from vigil.store.lists.errors import InvalidListSetting

SOURCE = Path(__file__).resolve().parents[2] / "src" / "vigil"


class Refused(Exception):
    """The exception a test caller chooses."""


def test_the_length_is_the_audit_columns() -> None:
    assert AuditRecord.__table__.c.actor.type.length == MAX_ACTOR_CHARS  # type: ignore[attr-defined]


def test_an_actor_is_stripped_and_a_long_one_cut_by_default() -> None:
    assert checked_actor("  user:alice \n", refusal=Refused) == "user:alice"
    assert checked_actor("a" * MAX_ACTOR_CHARS, refusal=Refused) == "a" * MAX_ACTOR_CHARS
    assert checked_actor("b" * 10_000, refusal=Refused) == "b" * MAX_ACTOR_CHARS


@pytest.mark.parametrize("actor", ["", " ", "\t\n", None, 7, b"alice", ["alice"]])
def test_a_missing_or_non_text_actor_raises_the_callers_refusal(actor: object) -> None:
    with pytest.raises(Refused, match="actor"):
        checked_actor(actor, refusal=Refused)
    with pytest.raises(Refused, match="actor"):
        checked_actor(actor, refusal=Refused, too_long="refuse")


def test_a_long_actor_is_refused_when_the_caller_says_so() -> None:
    long_name = "c" * (MAX_ACTOR_CHARS + 1)
    with pytest.raises(Refused, match=str(MAX_ACTOR_CHARS)):
        checked_actor(long_name, refusal=Refused, too_long="refuse")
    # padding is not part of the name: only what would be stored is measured
    padded = "  " + "d" * MAX_ACTOR_CHARS + "  "
    assert checked_actor(padded, refusal=Refused, too_long="refuse") == "d" * MAX_ACTOR_CHARS


def test_each_area_keeps_its_own_refusal() -> None:
    with pytest.raises(InvalidListSetting, match="actor"):
        list_actor(" ")
    with pytest.raises(InvalidExchangeSetting, match="actor"):
        exchange_actor(" ")
    assert list_actor("e" * 300) == "e" * MAX_ACTOR_CHARS
    assert exchange_actor("e" * 300) == "e" * MAX_ACTOR_CHARS
    for bad in ("", "f" * (MAX_ACTOR_CHARS + 1), None):
        with pytest.raises(InvalidRequest):
            preservation_actor(bad)
        with pytest.raises(InvalidReviewInput):
            reviewer_actor(bad)
    assert preservation_actor(" user:lea ") == "user:lea"


# An actor length, a truncation to a literal or a length check, written again outside the model.
_REWRITTEN = re.compile(r"(\b_?MAX_ACTOR\w*\s*=\s*\d+)|(actor\w*\[:\d+\])|(len\(actor\) >)")


def test_no_module_writes_the_actor_length_or_check_again() -> None:
    found = [
        f"{path.relative_to(SOURCE)}: {line.strip()}"
        for path in SOURCE.rglob("*.py")
        if "migrations" not in path.parts and path.name != "audit.py"
        for line in path.read_text(encoding="utf-8").splitlines()
        if _REWRITTEN.search(line)
    ]
    assert found == []
