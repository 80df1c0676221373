"""Viral spread: unrelated reports and companies make a file viral, a reporter's meme label
or batched viral report too; a copy held by an associate (a shared account) is not."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from vigil.store.models import FileVerdict
from vigil.triage.facts import FileFacts, ReportFacts
from vigil.triage.spread import viral_spread
from vigil.triage.weights import load_weights

WEIGHTS = load_weights()
FACTS = ReportFacts(report_id=1, now=datetime(2026, 11, 20, tzinfo=UTC))
MEME = FileFacts(FileVerdict.KNOWN, None, frozenset({"potentialMeme"}))


@pytest.mark.parametrize(
    ("size", "companies", "linked", "value"),
    [
        (0, 0, 0, 0.0),
        (2, 2, 0, 0.0),  # a second copy
        (3, 2, 0, 0.2),
        (11, 3, 0, 1.0),
        (500, 9, 0, 1.0),
        (11, 1, 0, 0.5),  # one company only: half
        (11, 3, 5, 0.25),  # half the others share an account with it: 5/10 x 5/10
        (3, 1, 2, 0.0),  # all associates
    ],
)
def test_spread_grows_with_unrelated_reports_and_companies(
    size: int, companies: int, linked: int, value: float
) -> None:
    facts = replace(FACTS, viral_bundle_size=size, bundle_companies=companies, bundle_linked=linked)
    assert viral_spread(facts, WEIGHTS).value == pytest.approx(value)


def test_the_reporters_own_word_makes_it_viral_unless_an_associate_holds_it() -> None:
    assert viral_spread(replace(FACTS, files=(MEME,)), WEIGHTS).value == 1.0
    assert viral_spread(replace(FACTS, batched=True), WEIGHTS).value == 1.0
    linked = replace(FACTS, files=(MEME,), viral_bundle_size=2, bundle_linked=1)
    assert viral_spread(linked, WEIGHTS).value == 0.0


def test_a_supplemental_file_does_not_stop_every_reported_file_being_a_meme() -> None:
    screenshot = FileFacts(FileVerdict.NEW, None, supplemental=True)
    assert viral_spread(replace(FACTS, files=(MEME, screenshot)), WEIGHTS).value == 1.0
    plain = FileFacts(FileVerdict.SEEN, None)
    assert viral_spread(replace(FACTS, files=(MEME, plain)), WEIGHTS).value == 0.0
