"""Agents' pauses from the queue_log: reasons, durations, imports in pieces, the report."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.cli import main
from svi_acd.stats import journal
from svi_acd.stats.events import MemberEvent, parse_line, parse_member_line
from svi_acd.stats.pause_report import PauseReport, pause_report
from svi_acd.stats.pauses import Pause, fold_pauses
from svi_acd.stats.tables import StatsAgentPause
from tests.stats.conftest import DAY, load, report
from tests.stats.queue_logs import PARIS, QueueLog, epoch

N = "NONE"
TEN = epoch("2026-10-14 10:00:00")
LATER = datetime(2026, 11, 1, tzinfo=PARIS)  # "now" for reports: the day is long over


def paused_all_queues(log: QueueLog, at: int, agent: str, reason: str, until: int) -> None:
    """What QueuePause without a queue writes, for an agent in the support and vip queues."""
    log.add(at, N, N, agent, "PAUSEALL", reason)
    log.add(at, N, "support", agent, "PAUSE", reason)
    log.add(at, N, "vip", agent, "PAUSE", reason)
    log.add(until, N, N, agent, "UNPAUSEALL", "")
    log.add(until, N, "support", agent, "UNPAUSE", "")
    log.add(until, N, "vip", agent, "UNPAUSE", "")


async def stored_pauses(engine: AsyncEngine) -> list[tuple]:
    p = StatsAgentPause
    query = select(p.agent, p.queue, p.reason, p.start_epoch, p.end_epoch, p.duration_s, p.day)
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(query.order_by(p.id))]


async def pauses(engine: AsyncEngine, by: str = "agent", **kw: object) -> PauseReport:
    return await pause_report(engine, DAY, DAY, by, now=kw.get("now", LATER))  # type: ignore[arg-type]


def test_pause_lines_are_parsed_and_pauseall_lines_are_not() -> None:
    pause = f"{TEN}|NONE|support|agent1|PAUSE| formation \n"
    assert parse_line(pause) is None  # not a call's line
    assert parse_member_line(pause) == MemberEvent(TEN, "support", "agent1", "PAUSE", "formation")
    assert parse_member_line(f"{TEN}|NONE|support|agent1|UNPAUSE|\n") == MemberEvent(
        TEN, "support", "agent1", "UNPAUSE"
    )
    assert parse_member_line(f"{TEN}|NONE|NONE|agent1|PAUSEALL|formation\n") is None
    assert parse_member_line(f"{TEN}|NONE|support|agent1|ADDMEMBER|\n") is None
    assert parse_member_line(f"{TEN}|c1|support|agent1|CONNECT|3|x|1\n") is None


def test_a_new_reason_ends_the_pause_and_starts_another() -> None:
    events = [MemberEvent(100, "support", "a", "PAUSE", "pause"),
              MemberEvent(150, "support", "a", "PAUSE", "pause"),  # same reason: same pause
              MemberEvent(200, "support", "a", "PAUSE", "ticket"),
              MemberEvent(260, "support", "a", "UNPAUSE"),
              MemberEvent(300, "support", "a", "UNPAUSE")]  # fmt: skip
    still_open: dict[tuple[str, str], Pause] = {}
    changed = fold_pauses(events, still_open)
    assert [(p.reason, p.start, p.end) for p in changed] == [("pause", 100, 200),
                                                            ("ticket", 200, 260)]  # fmt: skip
    assert still_open == {}


async def test_a_pause_is_recorded_with_its_reason_and_duration(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    log = QueueLog()
    log.add(TEN - 60, N, "support", "agent1", "ADDMEMBER", "")
    log.add(TEN, N, "support", "agent1", "PAUSE", "formation")
    log.add(TEN + 100, N, "support", "agent1", "UNPAUSE", "")
    result = await load(engine, log.write(tmp_path / "queue_log"))
    assert result.files[0].pauses == 1
    assert await stored_pauses(engine) == [
        ("agent1", "support", "formation", TEN, TEN + 100, 100, DAY)
    ]
    document = (await pauses(engine)).as_json()
    assert document["rows"] == [{"agent": "agent1", "reason": "formation", "pauses": 1,
                                 "pause_seconds": 100, "mean_pause_seconds": 100.0,
                                 "ongoing": 0}]  # fmt: skip
    assert document["totals"]["pause_seconds"] == 100
    assert document["definitions"]["mean_pause_seconds"]["denominator"] == "pauses"
    assert (await report(engine, "day")).totals["received"] == 0  # no call was made up


async def test_a_pause_in_all_queues_counts_once_and_pauseall_is_ignored(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    log = QueueLog()
    paused_all_queues(log, TEN, "agent1", "formation", TEN + 100)
    # The vip line written one second later (QueuePause crossing a second) joins the pause.
    log.add(TEN + 200, N, N, "agent2", "PAUSEALL", "ticket")
    log.add(TEN + 200, N, "support", "agent2", "PAUSE", "ticket")
    log.add(TEN + 201, N, "vip", "agent2", "PAUSE", "ticket")
    log.add(TEN + 260, N, "support", "agent2", "UNPAUSE", "")
    log.add(TEN + 261, N, "vip", "agent2", "UNPAUSE", "")
    await load(engine, log.write(tmp_path / "queue_log"))
    assert len(await stored_pauses(engine)) == 4  # one per agent and queue
    rows = (await pauses(engine)).rows
    assert [(r["agent"], r["reason"], r["pauses"], r["pause_seconds"]) for r in rows] == [
        ("agent1", "formation", 1, 100), ("agent2", "ticket", 1, 61)]  # fmt: skip


async def test_a_pause_spanning_two_imports_is_closed_by_the_later_one(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "queue_log"
    path.write_text(f"{TEN}|NONE|support|agent1|PAUSE|pause\n")
    await load(engine, path)
    assert (await stored_pauses(engine))[0][4:6] == (None, None)  # stored open
    ongoing = (await pauses(engine, now=datetime.fromtimestamp(TEN + 600, PARIS))).totals
    assert (ongoing["pause_seconds"], ongoing["ongoing"]) == (600, 1)  # counted up to now
    with path.open("a") as stream:
        stream.write(f"{TEN + 900}|NONE|support|agent1|UNPAUSE|\n")
    assert (await load(engine, path)).files[0].pauses == 1
    assert await stored_pauses(engine) == [("agent1", "support", "pause", TEN, TEN + 900, 900,
                                            DAY)]  # fmt: skip
    totals = (await pauses(engine)).totals
    assert (totals["pauses"], totals["pause_seconds"], totals["ongoing"]) == (1, 900, 0)


async def test_a_pause_open_at_the_end_of_a_batch_is_closed_by_the_next_batch(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "BATCH_BYTES", 16)  # about one line per batch
    log = QueueLog()
    paused_all_queues(log, TEN, "agent1", "pause", TEN + 300)
    log.add(TEN + 400, N, "support", "agent1", "PAUSE", "absence")
    log.add(TEN + 500, N, "support", "agent1", "UNPAUSE", "")
    await load(engine, log.write(tmp_path / "queue_log"))
    rows = await stored_pauses(engine)
    assert [(r[1], r[2], r[5]) for r in rows] == [("support", "pause", 300), ("vip", "pause", 300),
                                                  ("support", "absence", 100)]  # fmt: skip


async def test_importing_the_same_file_twice_changes_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    log = QueueLog()
    paused_all_queues(log, TEN, "agent1", "formation", TEN + 100)
    log.add(TEN + 200, N, "support", "agent2", "PAUSE", "pause")  # left open
    path = log.write(tmp_path / "queue_log")
    await load(engine, path)
    before, stored = (await pauses(engine)).as_json(), await stored_pauses(engine)
    copy = tmp_path / "copy" / "queue_log"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    assert (await load(engine, path)).lines == 0
    assert (await load(engine, copy)).lines == 0
    assert await stored_pauses(engine) == stored
    assert (await pauses(engine)).as_json() == before


async def test_removemember_ends_an_open_pause(engine: AsyncEngine, tmp_path: Path) -> None:
    log = QueueLog()
    log.add(TEN - 5, N, "support", "agent1", "UNPAUSE", "")  # nothing open: ignored
    log.add(TEN, N, "support", "agent1", "PAUSE", "absence")
    log.add(TEN + 45, N, "support", "agent1", "REMOVEMEMBER", "")
    log.add(TEN + 50, N, "support", "agent1", "REMOVEMEMBER", "")  # nothing open: ignored
    await load(engine, log.write(tmp_path / "queue_log"))
    assert await stored_pauses(engine) == [("agent1", "support", "absence", TEN, TEN + 45, 45, DAY)]


def test_an_asterisk_restart_ends_every_open_pause() -> None:
    still_open = {("a", "support"): Pause("a", "support", "pause", 100),
                  ("b", "vip"): Pause("b", "vip", "", 150, stored_id=7)}  # fmt: skip
    restart = parse_member_line("400|NONE|NONE|NONE|QUEUESTART|\n")
    assert restart is not None
    changed = fold_pauses([restart], still_open)
    assert [(p.agent, p.end, p.stored_id) for p in changed] == [("a", 400, None), ("b", 400, 7)]
    assert still_open == {}


async def test_a_pause_open_at_the_report_end_is_counted_up_to_that_end(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    log = QueueLog()
    eleven_pm = epoch("2026-10-14 23:00:00")
    log.add(eleven_pm, N, "support", "agent1", "PAUSE", "")
    log.add(epoch("2026-10-15 08:00:00"), N, "support", "agent1", "UNPAUSE", "")
    log.add(epoch("2026-10-15 09:00:00"), N, "support", "agent2", "PAUSE", "pause")
    await load(engine, log.write(tmp_path / "queue_log"))
    day = await pauses(engine)
    assert day.rows == [{"agent": "agent1", "reason": None, "pauses": 1, "pause_seconds": 3600,
                         "mean_pause_seconds": 3600.0, "ongoing": 1}]  # fmt: skip
    assert day.as_json()["parameters"]["counted_until"] == "2026-10-15T00:00:00+02:00"
    assert "fin du rapport" in day.as_json()["definitions"]["pause_seconds"]["description"]
    two_days = await pause_report(engine, DAY, DAY.replace(day=15), "day", now=LATER)
    assert [(r["day"], r["reason"], r["pause_seconds"], r["ongoing"]) for r in two_days.rows] == [
        ("2026-10-14", None, 9 * 3600, 0), ("2026-10-15", "pause", 15 * 3600, 1)]  # fmt: skip


async def test_report_by_reason_adds_up_the_agents(engine: AsyncEngine, tmp_path: Path) -> None:
    log = QueueLog()
    paused_all_queues(log, TEN, "agent1", "formation", TEN + 100)
    paused_all_queues(log, TEN + 50, "agent2", "formation", TEN + 250)
    paused_all_queues(log, TEN + 300, "agent2", "ticket", TEN + 330)
    await load(engine, log.write(tmp_path / "queue_log"))
    rows = (await pauses(engine, "reason")).rows
    assert rows == [
        {"reason": "formation", "pauses": 2, "pause_seconds": 300, "mean_pause_seconds": 150.0,
         "ongoing": 0},
        {"reason": "ticket", "pauses": 1, "pause_seconds": 30, "mean_pause_seconds": 30.0,
         "ongoing": 0},
    ]  # fmt: skip
    with pytest.raises(ValueError, match="regroupement inconnu"):
        await pauses(engine, "queue")


@pytest.fixture
def paused_db(engine: AsyncEngine, database_url: str, tmp_path: Path) -> str:
    log = QueueLog()
    paused_all_queues(log, TEN, "agent1", "formation", TEN + 125)
    paused_all_queues(log, TEN + 300, "agent1", "formation", TEN + 400)
    log.add(TEN + 500, N, "support", "agent2", "PAUSE", "")
    log.add(TEN + 530, N, "support", "agent2", "REMOVEMEMBER", "")
    path = log.write(tmp_path / "queue_log")
    assert main(["stats", "import", "--queue-log", str(path), "--db", database_url]) == 0
    return database_url


def test_pauses_command_json_follows_the_contract(
    paused_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    argv = ["stats", "pauses", "--from", "2026-10-14", "--to", "2026-10-14", "--db", paused_db]
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"definitions", "parameters", "rows", "totals"}
    assert document["parameters"]["by"] == "agent"
    assert document["rows"] == [
        {"agent": "agent1", "reason": "formation", "pauses": 2, "pause_seconds": 225,
         "mean_pause_seconds": 112.5, "ongoing": 0},
        {"agent": "agent2", "reason": None, "pauses": 1, "pause_seconds": 30,
         "mean_pause_seconds": 30.0, "ongoing": 0},
    ]  # fmt: skip
    assert document["totals"] == {"pauses": 3, "pause_seconds": 255,
                                  "mean_pause_seconds": 85.0, "ongoing": 0}  # fmt: skip


def test_pauses_command_csv_is_french_excel_csv(paused_db: str, tmp_path: Path) -> None:
    output = tmp_path / "pauses.csv"
    assert main(["stats", "pauses", "--from", "2026-10-14", "--to", "2026-10-14", "--by", "day",
                 "--format", "csv", "--output", str(output), "--db", paused_db]) == 0  # fmt: skip
    lines = output.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0] == ("Jour;Motif;Pauses;Durée totale de pause (s);"
                        "Durée moyenne d'une pause (s);Pauses en cours")  # fmt: skip
    assert lines[1:] == ["2026-10-14;(sans motif);1;30;30,0;0",
                         "2026-10-14;formation;2;225;112,5;0", "Total;;3;255;85,0;0"]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2026-10-14", "--to", "2026-10-13"], "précéder"),
        (["--from", "14/10/2026", "--to", "2026-10-14"], "date invalide"),
    ],
)
def test_pauses_command_refuses_bad_dates_in_french(
    engine: AsyncEngine, database_url: str, argv: list[str], message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    assert main(["stats", "pauses", *argv, "--db", database_url]) == 2
    assert message in capsys.readouterr().err


async def test_migration_0005_creates_the_pause_table_as_its_model_declares(
    engine: AsyncEngine,
) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from svi_acd.db import models  # noqa: F401 - every table in the metadata
    from svi_acd.db.base import Base
    from svi_acd.db.migrate import alembic_config, upgrade

    def pause_diffs(sync: object) -> list:
        diffs = compare_metadata(MigrationContext.configure(sync), Base.metadata)
        return [diff for diff in diffs if "stats_agent_pauses" in repr(diff)]

    async with engine.connect() as connection:
        assert await connection.run_sync(pause_diffs) == []
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.downgrade(alembic_config(sync), "0004_accounts")
        )
    await upgrade(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(pause_diffs) == []
