"""The statistics dashboard: a year's figures as tables and charts (PNG, drawn on request) --
a platform's own work on a platform install, the clearinghouse's intake where it is enabled,
both when both -- and the annual report to download (PDF, and HTML: the accessible one).
Figures only: no report content, entity or address ever reaches these pages."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.dependencies import StatsReading
from vigil.http.state import service_state
from vigil.stats.annual_report import ReportFormat, render
from vigil.stats.charts import SERIES, alt_text, figure, png
from vigil.stats.period import Period
from vigil.stats.platform import InstallationFigures, first_activity_at, installation_figures
from vigil.stats.queries import first_finished_at
from vigil.stats.sections import (
    CAVEAT,
    CAVEAT_TITLE,
    PLATFORM_NOTE,
    WHAT_IT_MEASURES,
    headline,
    platform_headline,
    platform_sections,
    sections,
)
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


def _statistics(request: Request, year: int) -> InstallationFigures:
    state = service_state(request)
    with state.database.transaction() as session:
        return installation_figures(
            session, Period.year(year), clearinghouse=state.settings.clearinghouse.enabled
        )


def _years(request: Request, selected: int) -> list[int]:
    """From the first year with figures to this year (and the one asked for)."""
    with service_state(request).database.transaction() as session:
        firsts = [at for at in (first_finished_at(session), first_activity_at(session)) if at]
    now = utcnow().year
    first = min(firsts) if firsts else None
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
    figures = _statistics(request, chosen)
    stats, platform = figures.stats, figures.platform
    charts = {name: alt_text(series(stats)) for name, series in SERIES.items()}
    return templates.TemplateResponse(
        request,
        "stats.html",
        {
            "stats": stats,
            "platform": platform,
            "platform_headline": platform_headline(platform) if platform else [],
            "platform_sections": platform_sections(platform) if platform else [],
            "platform_note": PLATFORM_NOTE,
            "clearinghouse": figures.clearinghouse,
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
    stats = _statistics(request, _year(year)).stats
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
    figures = _statistics(request, chosen)
    content = render(
        figures.stats,
        report_format,
        figures.platform,
        clearinghouse=figures.clearinghouse,
    )
    media_type = "application/pdf" if report_format is ReportFormat.PDF else "text/html"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="vigil-statistics-{chosen}.{extension}"',
        },
    )
