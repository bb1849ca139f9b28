"""« Statistiques »: the page for ministry staff and the CSV / XLSX exports of what it shows.

``GET /statistiques?periode=…&date=…&du=…&au=…&ticket=…`` shows the period's indicators with
their definitions, three charts (each with its table), the tables by territory and by ticket
and the monthly table. ``GET /statistiques/export.csv?…&tableau=NOM`` writes one of those
tables (``;``, French headers: the command line's writer), ``export.xlsx?…`` all of them in
one workbook with the definitions sheet. The same query string gives the same figures.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.export import Column, Table, csv_cell, to_csv, write_xlsx
from svi_acd.stats.outcome import PARIS
from svi_acd.web.charts import Series, bar_chart, line_chart
from svi_acd.web.keys import CRISIS, ENGINE, SETTINGS
from svi_acd.web.pages import render
from svi_acd.web.security import requires
from svi_acd.web.stats_dashboard import (
    TABLE_NAMES,
    Dashboard,
    Indicator,
    build_dashboard,
    period_label,
)
from svi_acd.web.stats_query import PERIOD_KINDS, StatsForm, read_form

routes = web.RouteTableDef()

UNITS = {"rate": " %"}  # indicators only: table headers carry the unit
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_DATABASE = (
    "Les statistiques ne sont pas disponibles : ce service n'a pas de base de données "
    "(voir service.base_de_donnees dans la configuration)."
)


def cell_text(value: Any, column: Column) -> str:
    """The figure as the CSV export writes it; « — » when there is none (no denominator)."""
    return csv_cell(value, column.kind, column.empty) or _nothing(column)


def _nothing(column: Column) -> str:
    return "" if column.kind == "text" else "—"


@dataclass(frozen=True, slots=True)
class TableView:
    """A table as the page renders it: header cells, then rows of (text, is_header) cells."""

    name: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    group_rows: set[int]  # indexes of rows that head a group (parent ticket)
    totals: list[str] | None
    csv_href: str


def table_view(name: str, table: Table, export_query: dict[str, str]) -> TableView:
    headers = [f"{c.label} (%)" if c.kind == "rate" else c.label for c in table.columns]
    rows = [[cell_text(row.get(c.key), c) for c in table.columns] for row in table.rows]
    groups = {index for index, row in enumerate(table.rows) if row.get("group")}
    totals = None
    if table.totals is not None:  # as the CSV's last line: no « (non renseigné) » there
        totals = ["Total", *(csv_cell(table.totals.get(c.key), c.kind) or _nothing(c)
                             for c in table.columns[1:])]  # fmt: skip
    href = "/statistiques/export.csv?" + urlencode({**export_query, "tableau": name})
    return TableView(name, table.title, headers, rows, groups, totals, href)


def indicator_text(indicator: Indicator) -> str:
    """« 46,2 % », « 15,5 s », « 13 »."""
    if indicator.value is None:
        return "—"
    unit = " s" if indicator.name.endswith("_seconds") else UNITS.get(indicator.kind, "")
    return csv_cell(indicator.value, indicator.kind) + unit


def _categories(table: Table) -> list[str]:
    return [str(row["label"]) for row in table.rows]


def charts(dashboard: Dashboard, tables: dict[str, Table]) -> dict[str, Markup]:
    period = dashboard.period.label
    hours, trend, waits = tables["heures"], tables["evolution"], tables["attente"]

    def values(table: Table, name: str) -> list[Any]:
        return [row.get(name) for row in table.rows]

    return {
        "heures": bar_chart(
            "graphique-heures", f"Appels par heure de la journée – {period}",
            "Appels présentés, servis et abandonnés pour chaque heure de la journée ; les "
            "valeurs sont dans le tableau qui suit le graphique.",
            _categories(hours),
            [Series("Présentés", values(hours, "presented")),
             Series("Servis", values(hours, "answered")),
             Series("Abandons", values(hours, "abandoned"))],
        ),
        "evolution": line_chart(
            "graphique-taux", f"Taux de décroché et d'abandon – {period}",
            "Taux de décroché (trait plein, ronds) et taux d'abandon (tirets, carrés) de "
            "chaque intervalle, de 0 à 100 % ; les valeurs sont dans le tableau qui suit.",
            [period_label(dashboard.trend.by, row["period"], True, short=True)
             for row in trend.rows],
            [Series("Taux de décroché", values(trend, "answer_rate")),
             Series("Taux d'abandon", values(trend, "abandon_rate"))],
        ),
        "attente": bar_chart(
            "graphique-attente", f"Répartition des attentes en file – {period}",
            "Nombre d'appels en file par durée d'attente : servis (plein), abandons (hachuré) "
            "et autres (pointillé) ; les valeurs sont dans le tableau qui suit.",
            _categories(waits),
            [Series("Servis", values(waits, "answered")),
             Series("Abandons", values(waits, "abandoned")),
             Series("Autres", values(waits, "other"))],
        ),
    }  # fmt: skip


def _today(request: web.Request) -> date:
    return request.app[CRISIS].clock().astimezone(PARIS).date()


def _engine(request: web.Request) -> AsyncEngine | None:
    return request.app[ENGINE]


async def _dashboard(request: web.Request, form: StatsForm) -> Dashboard | None:
    engine = _engine(request)
    if form.period is None or engine is None:
        return None
    return await build_dashboard(engine, request.app[SETTINGS], form.period, form.ticket)


def _link(query: dict[str, str]) -> str:
    return "/statistiques?" + urlencode(query)


@routes.get("/statistiques")
@requires("statistiques:lecture")
async def statistics_page(request: web.Request) -> web.Response:
    form = read_form(request.query, _today(request))
    dashboard = await _dashboard(request, form)
    context: dict[str, Any] = {
        "form": form,
        "kinds": list(PERIOD_KINDS.items()),
        "unavailable": NO_DATABASE if _engine(request) is None else None,
    }
    if dashboard is not None:
        query = form.query()
        tables = dashboard.tables()
        ticket = {"ticket": form.ticket} if form.ticket else {}
        context.update(
            dashboard=dashboard,
            kpis=[(i, indicator_text(i)) for i in dashboard.kpis()],
            received=[(i, indicator_text(i)) for i in dashboard.received_split()],
            tables={name: table_view(name, tables[name], query) for name in TABLE_NAMES},
            charts=charts(dashboard, tables),
            previous_href=_link({**dashboard.period.shifted(-1).query(), **ticket}),
            next_href=_link({**dashboard.period.shifted(1).query(), **ticket}),
            xlsx_href="/statistiques/export.xlsx?" + urlencode(query),
            all_tickets_href=_link(dashboard.period.query()) + "#titre-tickets",
        )
    status = 400 if form.errors else 503 if context["unavailable"] else 200
    return await render(request, "statistiques.html", status, **context)


async def _export_tables(request: web.Request) -> tuple[StatsForm, dict[str, Table]]:
    form = read_form(request.query, _today(request))
    if form.errors:
        raise web.HTTPBadRequest(text="\n".join(form.errors.values()))
    dashboard = await _dashboard(request, form)
    if dashboard is None:
        raise web.HTTPServiceUnavailable(text=NO_DATABASE)
    return form, dashboard.tables()


def _filename(form: StatsForm, suffix: str) -> str:
    assert form.period is not None
    period = form.period
    span = period.start.isoformat()
    if period.end != period.start:
        span += f"_{period.end.isoformat()}"
    return f"statistiques_{span}{suffix}"


@routes.get("/statistiques/export.csv")
@requires("statistiques:lecture")
async def export_csv(request: web.Request) -> web.Response:
    name = request.query.get("tableau", "evolution")
    if name not in TABLE_NAMES:
        raise web.HTTPBadRequest(
            text=f"Tableau inconnu : choisissez parmi {', '.join(TABLE_NAMES)}."
        )
    form, tables = await _export_tables(request)
    filename = _filename(form, f"_{name}.csv")
    return web.Response(
        body=to_csv(tables[name]).encode("utf-8-sig"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@routes.get("/statistiques/export.xlsx")
@requires("statistiques:lecture")
async def export_xlsx(request: web.Request) -> web.Response:
    form, tables = await _export_tables(request)
    with tempfile.TemporaryDirectory(prefix="svi-acd-export-") as folder:
        path = Path(folder) / "statistiques.xlsx"
        await asyncio.to_thread(write_xlsx, [tables[name] for name in TABLE_NAMES], path)
        body = await asyncio.to_thread(path.read_bytes)
    filename = _filename(form, ".xlsx")
    return web.Response(
        body=body,
        content_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
