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

A negation earlier in the same clause ("no indication", "not", "isnt", "no evidence that"),
up to a comma, dash or clause break, cancels the signal; a negated ``danger_now`` ("no
indication the abuse is ongoing") becomes ``resolved``. A rule set, not a model: it misses
what it was not written for, and every signal it gives can be checked against the quoted
words.
"""

from __future__ import annotations

import calendar
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
NEGATION_WINDOW_WORDS = 20  # a negation governs its clause, up to this many words back

_CHILD = (
    r"(?:child|children|kid|kids|minor|victim|girl|boy|daughter|son|niece|nephew|toddler|"
    r"baby|infant)"
)
_SOON = (
    r"(?:now|right now|rn|currently|tonight|tonite|today|tomorrow|tmrw|"
    r"this (?:weekend|week|evening))"
)
# Informal writing by the suspect himself: "w me", "til tues", "her"/"him" for the child.
_WITH_ME = r"(?:with|w/?) me"
_THE_CHILD = rf"(?:her|him|them|the {_CHILD})"
_UNTIL = r"(?:till|til|until|all (?:day|night|weekend|week)|this weekend)"
_DAYS = r"(?:today|tonight|tonite|tomorrow|tmrw|this (?:morning|weekend)|the same (?:morning|day))"
_HOME = r"(?:place|house|home|flat|apartment|room|bed|car)"
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december",
)  # fmt: skip
# Where a season a text names ends (month, day), northern hemisphere: "stopped in the summer".
_SEASON_ENDS = {"spring": (5, 31), "summer": (8, 31), "autumn": (11, 30), "fall": (11, 30)}
_SEASON_ENDS |= {"winter": (2, 28)}
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
        rf"\b(?:lives|living|staying|resides|residing) with (?:a |the |his |her |their )?{_CHILD}",
        r"\bin (?:his|her|their) care\b",
        # the child with the suspect now, in his own informal words
        rf"\bhere {_WITH_ME}\b",
        rf"\b(?:she|he|they|{_CHILD})(?:'s|s| is| are)? (?:still here|here {_SOON})\b",
        rf"\b{_WITH_ME} (?:{_SOON}|{_UNTIL})\b",
        rf"\b(?:have|having|got|get|getting|keep|keeping) {_THE_CHILD} (?:again |{_UNTIL})",
        r"\b(?:asleep|sleeping|napping) (?:in the (?:other|next) room|next door|upstairs)\b",
        r"\bsleep(?:ing|s)?[- ]?over\b|\bsleepover\b",
        r"\bparents? (?:are |is |r )?(?:away|out of town|pick(?:s|ing)? (?:her |him |them )?up)\b",
        rf"\b(?:{_CHILD}|she|he|they)(?:'s| is| are)? (?:in|at) (?:my|his|the (?:user|uploader|"
        rf"suspect|offender|adult)'s) {_HOME}\b",
        rf"\bat (?:her|his|their) (?:mum|mom|mother|dad|father|parents|gran|grandma)'?s? {_HOME}\b",
        rf"\b(?:babysit(?:s|ting)?|watch(?:es|ing)?|look(?:s|ing) after|mind(?:s|ing)) "
        rf"{_THE_CHILD} (?:every|each|after school|{_SOON})\b",
        # plans to repeat: "again tonight", "round 2 tonight"
        rf"\b(?:again|round (?:2|two|3|three))\b[^.;]{{0,25}}?\b{_SOON}\b",
        # material made just now: the child was with its maker today
        rf"\b(?:produced|recorded|filmed|made|taken|created)\b[^.;]{{0,20}}?\b{_DAYS}\b",
        r"\b(?:recent|fresh|new) production\b",
        r"\bongoing\b",
        r"\bstill (?:happening|going on|abusing|in contact|contacting|messaging|grooming)\b",
        r"\b(?:is|are|appears? to be|currently) (?:abusing|grooming|exploiting|molesting)\b",
        r"\b(?:plans?|planned|planning|arranged|arranging|agreed|going|intends?) to meet\b",
        rf"\bmeet(?:s|ing)?\b[^.;]{{0,40}}\b{_SOON}\b",
        # a meeting being arranged in other words: a room booked, the journey paid or shown
        r"\b(?:got|get|booked|book|booking|rented|reserved) (?:us |a |the )*"
        r"(?:room|hotel|motel|airbnb)\b",
        r"\b(?:transit|bus|train|travel) (?:directions|fare|ticket)s?\b",
        r"\b(?:cover|pay|paid|pays|paying|buy|bought) (?:for )?(?:the |her |his |your |ur |a )?"
        r"(?:fare|ticket|bus|train|uber|taxi|ride)s?\b",
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
        rf"\b{_CHILD} (?:is |are |now |was )?(?:now )?safe\b",
        r"\b(?:went|gone|turned|go) to (?:the )?(?:police|law enforcement|authorities)\b",
        r"\bno longer in contact\b|\bno (?:more|further) contact\b",
        r"\b(?:contact|conversation|exchange|chat) (?:has )?(?:ended|stopped|ceased)\b",
        r"\b(?:parents?|guardians?|school) (?:was |were |are |is |has been |have been )?"
        r"(?:informed|notified|aware|involved|intervened)\b",
    ),
)

# What turns a phrase around when it comes shortly before it in the same clause.
_NEGATION = re.compile(
    r"\b(?:no|not|never|nothing|none|without|neither|nor|unlikely|cannot|denies|denied|"
    r"isn't|aren't|wasn't|weren't|doesn't|don't|didn't|ruled out|"
    r"isnt|arent|wasnt|werent|doesnt|dont|didnt|aint)\b|n't\b",
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"[.;!?\n]+|\b(?:but|however|although|though)\b", re.IGNORECASE)
_WORD = re.compile(r"\S+")
_COMMA = re.compile(r"[,:/]|\s[-\u2013\u2014]\s")  # a negation's reach ends there too
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

# An end of contact named by a month, a season or a relative time: "threats stopped in the
# summer", "the chat ended in March", "contact stopped last month".
_ENDED_WHEN = re.compile(
    r"\b(?:ended|stopped|ceased|over)\b[^.;]{0,30}?\b(?:"
    r"(?:in|during|over|since|by) (?:the |late |early |mid[- ])?"
    rf"({'|'.join(_MONTHS)}|{'|'.join(_SEASON_ENDS)})|last (week|month|year))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Signal:
    """One signal found: its name, the words that triggered it as written, and where."""

    name: str
    words: str
    source: str  # "escalation", "additional information", "analyst's note", ...
    negated: bool = False  # a negated phrase turned into this signal ("no ... ongoing")

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
                yield Signal(NEGATED_AS[rule.signal], f"{negation} ... {words}", source, True)


def _negation_before(before_in_clause: str) -> str | None:
    """The negation governing a phrase preceded by these words of its clause, or None."""
    clause = _COMMA.split(before_in_clause[-400:])[-1]
    window = " ".join(_WORD.findall(clause)[-NEGATION_WINDOW_WORDS:])
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
        if written is not None:
            found += [_days_since(match, written) for match in _ENDED_WHEN.finditer(read)]
    return min(found) if found else None


def _days_since(match: re.Match[str], written: datetime) -> float:
    """Days from the end of the named month or season (its latest end before ``written``;
    none when ``written`` falls inside it) or the relative time, to ``written``."""
    named, unit = match.group(1), match.group(2)
    if unit is not None:
        return _UNIT_DAYS[unit.casefold()]
    named = named.casefold()
    if named in _SEASON_ENDS:
        month, day = _SEASON_ENDS[named]
        start = (month - 3) % 12 + 1  # a season is the three months ending in ``month``
        if written.month in {(start + k - 1) % 12 + 1 for k in range(3)}:
            return 0.0
    else:
        month = _MONTHS.index(named) + 1
        if written.month == month:
            return 0.0
        day = calendar.monthrange(written.year, month)[1]
    year = written.year if (month, day) < (written.month, written.day) else written.year - 1
    end = written.replace(year=year, month=month, day=min(day, 28) if month == 2 else day)
    return max(0.0, (written - end).total_seconds() / 86400)


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
