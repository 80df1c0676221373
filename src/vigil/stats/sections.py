"""What the annual report and the dashboard say, independent of how it is drawn: the caveat,
the methodology, and one section per figure, each with its chart (when it has one) and a
table of the very same numbers."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.stats.charts import TOP_COUNTRIES, outcome_label
from vigil.stats.figures import Durations, Statistics
from vigil.stats.platform import PlatformFigures

CAVEAT_TITLE = "Report volume does not measure prevalence"
CAVEAT = (
    "The number of reports counts what platforms detected and chose to report, and what this "
    "clearinghouse received and processed. It does not measure how much child sexual abuse "
    "takes place, nor how safe a platform is: volume rises when a company detects more, adopts "
    "new detection tools, or when one viral file is reported many times, and falls when "
    "detection stops or content is encrypted. Compare years and companies with that in mind."
)
WHAT_IT_MEASURES = (
    "What these figures do measure: the workload that reached the clearinghouse, how much of "
    "it was material already known, how quickly reports were triaged and acted on, and what "
    "law enforcement recorded as the result."
)
PLATFORM_NOTE_TITLE = "What these figures measure"
PLATFORM_NOTE = (
    "These figures count this platform's own detection, review and reporting work. They "
    "reflect how much it detected and how fast it acted, not how much abuse takes place: "
    "they rise when detection improves and fall when it stops."
)
METHODOLOGY = (
    (
        "Period",
        "A report counts in the period in which the reporting company finished it "
        "(all times UTC); its files, country, incident type and triage go with it. Reports still "
        "open, retracted by the company, or expired unfinished are not counted.",
    ),
    (
        "Known, seen, new",
        "Each received file is compared with the hash lists and earlier "
        "reports. Known: it matches material already labelled, so nobody needs to view it again. "
        "Seen: it matches files of earlier reports that were never labelled. New: it matches "
        "nothing; it may show a child being abused now. Shares are of classified files.",
    ),
    (
        "Country",
        "Where the geolocation database the operator supplies places the report's IP "
        "addresses. Unknown: no address, or one the database could not place.",
    ),
    (
        "Incident type",
        "The incident type the reporting company declared, from the "
        "CyberTipline list; anything else is counted as 'other or not stated'.",
    ),
    (
        "Time to triage",
        "From the moment the company finished the report to its first "
        "priority. Median and 90th percentile (9 in 10 were faster), over the reports triaged.",
    ),
    (
        "Time to agency action",
        "From routing a report to an agency to that agency accepting "
        "or declining it, for referrals routed in the period. A declined report is routed again "
        "and counts once for each agency.",
    ),
    (
        "Companies' answers",
        "From an agency's request for more information to the company's "
        "answer, for requests made in the period. Overdue: still open after the due date. Late: "
        "answered after it. Withdrawn requests count as made, never as open.",
    ),
    (
        "Outcomes",
        "What agencies recorded in the period; one referral can have several "
        "(an investigation, then a warrant, then an arrest).",
    ),
)


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    table: Table
    chart: str | None = None  # a name in charts.SERIES
    note: str = ""


def sections(stats: Statistics) -> list[Section]:
    return [
        _months(stats),
        _verdicts(stats),
        _countries(stats),
        _agencies(stats),
        _outcomes(stats),
        _companies(stats),
        _incident_types(stats),
        _timeliness(stats),
        _answers(stats),
    ]


def headline(stats: Statistics) -> list[tuple[str, str]]:
    figures = stats.verdicts
    return [
        ("Reports", f"{stats.reports:,}"),
        ("Files", f"{stats.files:,}"),
        ("Known or seen before", _share(figures.known_or_seen_share)),
        ("New files", f"{figures.new:,}"),
        ("Median time to triage", _hours(stats.time_to_triage.median_hours)),
    ]


def _months(stats: Statistics) -> Section:
    rows = [[row.month, f"{row.reports:,}", f"{row.files:,}"] for row in stats.months]
    rows.append(["Total", f"{stats.reports:,}", f"{stats.files:,}"])
    return Section(
        "months",
        "Reports and files by month",
        Table(["Month", "Reports", "Files"], rows),
        chart="months",
    )


def _verdicts(stats: Statistics) -> Section:
    figures = stats.verdicts
    rows = [
        [label, f"{count:,}", _share(figures.share(count))]
        for label, count in (("Known", figures.known), ("Seen", figures.seen), ("New", figures.new))
    ]
    rows.append(["Not classified", f"{figures.unclassified:,}", "—"])
    return Section(
        "verdicts",
        "Known, seen and new files",
        Table(["Files", "Count", "Share of classified"], rows),
        chart="verdicts",
    )


def _countries(stats: Statistics) -> Section:
    rows = [[c.label, f"{c.count:,}"] for c in stats.countries]
    note = f"The chart shows the top {TOP_COUNTRIES}; the table lists every country."
    return Section(
        "countries",
        "Reports by country",
        Table(["Country", "Reports"], rows),
        chart="countries",
        note=note if len(rows) > TOP_COUNTRIES else "",
    )


def _agencies(stats: Statistics) -> Section:
    rows = [
        [
            row.agency,
            f"{row.referred:,}",
            f"{row.accepted:,}",
            f"{row.declined:,}",
            f"{row.awaiting:,}",
        ]
        for row in stats.agencies
    ]
    return Section(
        "agencies",
        "Referrals by agency",
        Table(["Agency", "Referred", "Accepted", "Declined", "Awaiting"], rows),
        chart="agencies",
        note=f"{stats.unrouted:,} report(s) now wait in the routing queue.",
    )


def _outcomes(stats: Statistics) -> Section:
    rows = [[outcome_label(c.label), f"{c.count:,}"] for c in stats.outcomes]
    return Section("outcomes", "Outcomes", Table(["Outcome", "Recorded"], rows), chart="outcomes")


def _companies(stats: Statistics) -> Section:
    rows = [[row.company, f"{row.reports:,}", f"{row.files:,}"] for row in stats.companies]
    return Section(
        "companies", "Reports by reporting company", Table(["Company", "Reports", "Files"], rows)
    )


def _incident_types(stats: Statistics) -> Section:
    rows = [[c.label, f"{c.count:,}"] for c in stats.incident_types]
    return Section(
        "incident-types", "Reports by incident type", Table(["Incident type", "Reports"], rows)
    )


def _timeliness(stats: Statistics) -> Section:
    rows = [
        _duration_row("Report to triage", stats.time_to_triage),
        _duration_row("Routing to agency action", stats.time_to_action),
    ]
    note = (
        f"{stats.untriaged:,} report(s) of the period are not triaged yet; "
        f"{stats.unrouted:,} wait in the routing queue."
    )
    return Section(
        "timeliness",
        "Time to triage and to agency action",
        Table(["Measure", "Measured", "Median", "90th pct."], rows),
        note=note,
    )


def _answers(stats: Statistics) -> Section:
    rows = [
        [
            row.company,
            f"{row.requests:,}",
            f"{row.answered:,}",
            f"{row.open:,}",
            f"{row.overdue:,}",
            f"{row.late:,}",
            _hours(row.time_to_answer.median_hours),
            _hours(row.time_to_answer.p90_hours),
        ]
        for row in stats.info_requests
    ]
    return Section(
        "answers",
        "Companies' time to answer law-enforcement requests",
        Table(
            ["Company", "Requests", "Answered", "Open", "Overdue", "Late", "Median", "90th pct."],
            rows,
        ),
    )


def _duration_row(label: str, durations: Durations) -> list[str]:
    return [
        label,
        f"{durations.measured:,}",
        _hours(durations.median_hours),
        _hours(durations.p90_hours),
    ]


def _hours(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _share(fraction: float) -> str:
    return f"{fraction * 100:.1f}%"


# --- a platform's own work -----------------------------------------------------------------

PLATFORM_METHODOLOGY = (
    (
        "Cases and decisions",
        "A case gathers what was flagged for one account. Cases count in the period they "
        "were opened, and again where they were closed (confirmed: abuse confirmed and sent "
        "to reporting; dismissed: nothing to report). Items count where a reviewer decided "
        "them.",
    ),
    (
        "Reveals",
        "Each time a reviewer saw a picture or video unblurred in the console, and each "
        "time an API client confirmed a person was shown a record's media, as recorded in "
        "the audit log.",
    ),
    (
        "Time from detection to report",
        "From the opening of the case (the first flagged upload of the account) to the "
        "destination confirming the report, for reports filed in the period; a report "
        "covering several cases counts from the earliest.",
    ),
    (
        "Law-enforcement requests",
        "Preservation requests, subpoenas, warrants and emergency requests received in the "
        "period: answered, still open, overdue (open after the due date), late (answered "
        "after it), and the time from receipt to answer.",
    ),
)


def platform_headline(figures: PlatformFigures) -> list[tuple[str, str]]:
    return [
        ("Cases opened", f"{figures.cases_opened:,}"),
        ("Items confirmed", f"{figures.items_confirmed:,}"),
        ("Reports filed", f"{figures.reports_filed:,}"),
        ("Median detection to report", _hours(figures.detection_to_report.median_hours)),
        ("Law-enforcement requests", f"{figures.requests.received:,}"),
    ]


def platform_sections(figures: PlatformFigures) -> list[Section]:
    return [_review(figures), _filing(figures), _requests(figures)]


def _review(figures: PlatformFigures) -> Section:
    rows = [
        ["Cases opened", f"{figures.cases_opened:,}"],
        ["Cases closed, abuse confirmed", f"{figures.cases_confirmed:,}"],
        ["Cases closed, nothing to report", f"{figures.cases_dismissed:,}"],
        ["Items confirmed", f"{figures.items_confirmed:,}"],
        ["Items judged false positives", f"{figures.items_false_positive:,}"],
        ["Media shown unblurred in the console (reveals)", f"{figures.reveals:,}"],
        ["Media viewed through the API", f"{figures.api_media_fetches:,}"],
    ]
    return Section(
        "platform-review", "Cases, decisions and reveals", Table(["Measure", "Count"], rows)
    )


def _filing(figures: PlatformFigures) -> Section:
    rows = [_duration_row("Detection to report filed", figures.detection_to_report)]
    return Section(
        "platform-reports",
        "Reports filed and time from detection to report",
        Table(["Measure", "Reports", "Median", "90th pct."], rows),
        note=(
            f"{figures.reports_filed:,} report(s) filed in the period; "
            f"{figures.reports_failed:,} of those created in it failed and wait for a person."
        ),
    )


def _requests(figures: PlatformFigures) -> Section:
    asked = figures.requests
    rows = [
        [
            "Requests received",
            f"{asked.received:,}",
            f"{asked.answered:,}",
            f"{asked.open:,}",
            f"{asked.overdue:,}",
            f"{asked.late:,}",
            _hours(asked.time_to_answer.median_hours),
            _hours(asked.time_to_answer.p90_hours),
        ]
    ]
    return Section(
        "platform-requests",
        "Law-enforcement requests and time to answer",
        Table(
            ["Requests", "Received", "Answered", "Open", "Overdue", "Late", "Median", "90th pct."],
            rows,
        ),
    )
