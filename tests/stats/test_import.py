"""Importing the queue_log: idempotent, resumable, rotation, truncated and malformed lines."""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.journal import follow
from svi_acd.stats.store import Checkpoint, ImportConflict, count_calls, write_batch
from svi_acd.stats.tables import StatsSource
from tests.stats.conftest import THRESHOLDS, load, reference_day, report
from tests.stats.queue_logs import QueueLog, epoch


async def test_importing_the_same_file_twice_changes_nothing(
    engine: AsyncEngine, reference_log: Path
) -> None:
    first = await load(engine, reference_log)
    before = (await report(engine, "day")).totals
    second = await load(engine, reference_log)
    assert first.lines == len(reference_day().lines) and second.lines == 0
    assert (await report(engine, "day")).totals == before
    assert await count_calls(engine) == 19


async def test_a_copy_of_an_imported_file_is_recognised(
    engine: AsyncEngine, reference_log: Path, tmp_path: Path
) -> None:
    await load(engine, reference_log)
    copy = tmp_path / "elsewhere" / "queue_log"
    copy.parent.mkdir()
    copy.write_bytes(reference_log.read_bytes())
    assert (await load(engine, copy)).lines == 0
    assert (await report(engine, "day")).totals["received"] == 19


async def test_a_file_that_grew_is_read_from_the_checkpoint_and_calls_are_completed(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    start = epoch("2026-10-14 11:00:00")
    path = tmp_path / "queue_log"
    path.write_text(f"{start}|g1|support|NONE|ENTERQUEUE||0601020304\n")
    await load(engine, path)
    assert (await report(engine, "day")).totals["in_queue"] == 1
    with path.open("a") as stream:
        stream.write(f"{start + 40}|g1|support|PJSIP/a|CONNECT|40|x|2\n")
        stream.write(f"{start + 100}|g1|support|PJSIP/a|COMPLETECALLER|40|60|1\n")
    assert (await load(engine, path)).lines == 2
    totals = (await report(engine, "day")).totals
    assert (totals["answered"], totals["in_queue"], totals["asa_seconds"]) == (1, 0, 40.0)
    assert await count_calls(engine) == 1


async def test_a_truncated_last_line_waits_until_it_is_complete(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    start = epoch("2026-10-14 11:00:00")
    path = tmp_path / "queue_log"
    partial = f"{start + 30}|t1|support|NONE|ABA"
    path.write_text(f"{start}|t1|support|NONE|ENTERQUEUE||06\n{partial}")
    result = await load(engine, path)
    assert (result.lines, result.malformed_count) == (1, 0)
    assert result.files[-1].pending_bytes == len(partial)
    assert (await report(engine, "day")).totals["abandoned"] == 0
    with path.open("a") as stream:
        stream.write("NDON|1|1|30\n")
    assert (await load(engine, path)).lines == 1
    assert (await report(engine, "day")).totals["abandoned"] == 1


async def test_malformed_lines_are_counted_with_their_line_numbers(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    start = epoch("2026-10-14 11:00:00")
    path = tmp_path / "queue_log"
    path.write_bytes(
        f"{start}|b1|support|NONE|ENTERQUEUE||06\n".encode()
        + b"not a queue_log line\n"
        + f"{start + 5}|b1|support|PJSIP/a|CONNECT|cinq|x|1\n".encode()
        + b"\n"
        + b"\xff\xfe|binary|garbage\n"
        + f"{start + 9}|b1|support|PJSIP/a|CONNECT|9|x|1\n".encode()
    )
    result = await load(engine, path)
    assert [m.line for m in result.files[-1].malformed] == [2, 3, 4, 5]
    assert result.malformed_count == 4
    assert "non numérique" in result.files[-1].malformed[1].reason
    assert (await report(engine, "day")).totals["asa_seconds"] == 9.0
    async with engine.connect() as connection:
        stored = (await connection.execute(select(StatsSource.malformed))).scalar_one()
    assert stored == 4


async def test_rotated_files_are_finished_then_the_new_file_is_read(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    lines = reference_day().lines
    path = tmp_path / "queue_log"
    path.write_text("".join(f"{text}\n" for text in lines[:20]))
    await load(engine, path)
    # Asterisk wrote more, then logrotate renamed and compressed the file and a new one began.
    with path.open("a") as stream:
        stream.write("".join(f"{text}\n" for text in lines[20:40]))
    with gzip.open(tmp_path / "queue_log.1.gz", "wb") as packed:
        packed.write(path.read_bytes())
    path.unlink()
    path.write_text("".join(f"{text}\n" for text in lines[40:]))
    result = await load(engine, path)
    assert [Path(f.path).name for f in result.files] == ["queue_log.1.gz", "queue_log"]
    assert [f.lines for f in result.files] == [20, len(lines) - 40]
    assert (await report(engine, "day")).totals["received"] == 19
    assert (await report(engine, "day")).totals["answered"] == 6
    assert (await load(engine, path)).lines == 0


async def test_rotated_files_are_imported_oldest_first(engine: AsyncEngine, tmp_path: Path) -> None:
    lines = reference_day().lines
    thirds = [lines[:15], lines[15:30], lines[30:]]
    path = tmp_path / "queue_log"
    (tmp_path / "queue_log.2").write_text("".join(f"{t}\n" for t in thirds[0]))
    (tmp_path / "queue_log.1").write_text("".join(f"{t}\n" for t in thirds[1]))
    path.write_text("".join(f"{t}\n" for t in thirds[2]))
    result = await load(engine, path)
    assert [Path(f.path).name for f in result.files] == ["queue_log.2", "queue_log.1", "queue_log"]
    assert (await report(engine, "day")).totals["presented"] == 13


async def test_a_file_shorter_than_its_checkpoint_is_left_alone(
    engine: AsyncEngine, reference_log: Path
) -> None:
    await load(engine, reference_log)
    first_line = reference_log.read_text().splitlines(keepends=True)[0]
    reference_log.write_text(first_line)
    result = await load(engine, reference_log)
    assert result.lines == 0 and "plus court" in (result.files[-1].note or "")
    assert (await report(engine, "day")).totals["received"] == 19


async def test_a_stale_checkpoint_is_refused_and_nothing_is_written(
    engine: AsyncEngine, reference_log: Path
) -> None:
    result = await load(engine, reference_log)
    fingerprint = result.files[-1].fingerprint or ""
    stale = Checkpoint(fingerprint, str(reference_log), 0, 0, 0, None, stored=True)
    moved = Checkpoint(fingerprint, str(reference_log), 10, 1, 0, None, stored=True)
    from svi_acd.stats.events import parse_line

    event = parse_line(f"{epoch('2026-10-14 12:00:00')}|z1|support|NONE|ENTERQUEUE||06")
    assert event is not None
    with pytest.raises(ImportConflict):
        await write_batch(engine, stale, moved, [event], THRESHOLDS)
    assert await count_calls(engine) == 19


async def test_follow_imports_lines_as_they_are_written(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "queue_log"
    start = epoch("2026-10-14 11:00:00")
    path.write_text(f"{start}|f1|support|NONE|ENTERQUEUE||06\n")
    stop, imported = asyncio.Event(), asyncio.Queue[int]()
    task = asyncio.create_task(
        follow(path, engine, THRESHOLDS, interval=0.05, stop=stop,
               on_import=lambda result: imported.put_nowait(result.lines))
    )  # fmt: skip
    try:
        assert await asyncio.wait_for(imported.get(), 10) == 1
        with path.open("a") as stream:
            stream.write(f"{start + 12}|f1|support|NONE|ABANDON|1|1|12\n")
        assert await asyncio.wait_for(imported.get(), 10) == 1
        # Rotation: the live file is renamed and a new one starts.
        os.rename(path, tmp_path / "queue_log.1")
        path.write_text(f"{start + 60}|f2|support|NONE|ENTERQUEUE||07\n")
        assert await asyncio.wait_for(imported.get(), 10) == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    totals = (await report(engine, "day")).totals
    assert (totals["abandoned"], totals["in_queue"]) == (1, 1)


@pytest.mark.parametrize("split", [1, 17, 40])
async def test_importing_in_two_parts_gives_the_same_figures_as_at_once(
    engine: AsyncEngine, tmp_path: Path, split: int
) -> None:
    lines = reference_day().lines
    path = tmp_path / "queue_log"
    path.write_text("".join(f"{text}\n" for text in lines[:split]))
    await load(engine, path)
    with path.open("a") as stream:
        stream.write("".join(f"{text}\n" for text in lines[split:]))
    await load(engine, path)
    for by in ("day", "hour", "queue", "agent", "territory", "vip", "branch", "ticket"):
        rows = (await report(engine, by)).rows
        once = QueueLog()
        once.lines = lines
        assert rows == await _figures_at_once(once, tmp_path, by), by


async def _figures_at_once(log: QueueLog, tmp_path: Path, by: str) -> list[dict]:
    from svi_acd.db.base import create_engine
    from svi_acd.db.migrate import upgrade

    other = create_engine(f"sqlite:///{tmp_path / f'once-{by}.sqlite3'}")
    try:
        await upgrade(other)
        await load(other, log.write(tmp_path / f"once-{by}.log"))
        return (await report(other, by)).rows
    finally:
        await other.dispose()


def test_the_newest_migration_file_is_alembics_head() -> None:
    """The fast path of ``upgrade`` (no Alembic when the database is current) relies on it."""
    from alembic.script import ScriptDirectory

    from svi_acd.db.migrate import alembic_config, newest_revision

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert heads == [newest_revision()]


async def test_a_current_database_is_recognised_and_an_old_one_is_brought_up(
    engine: AsyncEngine,
) -> None:
    from alembic import command

    from svi_acd.db.migrate import alembic_config, current_revision, newest_revision, upgrade

    assert await current_revision(engine) == newest_revision()
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.downgrade(alembic_config(sync), "0006_withdrawn")
        )
    assert await current_revision(engine) == "0006_withdrawn"
    await upgrade(engine)
    assert await current_revision(engine) == newest_revision()
