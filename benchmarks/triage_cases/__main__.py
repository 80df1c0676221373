"""``python -m benchmarks.triage_cases --check``: read and validate the case file, then print
how many cases there are per true level and per pattern (with the levels inside each)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from benchmarks.triage_cases.case import CASES_FILE, PATTERNS, Case, CaseError, load_cases


def summary(cases: Sequence[Case]) -> list[str]:
    """The --check lines: totals, levels, companies, then each pattern's levels."""
    levels = Counter(case.level for case in cases)
    total = len(cases)
    lines = [f"{total} cases"]
    lines += [
        f"level {level}: {levels[level]:4d} ({100 * levels[level] / total:.1f}%)"
        for level in sorted(levels)
    ]
    companies = Counter(case.company for case in cases)
    lines += [f"company {name}: {count}" for name, count in sorted(companies.items())]
    lines.append("pattern: cases (levels 1/2/3/4)")
    for pattern in PATTERNS:
        inside = Counter(case.level for case in cases if pattern in case.patterns)
        if inside:
            per_level = "/".join(str(inside[level]) for level in (1, 2, 3, 4))
            lines.append(f"  {pattern}: {sum(inside.values())} ({per_level})")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.triage_cases")
    parser.add_argument("--check", action="store_true", help="validate and print counts")
    parser.add_argument("--file", type=Path, default=CASES_FILE, help="the case file")
    args = parser.parse_args(argv)
    if not args.check:
        parser.print_help()
        return 2
    try:
        cases = load_cases(args.file)
    except CaseError as exc:
        print(f"invalid case file: {exc}", file=sys.stderr)
        return 1
    print("\n".join(summary(cases)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
