"""The figures of the statistics page, as the tables the page shows and the exports write.

Every figure comes from the statistics engine (``build_report``, ``monthly_table``,
``wait_distribution``): the database aggregates, this module only picks columns, labels
rows and groups tickets under their parent. A table is an ``export.Table``, so the page, the
CSV export and the XLSX workbook render the very same rows and columns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.config.model import Settings
from svi_acd.french import DAYS
from svi_acd.stats.commands import MONTHLY_COLUMNS
from svi_acd.stats.export import PERIOD_LABELS, Column, Table
from svi_acd.stats.export import RATES as RATE_NAMES
from svi_acd.stats.export import SECONDS as SECONDS_NAMES
from svi_acd.stats.measures import Thresholds, definitions, figures
from svi_acd.stats.monthly import MONTHLY_DEFINITIONS, MonthRow, monthly_table
from svi_acd.stats.outcome import PARIS
from svi_acd.stats.reports import Report, build_report
from svi_acd.stats.tables import HOURLY_MEASURES
from svi_acd.stats.waits import WaitBand, wait_distribution
from svi_acd.web.stats_query import Period, short_date

UNKNOWN = "(non renseigné)"
RATES = ("answer_rate", "abandon_rate", "service_level")
SECONDS = ("asa_seconds", "aht_seconds")
# The headline figures (tiles), then the split of the calls received.
KPIS = (
    "presented",
    "answered",
    "abandoned",
    "short_abandoned",
    *RATES,
    *SECONDS,
    "max_wait_seconds",
)
RECEIVED_SPLIT = ("closed", "territory_closed", "deterred", "overflow", "callback", "queued",
                  "other")  # fmt: skip
SUMMARY = (*KPIS, "received", *RECEIVED_SPLIT, "vip")
TREND = ("received", "presented", "answered", "abandoned", "short_abandoned", *RATES, *SECONDS,
         "max_wait_seconds")  # fmt: skip
TERRITORY = ("received", "territory_closed", "presented", "answered", "abandoned", *RATES,
             "asa_seconds")  # fmt: skip
TICKET = ("received", "presented", "answered", "abandoned", "short_abandoned", "answer_rate",
          "abandon_rate")  # fmt: skip
PROFILE = ("received", "presented", "answered", "abandoned")
MONTHS_SHOWN = 24
WAIT_COLUMNS = [
    Column("label", "Attente", "text"),
    Column("answered", "Appels servis"),
    Column("abandoned", "Abandons"),
    Column("other", "Autres appels en file"),
]
TABLE_NAMES = ("indicateurs", "evolution", "heures", "attente", "territoires", "tickets",
               "mensuel")  # fmt: skip


def _kind(name: str) -> str:
    """How the command line's exports write a figure (``export.Column.kind``)."""
    return "rate" if name in RATE_NAMES else "seconds" if name in SECONDS_NAMES else "int"


def measure_columns(names: tuple[str, ...], thresholds: Thresholds) -> list[Column]:
    labels = definitions(thresholds)
    return [Column(name, labels[name]["label"], _kind(name)) for name in names]


@dataclass(frozen=True, slots=True)
class Indicator:
    """One figure of the period and its published definition."""

    name: str
    label: str
    value: Any
    kind: str
    numerator: str | None
    denominator: str | None
    description: str


def indicators(
    totals: dict[str, Any], thresholds: Thresholds, names: tuple[str, ...]
) -> list[Indicator]:
    meanings = definitions(thresholds)

    def label(term: str | None) -> str | None:
        return meanings[term]["label"] if term in meanings else term

    found = []
    for name in names:
        meaning = meanings[name]
        found.append(
            Indicator(name, meaning["label"], totals.get(name), _kind(name),
                      label(meaning.get("numerator")), label(meaning.get("denominator")),
                      meaning["description"])
        )  # fmt: skip
    return found


