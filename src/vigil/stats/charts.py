"""Charts of a period's statistics as PNG images (matplotlib, Agg: no display needed).

Figures are built with the object API, not pyplot, so no global state is shared between
threads of the web service. Every chart has a title, labelled axes and an alt text that
says what the numbers are; the same input gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vigil.stats.figures import Statistics

# matplotlib is imported where a chart is drawn, not here: importing it takes about a second,
# and the service, the command line and most tests never draw one.
if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TOP_COUNTRIES = 10
TOP_AGENCIES = 15
WIDTH, HEIGHT, DPI = 8.0, 4.5, 100
BAR_COLOUR = "#2b6cb0"
VERDICT_COLOURS = {"Known": "#2f855a", "Seen": "#b7791f", "New": "#c53030"}
_PNG_METADATA = {"Software": None}  # no library version in the bytes: deterministic output


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    alt: str
    png: bytes


@dataclass(frozen=True)
class Series:
    """What one chart shows: labelled values and how to describe them."""

    title: str
    x_label: str
    y_label: str
    labels: list[str]
    values: list[float]
    unit: str  # "reports", "%"...
    colours: list[str] | None = None
    horizontal: bool = False


def months_series(stats: Statistics) -> Series:
    return Series(
        f"Reports received by month, {stats.period.label}",
        "Month",
        "Reports",
        [row.month for row in stats.months],
        [row.reports for row in stats.months],
        "reports",
    )


def verdicts_series(stats: Statistics) -> Series:
    figures = stats.verdicts
    labels = list(VERDICT_COLOURS)
    values = [
        round(100 * figures.share(count), 1) for count in (figures.known, figures.seen, figures.new)
    ]
    return Series(
        f"Files known, seen before, or new, {stats.period.label}",
        "What the file turned out to be",
        "Share of classified files (%)",
        labels,
        values,
        "%",
        colours=[VERDICT_COLOURS[label] for label in labels],
    )


def countries_series(stats: Statistics) -> Series:
    top = stats.countries[:TOP_COUNTRIES]
    return Series(
        f"Reports by country (top {TOP_COUNTRIES}), {stats.period.label}",
        "Reports",
        "Country",
        [c.label for c in top],
        [c.count for c in top],
        "reports",
        horizontal=True,
    )


def agencies_series(stats: Statistics) -> Series:
    top = stats.agencies[:TOP_AGENCIES]
    return Series(
        f"Referrals by agency, {stats.period.label}",
        "Referrals",
        "Agency",
        [row.agency for row in top],
        [row.referred for row in top],
        "referrals",
        horizontal=True,
    )


def outcomes_series(stats: Statistics) -> Series:
    return Series(
        f"Outcomes recorded by agencies, {stats.period.label}",
        "Outcomes",
        "Outcome",
        [outcome_label(c.label) for c in stats.outcomes],
        [c.count for c in stats.outcomes],
        "outcomes",
        horizontal=True,
    )


def outcome_label(kind: str) -> str:
    return kind.replace("_", " ").capitalize()


SERIES: dict[str, Callable[[Statistics], Series]] = {
    "months": months_series,
    "verdicts": verdicts_series,
    "countries": countries_series,
    "agencies": agencies_series,
    "outcomes": outcomes_series,
}


def figure(series: Series, size: tuple[float, float] = (WIDTH, HEIGHT)) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    draw(fig.add_subplot(), series)
    return fig


def draw(axes: Axes, series: Series) -> None:
    """The chart on the given axes (a page of the PDF report draws on part of a page)."""
    axes.set_title(series.title)
    if not series.labels or not any(series.values):
        _empty(axes, series)
    elif series.horizontal:
        _horizontal(axes, series)
    else:
        _vertical(axes, series)


def _vertical(axes: Axes, series: Series) -> None:
    from matplotlib.ticker import MaxNLocator

    bars = axes.bar(series.labels, series.values, color=series.colours or BAR_COLOUR)
    axes.bar_label(bars, labels=[_value(v, series.unit) for v in series.values], fontsize=8)
    axes.set_xlabel(series.x_label)
    axes.set_ylabel(series.y_label)
    axes.tick_params(axis="x", labelrotation=45 if len(series.labels) > 6 else 0)
    if series.unit != "%":
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(y=0.15)


def _horizontal(axes: Axes, series: Series) -> None:
    from matplotlib.ticker import MaxNLocator

    labels, values = list(reversed(series.labels)), list(reversed(series.values))
    bars = axes.barh([_short(label) for label in labels], values, color=BAR_COLOUR)
    axes.bar_label(bars, labels=[_value(v, series.unit) for v in values], fontsize=8, padding=2)
    axes.set_xlabel(series.x_label)
    axes.set_ylabel(series.y_label)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(x=0.15)


def _empty(axes: Axes, series: Series) -> None:
    axes.text(
        0.5,
        0.5,
        "No data for this period",
        ha="center",
        va="center",
        fontsize=14,
        transform=axes.transAxes,
    )
    axes.set_xlabel(series.x_label)
    axes.set_ylabel(series.y_label)
    axes.set_xticks([])
    axes.set_yticks([])


def _short(label: str, limit: int = 40) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _value(value: float, unit: str) -> str:
    return f"{value:.1f}%" if unit == "%" else f"{int(value)}"


def alt_text(series: Series) -> str:
    """What a reader of the image would learn from it, in words."""
    if not series.labels or not any(series.values):
        return f"{series.title}: no data for this period."
    parts = [
        f"{label}: {_value(value, series.unit)}"
        for label, value in zip(series.labels, series.values, strict=True)
    ]
    kind = "Horizontal bar chart" if series.horizontal else "Bar chart"
    unit = "" if series.unit == "%" else f" {series.unit}"
    return f"{kind}. {series.title}.{unit and ' Counts of' + unit + '.'} {'; '.join(parts)}."


def png(fig: Figure, dpi: float | None = None) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi or fig.dpi, metadata=_PNG_METADATA)
    return buffer.getvalue()


def chart(name: str, stats: Statistics) -> Chart:
    """One named chart; KeyError for a name not in SERIES."""
    series = SERIES[name](stats)
    return Chart(name, series.title, alt_text(series), png(figure(series)))


def all_charts(stats: Statistics) -> list[Chart]:
    return [chart(name, stats) for name in SERIES]
