"""Reports: figures per period, queue, agent, territory, VIP, menu branch or ITSM ticket.

Every aggregate is computed by the database: from the hourly rollups when they were built
with the requested thresholds, else (and for tickets) straight from ``stats_calls``.
``--from``/``--to`` are inclusive Paris dates; a call belongs to the period of its first event.

Hour buckets are real hours: each is labelled with its local start and UTC offset
(``2026-10-25T02:00+02:00`` then ``2026-10-25T02:00+01:00`` on the autumn DST day, which so
has 25 buckets; the spring day has 23, with no 02:00).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.measures import Thresholds, add_sums, call_measures, definitions, figures
from svi_acd.stats.outcome import PARIS
from svi_acd.stats.store import rollup_thresholds
from svi_acd.stats.tables import (
    HOURLY_MEASURES,
    StatsCall,
    StatsHourly,
    StatsMissedRing,
    StatsTicket,
)

PERIODS = ("hour", "day", "week", "month")
DIMENSION_KEYS = {
    "queue": "queue",
    "agent": "agent",
    "territory": "territory",
    "vip": "priority",  # the key is "priority" (VIP, P0 or null): "vip" is a count
    "branch": "branch",
}
TICKET_KEYS = ("ticket", "parent_ticket")
REPORT_KINDS = (*PERIODS, *DIMENSION_KEYS, *TICKET_KEYS)


@dataclass(frozen=True, slots=True)
class Report:
    by: str
    start: date
    end: date
    thresholds: Thresholds
    rows: list[dict[str, Any]]
    totals: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "definitions": definitions(self.thresholds),
            "parameters": {
                "by": self.by,
                "from": self.start.isoformat(),
                "to": self.end.isoformat(),
                "timezone": "Europe/Paris",
                "period_rule": "période du premier évènement de l'appel, heure de Paris",
                "short_abandon_s": self.thresholds.short_abandon_s,
                "service_level_s": self.thresholds.service_level_s,
            },
            "rows": self.rows,
            "totals": self.totals,
        }


def paris_bounds(start: date, end: date) -> tuple[int, int]:
    """Epoch range [start 00:00, end + 1 day 00:00) in Paris time (midnight always exists)."""
    first = datetime.combine(start, time(0), PARIS)
    after = datetime.combine(end + timedelta(days=1), time(0), PARIS)
    return int(first.timestamp()), int(after.timestamp())


def hour_label(hour_start: int) -> str:
    return datetime.fromtimestamp(hour_start, PARIS).isoformat(timespec="minutes")


def _sums(row: Any, offset: int) -> dict[str, int]:
    return {name: int(row[offset + i] or 0) for i, name in enumerate(HOURLY_MEASURES)}


def _rollup_query(by: str, first: int, after: int) -> Any:
    h = StatsHourly
    period_columns = {"hour": h.hour_start, "day": h.day, "week": h.week, "month": h.month}
    key = period_columns.get(by, h.value)
    aggregates = [
        func.max(h.max_wait_s) if name == "max_wait_s" else func.sum(getattr(h, name))
        for name in HOURLY_MEASURES
    ]
    return (
        select(key, *aggregates)
        .where(h.dimension == ("all" if by in PERIODS else by))
        .where(h.hour_start >= first, h.hour_start < after)
        .group_by(key)
        .having(func.sum(h.received) > 0)
    )


def _call_key(by: str) -> ColumnElement[Any]:
    c = StatsCall
    columns: dict[str, Any] = {
        "hour": c.hour_start,
        "day": c.day,
        "week": c.week,
        "month": c.month,
        "queue": c.queue,
        "agent": c.agent,
        "territory": c.territory,
        "vip": c.priority,
        "branch": c.branch,
    }
    column = columns[by]
    return column if by in PERIODS else func.coalesce(column, literal_column("''"))


def _calls_query(by: str, first: int, after: int, thresholds: Thresholds) -> Any:
    c = StatsCall
    measures = call_measures(thresholds).values()
    in_range = (c.hour_start >= first, c.hour_start < after)
    if by in TICKET_KEYS:
        parent = func.coalesce(c.parent_ticket, StatsTicket.parent)
        key = c.ticket if by == "ticket" else func.coalesce(parent, c.ticket)
        return (
            select(key, func.max(parent), *measures)
            .select_from(c)
            .outerjoin(StatsTicket, StatsTicket.number == c.ticket)
            .where(c.ticket.is_not(None), *in_range)
            .group_by(key)
        )
    key = _call_key(by)
    return select(key, *measures).where(*in_range).group_by(key)


def _key_fields(by: str, key: Any, extra: Any = None) -> dict[str, Any]:
    if by == "hour":
        return {"period": hour_label(int(key))}
    if by in PERIODS:
        return {"period": key.isoformat() if isinstance(key, date) else str(key)}
    if by == "ticket":
        return {"ticket": key, "parent_ticket": extra or None}
    if by == "parent_ticket":
        return {"parent_ticket": key}
    return {DIMENSION_KEYS[by]: key or None}


async def _missed_rings(engine: AsyncEngine, first: int, after: int) -> dict[str, int]:
    m = StatsMissedRing
    query = (
        select(m.agent, func.count(m.id))
        .where(m.hour_start >= first, m.hour_start < after)
        .group_by(m.agent)
    )
    async with engine.connect() as connection:
        return {agent: int(count) for agent, count in await connection.execute(query)}


def _order(by: str, key: Any) -> tuple[Any, ...]:
    if by in PERIODS:
        return (str(key) if by != "hour" else int(key),)
    return (key in (None, ""), str(key or ""))


async def build_report(
    engine: AsyncEngine, by: str, start: date, end: date, thresholds: Thresholds
) -> Report:
    """The report of calls whose first event is between ``start`` and ``end`` (Paris dates)."""
    if by not in REPORT_KINDS:
        raise ValueError(f"regroupement inconnu « {by} »")
    first, after = paris_bounds(start, end)
    use_rollups = by not in TICKET_KEYS and await rollup_thresholds(engine) == thresholds
    if use_rollups:
        query, offset = _rollup_query(by, first, after), 1
    else:
        query, offset = _calls_query(by, first, after, thresholds), 2 if by in TICKET_KEYS else 1
    async with engine.connect() as connection:
        result = list(await connection.execute(query))
    keyed = {row[0]: (row, _sums(row, offset)) for row in result}
    missed = await _missed_rings(engine, first, after) if by == "agent" else {}
    for agent in missed:
        keyed.setdefault(agent, (None, dict.fromkeys(HOURLY_MEASURES, 0)))
    rows, total = [], dict.fromkeys(HOURLY_MEASURES, 0)
    for key in sorted(keyed, key=lambda item: _order(by, item)):
        row, sums = keyed[key]
        add_sums(total, sums)
        extra = row[1] if row is not None and offset == 2 else None
        values = {**_key_fields(by, key, extra), **figures(sums)}
        if by == "agent":
            values["ring_no_answer"] = missed.get(key or "", 0)
        rows.append(values)
    totals = figures(total)
    if by == "agent":
        totals["ring_no_answer"] = sum(missed.values())
    return Report(by, start, end, thresholds, rows, totals)