def period_label(by: str, key: str, single_day: bool, short: bool = False) -> str:
    """« mer. 14/10/2026 », « 09:00 », « semaine 42 (du 12/10/2026) », « 2026-10 »…

    ``short``: for a chart's axis (« 14/10 », « S42 »).
    """
    if by == "hour":
        moment = datetime.fromisoformat(key)
        text = f"{moment:%H:%M}" if single_day or short else f"{moment:%d/%m/%Y %H:%M}"
        # The autumn DST day has two 02:00: tell them apart by their UTC offset.
        return f"{text} (UTC{key[-6:]})" if _repeated_hour(moment) and not short else text
    if by == "day":
        day = date.fromisoformat(key)
        return f"{day:%d/%m}" if short else f"{DAYS[day.weekday()][:3]}. {short_date(day)}"
    if by == "week":
        year, week = int(key[:4]), int(key[6:])
        if short:
            return f"S{week}"
        return f"semaine {week} (du {short_date(date.fromisocalendar(year, week, 1))})"
    return key


def _repeated_hour(moment: datetime) -> bool:
    """Whether this local hour happens twice (the autumn change)."""
    naive = moment.replace(tzinfo=None)
    first = naive.replace(tzinfo=PARIS, fold=0).utcoffset()
    second = naive.replace(tzinfo=PARIS, fold=1).utcoffset()
    return first != second


def territory_label(code: str | None, settings: Settings) -> str:
    if code is None:
        return UNKNOWN
    if code == "FR":
        return "Métropole (FR)"
    territory = settings.territories.get(code)  # type: ignore[call-overload]
    return f"{territory.name} ({code})" if territory is not None else code


def _labelled(rows: list[dict[str, Any]], label: Any) -> list[dict[str, Any]]:
    return [{**row, "label": label(row)} for row in rows]


def hour_profile(hours: Report) -> list[dict[str, Any]]:
    """Calls per hour of the day over the period (the hourly report folded by clock hour)."""
    bins: dict[int, dict[str, int]] = {}
    for row in hours.rows:
        hour = datetime.fromisoformat(row["period"]).hour
        counts = bins.setdefault(hour, dict.fromkeys(PROFILE, 0))
        for name in PROFILE:
            counts[name] += row[name]
    busy = [hour for hour, counts in bins.items() if counts["received"]]
    first, last = min([8, *busy]), max([18, *busy])
    return [
        {"label": f"{hour:02d} h", **bins.get(hour, dict.fromkeys(PROFILE, 0))}
        for hour in range(first, last + 1)
    ]


def ticket_rows(tickets: Report, parents: Report, search: str) -> list[dict[str, Any]]:
    """Ticket rows under their parent: the parent's row (« Ensemble ») then its tickets.

    ``search`` keeps the groups whose parent or a ticket contains it (case ignored); a ticket
    without parent is a group of its own, shown as a single row.
    """
    wanted = search.casefold()
    parent_totals = {row["parent_ticket"]: row for row in parents.rows}
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in tickets.rows:
        groups.setdefault(row["parent_ticket"] or row["ticket"], []).append(row)
    found: list[dict[str, Any]] = []
    for group, children in sorted(groups.items()):
        parent_matches = wanted in group.casefold()
        shown = [c for c in children if parent_matches or wanted in c["ticket"].casefold()]
        if not shown:
            continue
        if children[0]["parent_ticket"] is None and len(children) == 1:
            found.append({**children[0], "group": False})
            continue
        total = parent_totals.get(group, {})
        found.append({**total, "ticket": "Ensemble", "parent_ticket": group, "group": True})
        found.extend({**child, "group": False} for child in shown)
    return found


def every_day(report: Report, period: Period) -> Report:
    """A report by day with a row for each day of the period, zero when nobody called."""
    if report.by != "day":
        return report
    found = {row["period"]: row for row in report.rows}
    empty = figures(dict.fromkeys(HOURLY_MEASURES, 0))
    days = (period.start + timedelta(days=n) for n in range(period.days))
    rows = [found.get(day.isoformat(), {"period": day.isoformat(), **empty}) for day in days]
    return replace(report, rows=rows)


