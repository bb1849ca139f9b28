"""The monthly table the ministry knows: calls presented, calls served, tickets opened.

For each month the journal's figures are used when it has calls that month, else the
imported history; tickets come from the ITSM (connector or CSV export) when any are stored
for the month, else from the history. Each row says where its figures come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.csv_imports import MonthFigures
from svi_acd.stats.itsm import tickets_per_month
from svi_acd.stats.measures import Thresholds
from svi_acd.stats.outcome import hour_periods
from svi_acd.stats.reports import build_report
from svi_acd.stats.tables import StatsCall, StatsMonthlyHistory

MONTHLY_DEFINITIONS = {
    "presented": {"label": "Appels présentés", "description": "voir « presented » des rapports"},
    "served": {"label": "Appels servis", "description": "appels en relation avec un agent"},
    "tickets_opened": {"label": "Tickets ouverts", "description": "tickets créés dans l'ITSM"},
    "answer_rate": {"label": "Taux de décroché", "numerator": "served",
                    "denominator": "presented"},
    "calls_per_ticket": {"label": "Appels par ticket", "numerator": "presented",
                         "denominator": "tickets_opened"},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: str
    presented: int | None
    served: int | None
    tickets_opened: int | None
    calls_source: str | None  # "journal" or "historique"
    tickets_source: str | None  # "itsm" or "historique"

    def as_json(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "presented": self.presented,
            "served": self.served,
            "tickets_opened": self.tickets_opened,
            "answer_rate": _ratio(self.served, self.presented),
            "calls_per_ticket": _ratio(self.presented, self.tickets_opened),
            "calls_source": self.calls_source,
            "tickets_source": self.tickets_source,
        }


def _ratio(numerator: int | None, denominator: int | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


async def store_history(engine: AsyncEngine, months: list[MonthFigures], source: str) -> None:
    async with engine.begin() as connection:
        names = [item.month for item in months]
        await connection.execute(
            delete(StatsMonthlyHistory).where(StatsMonthlyHistory.month.in_(names))
        )
        if months:
            await connection.execute(
                insert(StatsMonthlyHistory),
                [{"month": m.month, "presented": m.presented, "served": m.served,
                  "tickets_opened": m.tickets_opened, "source": source[-300:]} for m in months],
            )  # fmt: skip


async def _journal_months(engine: AsyncEngine) -> list[str]:
    """First and last month of the journal (from the indexed hour_start)."""
    query = select(func.min(StatsCall.hour_start), func.max(StatsCall.hour_start))
    async with engine.connect() as connection:
        bounds = (await connection.execute(query)).one()
    return [hour_periods(int(hour))[2] for hour in bounds if hour is not None]


def _month_start(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def _month_end(month: str) -> date:
    start = _month_start(month)
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


async def monthly_table(
    engine: AsyncEngine, first: str | None, last: str | None, thresholds: Thresholds
) -> list[MonthRow]:
    """Rows for months ``first``..``last`` (``AAAA-MM``; default: every month known)."""
    async with engine.connect() as connection:
        history = {row.month: row for row in await connection.execute(select(StatsMonthlyHistory))}
    tickets = await tickets_per_month(engine)
    known = set(history) | set(tickets) | set(await _journal_months(engine))
    if not known and (first is None or last is None):
        return []
    first = first or min(known)
    last = last or max(known)
    report = await build_report(engine, "month", _month_start(first), _month_end(last), thresholds)
    calls = {row["period"]: row for row in report.rows}
    rows: list[MonthRow] = []
    month = first
    while month <= last:
        rows.append(_merge(month, calls.get(month), history.get(month), tickets.get(month)))
        start = _month_start(month)
        month = f"{start.year + start.month // 12}-{start.month % 12 + 1:02d}"
    return rows


def _merge(month: str, journal: dict[str, Any] | None, past: Any, tickets: int | None) -> MonthRow:
    presented = served = calls_source = None
    if journal is not None:
        presented, served, calls_source = journal["presented"], journal["answered"], "journal"
    elif past is not None and (past.presented is not None or past.served is not None):
        presented, served, calls_source = past.presented, past.served, "historique"
    opened, tickets_source = None, None
    if tickets:
        opened, tickets_source = tickets, "itsm"
    elif past is not None and past.tickets_opened is not None:
        opened, tickets_source = past.tickets_opened, "historique"
    return MonthRow(month, presented, served, opened, calls_source, tickets_source)
