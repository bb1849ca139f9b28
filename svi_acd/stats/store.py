"""Writing imported events: call rows, missed rings, agents' pauses, rollups, the checkpoint.

Each batch is one transaction: the calls it touches are read back, folded with the new
events, written, the hourly rollups of the hours involved are recomputed in SQL, the agents'
pauses it starts or ends are written (``pauses.write_pauses``), and the file's checkpoint
moves forward only if nobody else moved it meanwhile. A crash between two
batches leaves the database exactly as after the previous batch, so the next import resumes
from the checkpoint without counting anything twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import String, any_, bindparam, delete, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from svi_acd.stats.events import MemberEvent, QueueLogEvent
from svi_acd.stats.measures import Thresholds, call_measures
from svi_acd.stats.outcome import RECORD_FIELDS, ROW_COLUMNS, CallRecord, fold
from svi_acd.stats.pauses import write_pauses
from svi_acd.stats.tables import (
    HOURLY_MEASURES,
    StatsCall,
    StatsHourly,
    StatsMissedRing,
    StatsRollupSettings,
    StatsSource,
)

# Dimension of the rollup -> column of stats_calls; ``all`` is summed from ``queue``.
DIMENSIONS: dict[str, Any] = {
    "queue": StatsCall.queue,
    "agent": StatsCall.agent,
    "territory": StatsCall.territory,
    "vip": StatsCall.priority,
    "branch": StatsCall.branch,
}


class ImportConflict(RuntimeError):
    """Another import moved the same file's checkpoint: this batch was not written."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    fingerprint: str
    path: str
    offset: int = 0
    lines: int = 0
    malformed: int = 0
    first_epoch: int | None = None
    stored: bool = False  # a row exists in stats_sources


async def count_calls(engine: AsyncEngine) -> int:
    """How many calls the database holds, all periods together."""
    async with engine.connect() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(StatsCall))).scalar_one()
        )


async def load_checkpoint(engine: AsyncEngine, fingerprint: str, path: str) -> Checkpoint:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(StatsSource).where(StatsSource.fingerprint == fingerprint)
            )
        ).first()
    if row is None:
        return Checkpoint(fingerprint, path)
    return Checkpoint(
        fingerprint, path, row.offset, row.lines, row.malformed, row.first_epoch, stored=True
    )


async def _save_checkpoint(
    connection: AsyncConnection, before: Checkpoint, after: Checkpoint
) -> None:
    values = {
        "path": after.path[-500:],
        "offset": after.offset,
        "lines": after.lines,
        "malformed": after.malformed,
        "first_epoch": after.first_epoch,
        "updated_at": datetime.now(UTC),
    }
    if not before.stored:
        try:
            async with connection.begin_nested():
                await connection.execute(
                    insert(StatsSource).values(fingerprint=after.fingerprint, **values)
                )
        except IntegrityError:
            raise ImportConflict(after.path) from None
        return
    result = await connection.execute(
        update(StatsSource)
        .where(StatsSource.fingerprint == before.fingerprint)
        .where(StatsSource.offset == before.offset)
        .values(**values)
    )
    if result.rowcount != 1:
        raise ImportConflict(after.path)


async def _known_calls(
    connection: AsyncConnection, callids: list[str]
) -> tuple[dict[str, CallRecord], dict[str, int]]:
    columns = [getattr(StatsCall, name) for name in RECORD_FIELDS]
    known: dict[str, CallRecord] = {}
    ids: dict[str, int] = {}
    # One parameter for the whole list: an array on PostgreSQL, a JSON text on SQLite.
    if connection.dialect.name == "postgresql":
        match = StatsCall.callid == any_(bindparam("ids", callids, type_=ARRAY(String)))
    else:
        listed = func.json_each(bindparam("ids", json.dumps(callids))).table_valued("value")
        match = StatsCall.callid.in_(select(listed.c.value))
    for row in await connection.execute(select(StatsCall.id, *columns).where(match)):
        record = CallRecord(*row[1:])
        known[record.callid] = record
        ids[record.callid] = row[0]
    return known, ids


async def _insert_calls(connection: AsyncConnection, rows: list[tuple[object, ...]]) -> None:
    """Bulk insert through the driver: COPY on PostgreSQL, executemany on SQLite."""
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            "stats_calls", records=rows, columns=ROW_COLUMNS
        )
        return
    day = ROW_COLUMNS.index("day")
    rows = [(*row[:day], row[day].isoformat(), *row[day + 1 :]) for row in rows]  # type: ignore[attr-defined]
    marks = ", ".join("?" * len(ROW_COLUMNS))
    await connection.exec_driver_sql(
        f"INSERT INTO stats_calls ({', '.join(ROW_COLUMNS)}) VALUES ({marks})", rows
    )


async def _write_calls(
    connection: AsyncConnection, touched: dict[str, CallRecord], ids: dict[str, int]
) -> None:
    new_rows, changed_rows = [], []
    for callid, record in touched.items():
        if callid in ids:
            row = record.row()
            row["b_id"] = ids[callid]
            changed_rows.append(row)
        else:
            new_rows.append(record.values())
    if new_rows:
        await _insert_calls(connection, new_rows)
    if changed_rows:
        await connection.execute(
            update(StatsCall).where(StatsCall.id == bindparam("b_id")), changed_rows
        )