@dataclass(frozen=True, slots=True)
class Dashboard:
    period: Period
    thresholds: Thresholds
    totals: dict[str, Any]  # the whole period
    trend: Report
    hours: Report
    waits: list[WaitBand]
    territories: Report
    tickets: list[dict[str, Any]]
    ticket_totals: dict[str, Any] | None  # None when a search narrows the tickets
    months: list[MonthRow]
    settings: Settings

    def kpis(self) -> list[Indicator]:
        return indicators(self.totals, self.thresholds, KPIS)

    def received_split(self) -> list[Indicator]:
        return indicators(self.totals, self.thresholds, ("received", *RECEIVED_SPLIT, "vip"))

    def tables(self) -> dict[str, Table]:
        """What the page shows, by table name (``TABLE_NAMES``), ready for CSV or XLSX."""
        single_day, by = self.period.days == 1, self.trend.by
        trend_rows = _labelled(self.trend.rows, lambda r: period_label(by, r["period"], single_day))
        territory_rows = _labelled(
            self.territories.rows, lambda r: territory_label(r["territory"], self.settings)
        )
        ticket_keys = [Column("parent_ticket", "Ticket parent", "text", "(aucun)"),
                       Column("ticket", "Ticket", "text", UNKNOWN)]  # fmt: skip
        waits = Table("Répartition des attentes", WAIT_COLUMNS,
                      [band.as_json() for band in self.waits])  # fmt: skip
        months = Table("Tableau mensuel", MONTHLY_COLUMNS, [m.as_json() for m in self.months],
                       None, MONTHLY_DEFINITIONS)  # fmt: skip
        summary = self._table("Indicateurs", _key("Période"), SUMMARY,
                              [{**self.totals, "label": self.period.label}], None)  # fmt: skip
        summary.parameters = self.parameters()  # once: the workbook lists every table's
        return {
            "indicateurs": summary,
            "evolution": self._table(f"Évolution ({PERIOD_LABELS[by].lower()})",
                                     _key(PERIOD_LABELS[by]), TREND, trend_rows, self.totals),
            "heures": self._table("Appels par heure", _key("Heure"), PROFILE,
                                  hour_profile(self.hours), None),
            "attente": self._described(waits),
            "territoires": self._table("Par territoire", _key("Territoire"), TERRITORY,
                                       territory_rows, self.territories.totals),
            "tickets": self._table("Par ticket", ticket_keys, TICKET, self.tickets,
                                   self.ticket_totals),
            "mensuel": months,
        }  # fmt: skip

    def _described(self, table: Table) -> Table:
        """The table with the published definitions (the workbook's last sheet lists them)."""
        table.definitions = definitions(self.thresholds)
        return table

    def parameters(self) -> dict[str, Any]:
        return {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "timezone": "Europe/Paris",
            "short_abandon_s": self.thresholds.short_abandon_s,
            "service_level_s": self.thresholds.service_level_s,
        }

    def _table(
        self,
        title: str,
        keys: list[Column],
        names: tuple[str, ...],
        rows: list[dict[str, Any]],
        totals: dict[str, Any] | None,
    ) -> Table:
        columns = keys + measure_columns(names, self.thresholds)
        return self._described(Table(title, columns, rows, totals))


def _key(label: str) -> list[Column]:
    return [Column("label", label, "text", UNKNOWN)]


async def build_dashboard(
    engine: AsyncEngine, settings: Settings, period: Period, ticket_search: str = ""
) -> Dashboard:
    statistics = settings.statistics
    thresholds = Thresholds(statistics.short_abandon_s, statistics.service_level_s)

    async def report(by: str) -> Report:
        return await build_report(engine, by, period.start, period.end, thresholds)

    trend = every_day(await report(period.trend_by), period)
    hours = trend if trend.by == "hour" else await report("hour")
    tickets, parents = await report("ticket"), await report("parent_ticket")
    months = await monthly_table(engine, None, None, thresholds)
    last_month = f"{period.end.year}-{period.end.month:02d}"
    return Dashboard(
        period=period,
        thresholds=thresholds,
        totals=trend.totals,
        trend=trend,
        hours=hours,
        waits=await wait_distribution(engine, period.start, period.end, thresholds),
        territories=await report("territory"),
        tickets=ticket_rows(tickets, parents, ticket_search),
        ticket_totals=None if ticket_search else tickets.totals,
        months=[m for m in months if m.month <= last_month][-MONTHS_SHOWN:],
        settings=settings,
    )
