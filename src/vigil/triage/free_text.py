"""Reading a report's free text for the few things that change its urgency. Pure.

A person's words are the strongest signal a report carries: the company's escalation reason,
the report's additional information, chat excerpts, analysts' notes. This module turns them
into named signals, each with the words that triggered it, by a small rule set of phrases
written once here and documented in docs/triage.md ("Reading the text"):

* ``danger_now``   a child may be in danger now: with the uploader now, abuse ongoing, a
                   meeting planned, threats, an immediate risk (raises; level 1 may follow)
* ``old_material`` the material is old, known, widely circulated, a meme, reported before
                   (lowers)
* ``serious``      volume or a repeat offender: serious, refer soon, but not imminent
* ``peer_minors``  minors of similar age exchanging (lowers the contact sign)
* ``resolved``     the child is now safe, police are already involved, contact ended (lowers)

A negation shortly before the phrase in the same clause ("no indication", "not", "no
evidence that") cancels the signal; a negated ``danger_now`` ("no indication the abuse is
ongoing") becomes ``resolved``. A rule set, not a model: it misses what it was not written
for, and every signal it gives can be checked against the quoted words.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

DANGER_NOW = "danger_now"
OLD_MATERIAL = "old_material"
SERIOUS = "serious"
PEER_MINORS = "peer_minors"
RESOLVED = "resolved"
SIGNAL_NAMES = (DANGER_NOW, OLD_MATERIAL, SERIOUS, PEER_MINORS, RESOLVED)

MAX_CHARS = 6000  # read of one text: the schema allows 3000 in most fields
MAX_TOTAL_CHARS = 20_000  # of one report's texts in all: scoring stays within a few ms
MAX_QUOTE = 80
NEGATION_WINDOW_WORDS = 6  # how far before a phrase a negation still governs it

_CHILD = (
    r"(?:child|children|kid|kids|minor|victim|girl|boy|daughter|son|niece|nephew|toddler|"
    r"baby|infant)"
)
_SOON = r"(?:now|right now|currently|tonight|today|tomorrow|this (?:weekend|week|evening))"
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_NUMBER_WORDS |= {"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "several": 3}
_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 30.0, "year": 365.0}


@dataclass(frozen=True)
class _Rule:
    signal: str
    pattern: re.Pattern[str]  # written in lower case, matched against lowered text (faster)
    any_case: re.Pattern[str]  # for the rare text whose lowered form changes length


def _rules(signal: str, *patterns: str) -> tuple[_Rule, ...]:
    """One rule matching any of ``patterns``: one pass over a text per signal, and where two
    phrases overlap the leftmost (then the first listed) counts once."""
    union = "|".join(f"(?:{pattern})" for pattern in patterns)
    return (_Rule(signal, re.compile(union), re.compile(union, re.IGNORECASE)),)


RULES: tuple[_Rule, ...] = (
    *_rules(
        DANGER_NOW,
        rf"\bwith (?:the|a|his|her|their) {_CHILD}\b[^.;]{{0,30}}\b{_SOON}\b",
        rf"\b{_CHILD}\b[^.;]{{0,30}}\bwith (?:him|her|them|the (?:user|uploader|suspect|"
        rf"offender|adult))\b[^.;]{{0,20}}\b{_SOON}\b",
        rf"\b(?:has|have|with) (?:access to|custody of) (?:a |the |his |her |their )?{_CHILD}",
        rf"\b(?:lives|living|staying) with (?:a |the |his |her |their )?{_CHILD}",
        r"\bin (?:his|her|their) care\b",
        r"\bongoing\b",
        r"\bstill (?:happening|going on|abusing|in contact|contacting|messaging|grooming)\b",
        r"\b(?:is|are|appears? to be|currently) (?:abusing|grooming|exploiting|molesting)\b",
        r"\b(?:plans?|planned|planning|arranged|arranging|agreed|going|intends?) to meet\b",
        rf"\bmeet(?:s|ing)?\b[^.;]{{0,40}}\b{_SOON}\b",
        r"\bmeeting (?:is |was )?(?:planned|arranged|set up|scheduled)\b",
        r"\bthreat(?:en(?:s|ed|ing)?|s)?\b",
        r"\b(?:self-harm|suicid\w*)\b",
        r"\b(?:immediate|imminent) (?:risk|danger|harm)\b",
        r"\bimminent(?:ly)?\b",
        r"\b(?:at risk|in danger)\b",
    ),
    *_rules(
        OLD_MATERIAL,
        r"\bold (?:meme|material|image|video|content|file|photo|picture|series)s?\b",
        r"\b(?:is|are|was|were|looks|seems) (?:very |quite )?old\b",
        r"\bwidely (?:circulated|circulating|shared|spread|distributed)\b",
        r"\b(?:known|catalogued|circulating) (?:material|image|video|series|file|content)s?\b",
        r"\bmemes?\b",
        r"\b(?:previously|already) reported\b",
        r"\breported (?:before|previously|many times)\b",
        r"\bgoing around (?:for|since)\b",
    ),
    *_rules(
        SERIOUS,
        r"\b(?:large|huge|high|significant|massive) (?:volume|number|amount|quantity|collection)\b",
        r"\b(?:hundreds|thousands) of (?:files|images|videos|pictures|photos)\b",
        r"\b\d{3,}\s+(?:files|images|videos|pictures|photos)\b",
        r"\brepeat(?:ed)? offend(?:er|ing)\b",
        r"\brecidivis\w*\b",
        r"\b(?:previously|already|repeatedly) (?:banned|suspended|convicted|arrested|charged)\b",
        r"\b(?:multiple|many|several) (?:accounts|platforms)\b",
    ),
    *_rules(
        PEER_MINORS,
        r"\bminors? of (?:a )?similar ages?\b",
        r"\bsimilar(?:ly)?[- ]aged?\b",
        r"\b(?:the )?same age\b",
        r"\bminor[- ]to[- ]minor\b",
        r"\bboth (?:are |parties are |users are |of them are )?"
        r"(?:minors|teens|teenagers|under 1[68]|students|classmates)\b",
        r"\b(?:between|among) (?:two |the )?(?:minors|teens|teenagers|classmates|peers|students)\b",
        r"\b(?:classmates?|schoolmates?)\b",
    ),
    *_rules(
        RESOLVED,
        r"\b(?:is|are|was|now) (?:now )?safe\b",
        r"\bsafe now\b",
        r"\b(?:police|law enforcement|authorities|officers)\b[^.;]{0,40}"
        r"\b(?:already|were|was|have been|has been|are|is) "
        r"(?:involved|informed|notified|contacted|aware|investigating)\b",
        r"\balready (?:reported to|known to|involved|in contact with) (?:the )?"
        r"(?:police|law enforcement|authorities)\b",
        r"\b(?:has|have) been (?:arrested|taken into custody)\b|\bin custody\b",
        r"\bno longer in contact\b",
        r"\b(?:contact|conversation|exchange|chat) (?:has )?(?:ended|stopped|ceased)\b",
        r"\b(?:parents?|guardians?|school) (?:was |were |are |is |has been |have been )?"
        r"(?:informed|notified|aware|involved|intervened)\b",
    ),
)

# What turns a phrase around when it comes shortly before it in the same clause.
_NEGATION = re.compile(
    r"\b(?:no|not|never|nothing|none|without|neither|nor|unlikely|cannot|denies|denied|"
    r"isn't|aren't|wasn't|weren't|doesn't|don't|didn't|ruled out)\b|n't\b",
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"[.;!?\n]+|\b(?:but|however|although|though)\b", re.IGNORECASE)
_WORD = re.compile(r"\S+")
# On a negation the signal is cancelled, or turned into the one named here.
NEGATED_AS = {DANGER_NOW: RESOLVED}

_COUNT = r"(\d{1,4}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several)"
_LAST_CONTACT = re.compile(
    r"\b(?:last (?:contact(?:ed)?|message[ds]?|messaged|communication|chat(?:ted)?)|"
    r"(?:contact|conversation|chat|exchange|messages?) (?:has |have )?(?:ended|stopped|ceased)|"
    r"(?:ended|stopped|ceased))\b[^.;]{0,40}?"
    rf"(?:\b{_COUNT} (day|week|month|year)s? ago\b|\b(\d{{4}}-\d{{2}}-\d{{2}})\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Signal:
    """One signal found: its name, the words that triggered it as written, and where."""

    name: str
    words: str
    source: str  # "escalation", "additional information", "analyst's note", ...

    def quoted(self) -> str:
        return f'{self.source}: "{self.words}"'


def read_signals(
    texts: Iterable[tuple[str, str]], extra_danger: tuple[str, ...] = ()
) -> tuple[Signal, ...]:
    """Every signal in ``texts`` ((source, text) pairs), in reading order, each phrase once.
    ``extra_danger``: an operator's own danger phrases (plain words, case-insensitive).
    At most MAX_TOTAL_CHARS are read in all, in the order given."""
    rules = RULES + _extra_rules(extra_danger)
    found: dict[tuple[str, str], Signal] = {}
    budget = MAX_TOTAL_CHARS
    for source, text in texts:
        read = text[: min(MAX_CHARS, budget)]
        budget -= len(read)
        for signal in _text_signals(read, rules, source):
            found.setdefault((signal.name, signal.words.casefold()), signal)
        if budget <= 0:
            break
    return tuple(found.values())


def _text_signals(text: str, rules: tuple[_Rule, ...], source: str) -> Iterable[Signal]:
    if not text.strip():
        return
    breaks = [(found.start(), found.end()) for found in _CLAUSES.finditer(text)]
    starts, ends = [start for start, _ in breaks], [end for _, end in breaks]
    lowered = text.lower()
    same_length = len(lowered) == len(text)  # then a match's span is the same in both
    for rule in rules:
        matches = rule.pattern.finditer(lowered) if same_length else rule.any_case.finditer(text)
        for match in matches:
            first_break = bisect_right(starts, match.start())
            if first_break < len(starts) and starts[first_break] < match.end():
                continue  # the phrase runs across two clauses
            clause_start = ends[first_break - 1] if first_break else 0
            negation = _negation_before(text[clause_start : match.start()])
            words = " ".join(text[match.start() : match.end()].split())[:MAX_QUOTE]
            if negation is None:
                yield Signal(rule.signal, words, source)
            elif rule.signal in NEGATED_AS:
                yield Signal(NEGATED_AS[rule.signal], f"{negation} ... {words}", source)


def _negation_before(before_in_clause: str) -> str | None:
    """The negation governing a phrase preceded by these words of its clause, or None."""
    window = " ".join(_WORD.findall(before_in_clause[-400:])[-NEGATION_WINDOW_WORDS:])
    found = list(_NEGATION.finditer(window))
    return " ".join(window[found[-1].start() :].split()[:4]) if found else None


@lru_cache(maxsize=8)
def _extra_rules(words: tuple[str, ...]) -> tuple[_Rule, ...]:
    if not words:
        return ()
    return _rules(DANGER_NOW, *(rf"\b{re.escape(word.lower())}\b" for word in words))


def last_contact_days(texts: Iterable[str], written: datetime | None) -> float | None:
    """How many days before ``written`` (when the text was written) the text says contact
    with the child ended or last happened: "last contact 3 months ago", "the chat stopped
    on 2026-01-04". The most recent such statement wins; None when the text says nothing."""
    found: list[float] = []
    budget = MAX_TOTAL_CHARS
    for text in texts:
        read = text[: min(MAX_CHARS, budget)]
        budget -= len(read)
        if budget < 0:
            break
        for match in _LAST_CONTACT.finditer(read):
            days = _days(match, written)
            if days is not None:
                found.append(days)
    return min(found) if found else None


def _days(match: re.Match[str], written: datetime | None) -> float | None:
    count, unit, date = match.group(1), match.group(2), match.group(3)
    if date is not None:
        if written is None:
            return None
        try:
            then = datetime.fromisoformat(date).replace(tzinfo=written.tzinfo)
        except ValueError:
            return None
        return max(0.0, (written - then).total_seconds() / 86400)
    number = _NUMBER_WORDS.get(count.casefold()) if not count.isdigit() else int(count)
    return float(number or 0) * _UNIT_DAYS[unit.casefold()]
