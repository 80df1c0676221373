"""Reading free text: each documented signal fires on its phrases and quotes them, a
negation cancels or flips it, the last contact's age is read, and hostile text is harmless."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.triage.free_text import (
    DANGER_NOW,
    MAX_TOTAL_CHARS,
    OLD_MATERIAL,
    PEER_MINORS,
    RESOLVED,
    SERIOUS,
    SIGNAL_NAMES,
    last_contact_days,
    read_signals,
)

WRITTEN = datetime(2026, 6, 1, tzinfo=UTC)


def _names(text: str) -> set[str]:
    return {signal.name for signal in read_signals([("escalation", text)])}


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("The user says he is meeting the 13-year-old tonight.", DANGER_NOW),
        ("The child is with the uploader now.", DANGER_NOW),
        ("The user appears to be abusing a child in their care.", DANGER_NOW),
        ("The abuse is ongoing.", DANGER_NOW),
        ("They arranged to meet at the station.", DANGER_NOW),
        ("The account threatened to publish the pictures.", DANGER_NOW),
        ("A child is at immediate risk.", DANGER_NOW),
        ("This is an old meme.", OLD_MATERIAL),
        ("The video has been widely circulated for years.", OLD_MATERIAL),
        ("The file was previously reported.", OLD_MATERIAL),
        ("A large volume of files was found.", SERIOUS),
        ("The user is a repeat offender.", SERIOUS),
        ("The account was previously banned.", SERIOUS),
        ("Two minors of similar age exchanged pictures.", PEER_MINORS),
        ("Both users are classmates.", PEER_MINORS),
        ("The victim is now safe.", RESOLVED),
        ("Police are already involved.", RESOLVED),
        ("The girl's parents were informed.", RESOLVED),
    ],
)
def test_each_signal_fires_on_its_phrases(text: str, signal: str) -> None:
    assert signal in _names(text)


def test_a_signal_quotes_the_words_that_triggered_it_and_where() -> None:
    [signal] = read_signals([("additional information", "He is MEETING her tonight, he says.")])
    assert signal.name == DANGER_NOW and signal.words == "MEETING her tonight"
    assert signal.source == "additional information"
    assert '"MEETING her tonight"' in signal.quoted()


@pytest.mark.parametrize(
    "text",
    [
        "No indication the abuse is ongoing.",
        "The abuse is not ongoing.",
        "There is no evidence that the child is with him now.",
        "Nothing suggests they plan to meet.",
    ],
)
def test_a_negated_danger_is_not_danger_but_says_it_is_over(text: str) -> None:
    names = _names(text)
    assert DANGER_NOW not in names and RESOLVED in names
    [signal] = read_signals([("escalation", text)])
    assert signal.words.split()[0].casefold() in {"no", "not", "nothing"}


@pytest.mark.parametrize(
    ("text", "cancelled"),
    [
        ("This is not a meme; the pictures are new.", OLD_MATERIAL),
        ("The file was never previously reported.", OLD_MATERIAL),
        ("There is no large volume here.", SERIOUS),
        ("They are not minors of similar age.", PEER_MINORS),
        ("The victim is not safe.", RESOLVED),
        ("Police have not been informed.", RESOLVED),
    ],
)
def test_a_negation_cancels_a_signal(text: str, cancelled: str) -> None:
    assert cancelled not in _names(text)


def test_a_negation_governs_only_its_own_clause() -> None:
    names = _names("There is no sign of a meme. The abuse is ongoing.")
    assert names == {DANGER_NOW}
    assert DANGER_NOW in _names("The user is not a student, but the abuse is ongoing")


def test_an_age_is_not_old_material_and_a_phrase_counts_once() -> None:
    assert _names("The 13-year-old girl sent a picture.") == set()
    signals = read_signals([("x", "An old meme. An old meme.")])
    assert [s.words for s in signals] == ["old meme"]


def test_an_operators_own_danger_phrase_counts() -> None:
    assert _names("code red") == set()
    signals = read_signals([("note", "Code Red for this one")], extra_danger=("code red",))
    assert [(s.name, s.words) for s in signals] == [(DANGER_NOW, "Code Red")]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Last contact was 4 months ago.", 120.0),
        ("The conversation ended two weeks ago.", 14.0),
        ("The chat stopped on 2026-05-02.", 30.0),
        ("Last contact 3 days ago; before that 2 years ago.", 3.0),
    ],
)
def test_the_last_contact_is_read_from_the_text(text: str, days: float) -> None:
    assert last_contact_days([text], WRITTEN) == days


def test_no_stated_contact_or_a_bad_date_gives_none() -> None:
    assert last_contact_days(["The incident was 4 months ago."], WRITTEN) is None
    assert last_contact_days(["The chat stopped on 2026-13-45."], WRITTEN) is None
    assert last_contact_days(["The chat stopped on 2026-05-02."], None) is None


def test_text_whose_lower_case_changes_length_is_quoted_as_written() -> None:
    # "İ" lowers to two characters: spans are taken from a case-blind match instead.
    [signal] = read_signals([("x", "İİİ The abuse is ONGOING.")])
    assert (signal.name, signal.words) == (DANGER_NOW, "ONGOING")


def test_the_reading_stops_at_its_budget_in_the_order_given() -> None:
    filler = "nothing to see here " * 150  # 3000 characters
    texts = [("note", filler)] * (MAX_TOTAL_CHARS // len(filler) + 1) + [("late", "ongoing")]
    assert read_signals(texts) == ()
    assert read_signals([("early", "ongoing"), *texts])[0].source == "early"


def test_huge_and_odd_text_is_read_within_bounds() -> None:
    assert read_signals([("x", "x" * 200_000 + " the abuse is ongoing")]) == ()
    assert read_signals([("x", "\x00\u202e" * 1000 + "ongoing")])[0].name == DANGER_NOW
    assert read_signals([("x", ""), ("y", "   \n\n ;;;")]) == ()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=300)), max_size=4))
def test_any_text_gives_known_signals_quoting_its_own_words(texts: list) -> None:
    for signal in read_signals(texts):
        assert signal.name in SIGNAL_NAMES and signal.words
        assert any(signal.source == source for source, _ in texts)
    last_contact_days([text for _, text in texts], WRITTEN)


# --- issue 20's rule families: each with a phrase it reads and a near one it must not ------


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("chat: boy is here w me rn", "with me"),
        ("caption: he stays with me till friday", "with me until"),
        ("caption: hes here tonight", "here now"),
        ("note: got him until sunday", "have the child until"),
        ("note: i get her again after school", "have the child again"),
        ("chat: the kid is napping upstairs, more later", "asleep nearby"),
        ("message: nephew sleeps over this weekend", "sleepover"),
        ("caption: mum is away, parents pick him up at 9", "parents away"),
        ("The girl is at the suspect's flat.", "the child in the suspect's home"),
        ("text: at his dad's house all week", "at the child's home"),
        ("comment: i babysit him each afternoon", "babysitting"),
        ("comment: round two tomorrow", "repeat plan"),
        ("caption: again tonite", "repeat plan"),
        ("The suspect resides with a toddler.", "lives with"),
        ("The files were recorded this morning.", "produced just now"),
        ("Fresh production of material, escalating.", "produced just now"),
        ("msg: booked a hotel for us sat", "meeting arranged"),
        ("He sent her train directions to his town.", "meeting arranged"),
        ("He offered to pay for her bus on Sunday.", "meeting arranged"),
    ],
)
def test_the_child_with_the_suspect_in_informal_words_is_danger_now(text: str, family: str) -> None:
    assert DANGER_NOW in _names(text), family


@pytest.mark.parametrize(
    "text",
    [
        "The uploader came with me to the office.",  # "with me", not the child, not now
        "The kid is here in the photo.",  # here, but no "now"/"still"
        "Parents are aware of the chat.",  # parents, not away
        "The girl was at a friend's house.",  # not the suspect's home
        "He watches videos every night.",  # watching, not the child
        "The account posted again last year.",  # again, but not soon
        "The image was made years ago.",  # produced, but long ago
        "We get her reports again every week.",  # "get her" without until/again-after
        "The room in the picture is a bedroom.",  # a room, not one booked
        "He paid for a game subscription.",  # paying, not for a journey
    ],
)
def test_near_phrases_are_not_danger_now(text: str) -> None:
    assert DANGER_NOW not in _names(text)


def test_a_negation_governs_its_whole_clause_not_a_fixed_window() -> None:
    long_negated = "There is no indication at all that the child is in immediate danger."
    assert _names(long_negated) == {RESOLVED}
    # ... but not past a comma, a dash or a slash: a new statement begins there
    assert DANGER_NOW in _names("Not known material - produced today")
    assert DANGER_NOW in _names("No prior reports, the boy is here w me now")


@pytest.mark.parametrize("text", ["this isnt some meme", "it aint a meme", "doesnt look old"])
def test_an_informal_negation_of_the_meme_reading_cancels_it(text: str) -> None:
    assert OLD_MATERIAL not in _names(text)
    assert OLD_MATERIAL in _names("this is some meme")


def test_a_negated_danger_is_marked_so_a_statement_of_safety_is_not() -> None:
    [negated] = read_signals([("x", "No indication the abuse is ongoing.")])
    [said] = read_signals([("x", "The victim is safe with family.")])
    assert negated.negated and not said.negated
    assert said.name == RESOLVED == negated.name


@pytest.mark.parametrize(
    "text",
    ["Victim safe w/ family, no more contact.", "The family went to the police."],
)
def test_safety_and_going_to_police_are_resolved(text: str) -> None:
    assert RESOLVED in _names(text)


@pytest.mark.parametrize(
    ("text", "written", "days"),
    [
        ("Threats stopped in the summer.", datetime(2026, 12, 8, tzinfo=UTC), 99.0),
        ("The chat ended in March.", datetime(2026, 6, 1, tzinfo=UTC), 62.0),
        ("The chat ended in March.", datetime(2026, 3, 20, tzinfo=UTC), 0.0),
        ("Contact stopped last month.", WRITTEN, 30.0),
        ("Messages ceased during the winter.", datetime(2026, 1, 10, tzinfo=UTC), 0.0),
    ],
)
def test_an_end_named_by_month_season_or_relative_time_is_read(
    text: str, written: datetime, days: float
) -> None:
    assert last_contact_days([text], written) == days


def test_a_month_or_season_without_an_end_or_a_writing_time_gives_none() -> None:
    assert last_contact_days(["He messaged her in the summer."], WRITTEN) is None
    assert last_contact_days(["Contact stopped in the summer."], None) is None
