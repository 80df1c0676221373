"""The statistics dashboard: a year's figures as tables and charts (PNG, drawn on request),
the headline known-or-seen share, and the annual report to download. Figures only: no
report content, entity or address ever reaches these pages."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.dependencies import StatsReading
from vigil.http.state import service_state
from vigil.stats.annual_report import ReportFormat, render
from vigil.stats.charts import SERIES, alt_text, figure, png
from vigil.stats.figures import Statistics
from vigil.stats.period import Period
from vigil.stats.queries import first_finished_at, statistics
from vigil.stats.sections import CAVEAT, CAVEAT_TITLE, WHAT_IT_MEASURES, headline, sections
from vigil.store.models import utcnow
from vigil.web.templating import templates

router = APIRouter(prefix="/stats", include_in_schema=False)
ChartName = Literal["months", "verdicts", "countries", "agencies", "outcomes"]
MAX_YEARS_LISTED = 20
# Figures, not content: the browser may keep them for a few minutes, never a shared cache.
CHART_CACHE = "private, max-age=300"
FIRST_YEAR, LAST_YEAR = 1970, 9998


def _year(year: int | None) -> int:
    return year if year is not None else utcnow().year


def _statistics(request: Request, year: int) -> Statistics:
    with service_state(request).database.transaction() as session:
        return statistics(session, Period.year(year))


def _years(request: Request, selected: int) -> list[int]:
    """From the first finished report's year to this year (and the one asked for)."""
    with service_state(request).database.transaction() as session:
        first = first_finished_at(session)
    now = utcnow().year
    start = max(first.year if first else now, now - MAX_YEARS_LISTED + 1)
    return sorted(set(range(start, now + 1)) | {selected}, reverse=True)


@router.get("", response_class=HTMLResponse)
def dashboard(
    request: Request,
    *,
    year: int | None = Query(None, ge=FIRST_YEAR, le=LAST_YEAR),
    principal: StatsReading,
) -> Response:
    chosen = _year(year)
    stats = _statistics(request, chosen)
    charts = {name: alt_text(series(stats)) for name, series in SERIES.items()}
    return templates.TemplateResponse(
        request,
        "stats.html",
        {
            "stats": stats,
            "year": chosen,
            "years": _years(request, chosen),
            "headline": headline(stats),
            "sections": sections(stats),
            "charts": charts,
            "caveat_title": CAVEAT_TITLE,
            "caveat": CAVEAT,
            "what_it_measures": WHAT_IT_MEASURES,
            "principal": principal,
        },
    )


@router.get("/charts/{name}.png")
def chart(
    request: Request,
    *,
    name: ChartName = Path(),
    year: int | None = Query(None, ge=FIRST_YEAR, le=LAST_YEAR),
    principal: StatsReading,
) -> Response:
    stats = _statistics(request, _year(year))
    image = png(figure(SERIES[name](stats)))
    return Response(image, media_type="image/png", headers={"Cache-Control": CHART_CACHE})


@router.get("/report.{extension}")
def annual_report(
    request: Request,
    *,
    extension: Literal["pdf", "html"] = Path(),
    year: int | None = Query(None, ge=FIRST_YEAR, le=LAST_YEAR),
    principal: StatsReading,
) -> Response:
    chosen = _year(year)
    report_format = ReportFormat(extension)
    content = render(_statistics(request, chosen), report_format)
    media_type = "application/pdf" if report_format is ReportFormat.PDF else "text/html"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="vigil-statistics-{chosen}.{extension}"',
        },
    )