ROLLUP_TARGET = ["hour_start", "dimension", "value", "day", "week", "month", *HOURLY_MEASURES]


def _dimension_query(dimension: str, thresholds: Thresholds, hours: list[int] | None) -> Any:
    column = DIMENSIONS[dimension]
    value = func.coalesce(column, literal_column("''"))
    c = StatsCall
    query = select(
        c.hour_start, literal_column(f"'{dimension}'"), value, c.day, c.week, c.month,
        *call_measures(thresholds).values(),
    )  # fmt: skip
    if hours is not None:
        query = query.where(c.hour_start.in_(hours))
    return query.group_by(c.hour_start, c.day, c.week, c.month, value)


def _all_query(hours: list[int] | None) -> Any:
    """The ``all`` rollup summed from the ``queue`` rows (every call has one queue value)."""
    h = StatsHourly
    aggregates = [
        func.max(h.max_wait_s) if name == "max_wait_s" else func.sum(getattr(h, name))
        for name in HOURLY_MEASURES
    ]
    query = select(
        h.hour_start, literal_column("'all'"), literal_column("''"), h.day, h.week, h.month,
        *aggregates,
    ).where(h.dimension == "queue")  # fmt: skip
    if hours is not None:
        query = query.where(h.hour_start.in_(hours))
    return query.group_by(h.hour_start, h.day, h.week, h.month)


async def refresh_hours(
    connection: AsyncConnection, thresholds: Thresholds, hours: Iterable[int] | None = None
) -> None:
    """Recompute the hourly rollups of ``hours`` (every hour when None) from stats_calls."""
    hour_list = None if hours is None else sorted(set(hours))
    if hour_list == []:
        return
    wipe = delete(StatsHourly)
    if hour_list is not None:
        wipe = wipe.where(StatsHourly.hour_start.in_(hour_list))
    await connection.execute(wipe)
    for dimension in DIMENSIONS:
        query = _dimension_query(dimension, thresholds, hour_list)
        await connection.execute(insert(StatsHourly).from_select(ROLLUP_TARGET, query))
    await connection.execute(insert(StatsHourly).from_select(ROLLUP_TARGET, _all_query(hour_list)))


async def ensure_rollups(engine: AsyncEngine, thresholds: Thresholds, force: bool = False) -> bool:
    """Make the rollups match ``thresholds``, rebuilding them all if needed (True if rebuilt)."""
    async with engine.begin() as connection:
        current = (await connection.execute(select(StatsRollupSettings))).first()
        wanted = (thresholds.short_abandon_s, thresholds.service_level_s)
        if (
            not force
            and current is not None
            and (current.short_abandon_s, current.service_level_s) == wanted
        ):
            return False
        await connection.execute(delete(StatsRollupSettings))
        await connection.execute(
            insert(StatsRollupSettings).values(
                id=1, short_abandon_s=wanted[0], service_level_s=wanted[1]
            )
        )
        await refresh_hours(connection, thresholds)
        return True


async def rollup_thresholds(engine: AsyncEngine) -> Thresholds | None:
    async with engine.connect() as connection:
        row = (await connection.execute(select(StatsRollupSettings))).first()
    return None if row is None else Thresholds(row.short_abandon_s, row.service_level_s)


def _missed_rows(events: list[QueueLogEvent]) -> list[dict[str, object]]:
    return [
        {
            "callid": event.callid,
            "agent": event.agent[:80],
            "queue": event.queue[:80],
            "epoch": event.epoch,
            "hour_start": event.epoch - event.epoch % 3600,
            "ring_ms": event.talk,
        }
        for event in events
        if event.event == "RINGNOANSWER"
    ]


class Written(NamedTuple):
    calls: int  # call rows inserted or updated
    pauses: int  # pause rows inserted or closed


async def write_batch(
    engine: AsyncEngine,
    before: Checkpoint,
    after: Checkpoint,
    events: list[QueueLogEvent],
    thresholds: Thresholds,
    members: Sequence[MemberEvent] = (),
) -> Written:
    """Store one batch of events and move the checkpoint; returns the rows written."""
    callids = list(dict.fromkeys(event.callid for event in events))
    async with engine.begin() as connection:
        known, ids = await _known_calls(connection, callids)
        hours = {record.hour_start for record in known.values()}
        touched = await asyncio.to_thread(fold, events, known)
        hours.update(record.hour_start for record in touched.values())
        await _write_calls(connection, touched, ids)
        missed = _missed_rows(events)
        if missed:
            await connection.execute(insert(StatsMissedRing), missed)
        await refresh_hours(connection, thresholds, hours)
        pauses = await write_pauses(connection, members)
        await _save_checkpoint(connection, before, after)
    return Written(len(touched), pauses)


def advance(checkpoint: Checkpoint, **changes: Any) -> Checkpoint:
    return replace(checkpoint, **changes)
