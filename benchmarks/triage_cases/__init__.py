"""A second, independent evaluation set for the clearinghouse's triage (issue 20).

Who wrote it and how: a helper session asked to be the set's *independent author*. It did not
open the synthetic benchmark (vigil.triage.synthetic), the scorer, its weights or
docs/triage.md. The cases come from the issue's description of the misses and from public
descriptions of how the CyberTipline prioritises reports: level 1, a child may be in
imminent danger; level 2, an actionable referral that needs attention soon; level 3, a
referral; level 4, informational (e.g. viral or meme material spread widely by unrelated
people, with nothing new). Each case carries an investigator's one-sentence reason for its
level.

The true levels are for measuring only. Never tune the scorer, its weights or its
thresholds on these labels while measuring on them: a set used for both says nothing.

``cases.json`` holds the cases, ``case.py`` reads and validates them, ``documents.py`` turns
one into the CyberTipline documents a company would send, ``load.py`` sends them through the
clearinghouse intake into a Vigil database, and ``python -m benchmarks.triage_cases --check``
prints counts per level and per misleading pattern.
"""
