"""Agents' pauses report: count, total and mean duration per agent and reason, reason or day.

Aggregated by the database over ``stats_agent_pauses``. An agent paused in all their queues
at once has one row per queue with the same start and reason: they count as one pause, for
their longest span. A pause belongs to the Paris day of its start (``--from``/``--to`` are
inclusive Paris dates); if it had not ended by the report's end (still open, or it went on
past that end) it is counted up to the report's end, or up to now when that is earlier, and
counted in ``ongoing``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.export import Column, Table
from svi_acd.stats.outcome import PARIS
from svi_acd.stats.reports import paris_bounds
from svi_acd.stats.tables import StatsAgentPause

# --by -> the keys of a row, in order.
PAUSE_KEYS: dict[str, tuple[str, ...]] = {
    "agent": ("agent", "reason"),
    "reason": ("reason",),
    "day": ("day", "reason"),
}
PAUSE_KINDS = tuple(PAUSE_KEYS)
PAUSE_MEASURES = ("pauses", "pause_seconds", "mean_pause_seconds", "ongoing")
KEY_LABELS = {"agent": "Agent", "reason": "Motif", "day": "Jour"}
SHEET_TITLES = {"agent": "Pauses par agent", "reason": "Pauses par motif", "day": "Pauses par jour"}


def pause_definitions() -> dict[str, dict[str, str]]:
    """The published definitions of the pause figures (French labels)."""
    return {
        "pauses": {
            "label": "Pauses",
            "description": "pauses d'agents commencées dans la période (PAUSE du journal "
            "d'Asterisk) ; une mise en pause dans toutes les files de l'agent compte une fois ; "
            "une pause appartient au jour de Paris de son début",
        },
        "pause_seconds": {
            "label": "Durée totale de pause (s)",
            "description": "de PAUSE à UNPAUSE, au retrait de l'agent de la file "
            "(REMOVEMEMBER) ou au redémarrage d'Asterisk (QUEUESTART) ; une pause qui n'est "
            "pas finie à la fin du rapport est comptée jusqu'à la fin du rapport (ou jusqu'à "
            "maintenant si c'est plus tôt)",
        },
        "mean_pause_seconds": {
            "label": "Durée moyenne d'une pause (s)",
            "numerator": "pause_seconds",
            "denominator": "pauses",
            "description": "pause_seconds / pauses (null si le dénominateur est 0)",
        },
        "ongoing": {
            "label": "Pauses en cours",
            "description": "pauses pas encore finies à la fin du rapport (durée comptée "
            "jusqu'à cette fin)",
        },
        "reason": {
            "label": "Motif",
            "description": "motif donné à la mise en pause (« absence » : mise en pause "
            "automatique après des sonneries sans réponse) ; null si aucun",
        },
    }


@dataclass(frozen=True, slots=True)
class PauseReport:
    by: str
    start: date
    end: date
    counted_until: datetime  # a pause not finished by then is counted up to this instant
    rows: list[dict[str, Any]]
    totals: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "definitions": pause_definitions(),
            "parameters": {
                "by": self.by,
                "from": self.start.isoformat(),
                "to": self.end.isoformat(),
                "timezone": "Europe/Paris",
                "period_rule": "jour de Paris du début de la pause",
                "counted_until": self.counted_until.isoformat(),
            },
            "rows": self.rows,
            "totals": self.totals,
        }


def _figures(count: int, seconds: int, ongoing: int) -> dict[str, Any]:
    return {
        "pauses": count,
        "pause_seconds": seconds,
        "mean_pause_seconds": round(seconds / count, 1) if count else None,
        "ongoing": ongoing,
    }


def _key_value(name: str, value: Any) -> Any:
    if name == "day":
        return value.isoformat() if isinstance(value, date) else str(value)
    if name == "reason":
        return value or None
    return value


def _grouped_query(by: str, first: int, after: int, limit: int) -> Any:
    """Per key: pauses, seconds, ongoing; an agent's pauses in several queues with the same
    start and reason (one pause in all their queues) count once, for their longest span."""
    p = StatsAgentPause
    finished = p.end_epoch.is_not(None) & (p.end_epoch <= limit)
    counted_end = case((finished, p.end_epoch), else_=literal(limit, BigInteger))
    seconds = case((counted_end > p.start_epoch, counted_end - p.start_epoch), else_=0)
    pauses = (
        select(
            p.agent,
            p.reason,
            p.day,
            func.max(seconds).label("seconds"),
            func.max(case((finished, 0), else_=1)).label("ongoing"),
        )
        .where(p.start_epoch >= first, p.start_epoch < after)
        .group_by(p.agent, p.reason, p.start_epoch, p.day)
        .subquery("pauses")
    )
    keys = [pauses.c[name] for name in PAUSE_KEYS[by]]
    return (
        select(
            *keys,
            func.count(),
            func.coalesce(func.sum(pauses.c.seconds), 0),
            func.coalesce(func.sum(pauses.c.ongoing), 0),
        )
        .group_by(*keys)
        .order_by(*keys)
    )


async def pause_report(
    engine: AsyncEngine, start: date, end: date, by: str = "agent", *, now: datetime | None = None
) -> PauseReport:
    """Pauses that started between ``start`` and ``end`` (Paris dates), grouped by ``by``."""
    if by not in PAUSE_KEYS:
        raise ValueError(f"regroupement inconnu « {by} » (agent, reason ou day)")
    first, after = paris_bounds(start, end)
    moment = now or datetime.now(UTC)
    limit = max(min(after, int(moment.timestamp())), first)
    query = _grouped_query(by, first, after, limit)
    async with engine.connect() as connection:
        result = list(await connection.execute(query))
    rows, total = [], [0, 0, 0]
    names = PAUSE_KEYS[by]
    for row in result:
        count, total_s, ongoing = (int(value or 0) for value in row[len(names) :])
        total = [total[0] + count, total[1] + total_s, total[2] + ongoing]
        keyed = {name: _key_value(name, row[i]) for i, name in enumerate(names)}
        rows.append({**keyed, **_figures(count, total_s, ongoing)})
    until = datetime.fromtimestamp(limit, PARIS)
    return PauseReport(by, start, end, until, rows, _figures(*total))


def pause_table(report: PauseReport) -> Table:
    """The report as a table for CSV (« ; », French headers) and XLSX."""
    meta = report.as_json()
    labels = meta["definitions"]
    columns = [
        Column(name, KEY_LABELS[name], "text", "(sans motif)" if name == "reason" else "")
        for name in PAUSE_KEYS[report.by]
    ]
    columns += [
        Column(name, labels[name]["label"], "seconds" if name == "mean_pause_seconds" else "int")
        for name in PAUSE_MEASURES
    ]
    return Table(
        SHEET_TITLES[report.by], columns, report.rows, report.totals, labels, meta["parameters"]
    )
