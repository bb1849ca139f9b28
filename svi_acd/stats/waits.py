"""How long queue calls waited: calls per wait band, split by how the wait ended.

Aggregated by the database (one ``GROUP BY`` over ``stats_calls``): each band counts the
answered calls, the abandons (at least the short-abandon threshold) and the other queue calls
(short abandons, timeouts, exits, still waiting), so that its three figures add up to the
queue calls and each column adds up to the report's ``answered`` and ``abandoned``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.measures import Thresholds
from svi_acd.stats.reports import paris_bounds
from svi_acd.stats.tables import StatsCall

# Lower bounds of the bands, in seconds; the last band has no upper bound.
WAIT_BANDS = (0, 10, 20, 30, 60, 120, 300)


@dataclass(frozen=True, slots=True)
class WaitBand:
    low_s: int
    high_s: int | None  # None: no upper bound
    answered: int
    abandoned: int
    other: int

    @property
    def label(self) -> str:
        if self.high_s is None:
            return f"{_duration(self.low_s)} et plus"
        return f"{_duration(self.low_s)} à {_duration(self.high_s)}"

    @property
    def calls(self) -> int:
        return self.answered + self.abandoned + self.other

    def as_json(self) -> dict[str, Any]:
        return {
            "from_s": self.low_s,
            "to_s": self.high_s,
            "label": self.label,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "other": self.other,
        }


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds} s"


async def wait_distribution(
    engine: AsyncEngine, start: date, end: date, thresholds: Thresholds
) -> list[WaitBand]:
    """Queue calls whose first event is between ``start`` and ``end`` (Paris), per wait band."""
    c = StatsCall
    first, after = paris_bounds(start, end)
    wait = func.coalesce(c.wait_s, 0)
    band = case(
        *((wait < high, index) for index, high in enumerate(WAIT_BANDS[1:])),
        else_=len(WAIT_BANDS) - 1,
    )
    answered = c.outcome == "answered"
    abandoned = (c.outcome == "abandon") & (wait >= thresholds.short_abandon_s)
    query = (
        select(
            band,
            func.sum(case((answered, 1), else_=0)),
            func.sum(case((abandoned, 1), else_=0)),
            func.count(c.id),
        )
        .where(c.queued.is_(True), c.hour_start >= first, c.hour_start < after)
        .group_by(band)
    )
    async with engine.connect() as connection:
        counts = {int(row[0]): row for row in await connection.execute(query)}
    bands = []
    for index, low in enumerate(WAIT_BANDS):
        high = WAIT_BANDS[index + 1] if index + 1 < len(WAIT_BANDS) else None
        row = counts.get(index)
        answered_n, abandoned_n, total = (int(v or 0) for v in row[1:]) if row else (0, 0, 0)
        bands.append(WaitBand(low, high, answered_n, abandoned_n, total - answered_n - abandoned_n))
    return bands
