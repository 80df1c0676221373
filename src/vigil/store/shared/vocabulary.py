"""The words a reviewer chooses and a report carries, as the clearinghouse defines them, and
the keyboard shortcuts for each (one key, no clashes; the web layer renders ``SHORTCUTS``).
In the store because the case tables hold these values and both review and reporting use them.

Industry classification (the scale of the industry hash-sharing programme): the letter is
the apparent developmental stage of the child, the digit what the content shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

INDUSTRY_CLASSIFICATIONS: tuple[str, ...] = ("A1", "A2", "B1", "B2")
CLASSIFICATION_MEANINGS: Mapping[str, str] = {
    "A1": "Prepubescent child; a sex act.",
    "A2": "Prepubescent child; lascivious exhibition.",
    "B1": "Pubescent child; a sex act.",
    "B2": "Pubescent child; lascivious exhibition.",
}

# CyberTipline fileAnnotations (report.xsd), in the schema's order, with its question.
FILE_ANNOTATIONS: Mapping[str, str] = {
    "animeDrawingVirtualHentai": "Depicts anime, drawing, cartoon, virtual or hentai.",
    "potentialMeme": "Shared out of mimicry or other seemingly non-malicious intent.",
    "viral": "Circulating rapidly from one user to another.",
    "possibleSelfProduction": "Believed to be self-produced.",
    "physicalHarm": "Depicts an intentional act causing physical injury or trauma.",
    "violenceGore": "Depicts graphic violence or gore.",
    "bestiality": "Involves an animal.",
    "liveStreaming": "Streamed live at the time it was uploaded.",
    "infant": "Depicts an infant.",
    "generativeAi": "Believed to be made by generative AI.",
}

# CyberTipline simpleType incidentType (report.xsd), exactly as the schema spells them.
INCIDENT_TYPES: tuple[str, ...] = (
    "Child Pornography (possession, manufacture, and distribution)",
    "Child Sex Trafficking",
    "Child Sex Tourism",
    "Child Sexual Molestation",
    "Misleading Domain Name",
    "Misleading Words or Digital Images on the Internet",
    "Online Enticement of Children for Sexual Acts",
    "Unsolicited Obscene Material Sent to a Child",
)

CLASSIFICATION_KEYS: Mapping[str, str] = {"1": "A1", "2": "A2", "3": "B1", "4": "B2"}
ANNOTATION_KEYS: Mapping[str, str] = {
    "a": "animeDrawingVirtualHentai",
    "m": "potentialMeme",
    "v": "viral",
    "s": "possibleSelfProduction",
    "h": "physicalHarm",
    "g": "violenceGore",
    "b": "bestiality",
    "l": "liveStreaming",
    "i": "infant",
    "e": "generativeAi",
}
INCIDENT_TYPE_KEYS: Mapping[str, str] = {
    "p": INCIDENT_TYPES[0],
    "t": INCIDENT_TYPES[1],
    "y": INCIDENT_TYPES[2],
    "q": INCIDENT_TYPES[3],
    "d": INCIDENT_TYPES[4],
    "w": INCIDENT_TYPES[5],
    "n": INCIDENT_TYPES[6],
    "x": INCIDENT_TYPES[7],
}
DECISION_KEYS: Mapping[str, str] = {
    "c": "confirm",
    "f": "false_positive",
    "o": "second_opinion",
    "u": "escalate",
}
NAVIGATION_KEYS: Mapping[str, str] = {
    "r": "reveal the current item (re-blurs when focus leaves it)",
    "j": "next item",
    "k": "previous item",
    "?": "show these shortcuts",
}

SHORTCUTS: Mapping[str, Mapping[str, str]] = {
    "classification": CLASSIFICATION_KEYS,
    "annotation": ANNOTATION_KEYS,
    "incident_type": INCIDENT_TYPE_KEYS,
    "decision": DECISION_KEYS,
    "navigation": NAVIGATION_KEYS,
}


def clashing_keys(groups: Mapping[str, Mapping[str, str]] = SHORTCUTS) -> set[str]:
    """Keys bound in more than one group (empty when the map is sound)."""
    seen: set[str] = set()
    clashes: set[str] = set()
    for keys in groups.values():
        clashes |= seen & set(keys)
        seen |= set(keys)
    return clashes


def is_classification(value: object) -> bool:
    return isinstance(value, str) and value in INDUSTRY_CLASSIFICATIONS


def unknown_annotations(values: Iterable[object]) -> list[str]:
    """The values that are not CyberTipline file annotations, for an error message."""
    return [
        str(value)[:40]
        for value in values
        if not isinstance(value, str) or value not in FILE_ANNOTATIONS
    ]


def ordered_annotations(values: Iterable[str]) -> list[str]:
    """Known annotations, each once, in the schema's order."""
    chosen = set(values)
    return [name for name in FILE_ANNOTATIONS if name in chosen]


assert not clashing_keys(), "a shortcut key is bound twice"

# The clearinghouse's own list of analysts' labels: written by the clearinghouse, read by triage.
CLEARINGHOUSE_LABELS_LIST = "clearinghouse-labels"
