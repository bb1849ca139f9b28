"""Abandoned calls to ring back (number and time), and the retention of caller numbers.

Calls abandoned while the service was down are there too: they come from the queue_log.
Caller numbers are personal data: ``forget_caller_numbers`` blanks them past the retention
period (``donnees_personnelles.conservation_numeros_jours``) and keeps every figure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.measures import Thresholds
from svi_acd.stats.outcome import PARIS
from svi_acd.stats.reports import paris_bounds
from svi_acd.stats.tables import StatsCall


@dataclass(frozen=True, slots=True)
class AbandonedCall:
    callid: str
    time: str  # ISO 8601, Paris time with offset
    caller: str | None
    queue: str | None
    wait_seconds: int
    territory: str | None
    vip: str | None
    ticket: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def abandoned_calls(
    engine: AsyncEngine, start: date, end: date, thresholds: Thresholds
) -> list[AbandonedCall]:
    """Calls counted as abandoned (wait ≥ short-abandon threshold), oldest first."""
    c = StatsCall
    first, after = paris_bounds(start, end)
    query = (
        select(c.callid, c.first_epoch, c.caller, c.queue, c.wait_s, c.territory, c.priority,
               c.ticket)
        .where(c.outcome == "abandon", c.hour_start >= first, c.hour_start < after)
        .where(c.wait_s >= thresholds.short_abandon_s)
        .order_by(c.first_epoch, c.callid)
    )  # fmt: skip
    async with engine.connect() as connection:
        rows = list(await connection.execute(query))
    return [
        AbandonedCall(
            callid=row.callid,
            time=datetime.fromtimestamp(row.first_epoch, PARIS).isoformat(),
            caller=row.caller,
            queue=row.queue,
            wait_seconds=int(row.wait_s or 0),
            territory=row.territory,
            vip=row.priority,
            ticket=row.ticket,
        )
        for row in rows
    ]


async def forget_caller_numbers(engine: AsyncEngine, before: date) -> int:
    """Blank the caller numbers of calls that started before ``before`` (Paris); returns count."""
    limit = int(datetime.combine(before, time(0), PARIS).timestamp())
    query = (
        update(StatsCall)
        .where(StatsCall.hour_start < limit, StatsCall.caller.is_not(None))
        .values(caller=None)
    )
    async with engine.begin() as connection:
        result = await connection.execute(query)
    return int(result.rowcount or 0)
