"""Report figures on the reference day, checked against counts made by hand (SQLite and PG)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.abandoned import abandoned_calls, forget_caller_numbers
from svi_acd.stats.measures import Thresholds
from svi_acd.stats.store import ensure_rollups, rollup_thresholds
from tests.stats.conftest import DAY, THRESHOLDS, by_key, load, report
from tests.stats.queue_logs import QueueLog, epoch

# Hand count of tests/stats/conftest.py::reference_day (short abandon 5 s, service level 30 s):
# queue calls c01-c06, c10-c16, c18, c19 = 15; answered c01 c11 c12 c13 c14 c15 = 6;
# abandoned c02 = 1; short abandons c03 (2 s) c18 (4 s) = 2; timeouts c04 c10; key c06 c16.
DAY_TOTALS = {
    "received": 19, "closed": 1, "territory_closed": 1, "deterred": 1, "callback": 1,
    "overflow": 1, "queued": 13, "other": 1, "queue_calls": 15, "presented": 13,
    "answered": 6, "abandoned": 1, "short_abandoned": 2, "timeout": 2, "exit_empty": 1,
    "exit_key": 2, "in_queue": 1, "vip": 2, "transferred": 2, "max_wait_seconds": 90,
    "asa_seconds": 15.5, "aht_seconds": 123.3,
}  # fmt: skip


async def test_day_report_matches_the_hand_count(engine: AsyncEngine, reference_log: Path) -> None:
    await load(engine, reference_log)
    result = await report(engine, "day")
    assert [row["period"] for row in result.rows] == ["2026-10-14"]
    row = result.rows[0]
    for name, expected in DAY_TOTALS.items():
        assert row[name] == expected, name
    assert row["answer_rate"] == pytest.approx(6 / 13)
    assert row["abandon_rate"] == pytest.approx(1 / 13)
    assert row["service_level"] == pytest.approx(5 / 6)
    assert result.totals == {k: v for k, v in row.items() if k != "period"}


async def test_report_by_hour_splits_the_two_hours(
    engine: AsyncEngine, reference_log: Path
) -> None:
    await load(engine, reference_log)
    rows = by_key((await report(engine, "hour")).rows, "period")
    assert list(rows) == ["2026-10-14T09:00+02:00", "2026-10-14T10:00+02:00"]
    assert rows["2026-10-14T09:00+02:00"]["received"] == 10
    assert rows["2026-10-14T10:00+02:00"]["received"] == 9
    assert rows["2026-10-14T10:00+02:00"]["answered"] == 5


async def test_report_by_queue_agent_and_territory(
    engine: AsyncEngine, reference_log: Path
) -> None:
    await load(engine, reference_log)
    queues = by_key((await report(engine, "queue")).rows, "queue")
    assert list(queues) == ["support", "vip", None]
    assert (queues["support"]["presented"], queues["support"]["answered"]) == (12, 5)
    assert queues["vip"]["answered"] == 1
    assert queues[None]["received"] == 4  # closed, territory closed, deterred, menu hang-up
    agents = by_key((await report(engine, "agent")).rows, "agent")
    assert agents["PJSIP/agent-a"]["answered"] == 3
    assert agents["PJSIP/agent-b"]["answered"] == 3
    assert agents["PJSIP/agent-a"]["ring_no_answer"] == 1
    assert agents["PJSIP/agent-b"]["ring_no_answer"] == 0
    territories = by_key((await report(engine, "territory")).rows, "territory")
    # The two calls without a territory in the journal (a withheld number, the fallback's
    # call) count as metropolitan, by the routing's rule: no "None" row.
    assert {k: v["received"] for k, v in territories.items()} == {
        "FR": 16, "GF": 1, "MQ": 1, "RE": 1}  # fmt: skip
    # c05 and c06 (queued by the fallback, no number) are presented, now under FR.
    assert (territories["FR"]["presented"], territories["FR"]["answered"]) == (12, 5)


async def test_report_by_vip_and_menu_branch(engine: AsyncEngine, reference_log: Path) -> None:
    await load(engine, reference_log)
    vip = by_key((await report(engine, "vip")).rows, "priority")
    assert (vip["VIP"]["answered"], vip["P0"]["short_abandoned"], vip[None]["received"]) == (
        1, 1, 17)  # fmt: skip
    branches = by_key((await report(engine, "branch")).rows, "branch")
    assert {k: v["received"] for k, v in branches.items()} == {
        "demande": 2, "incident": 2, "suivi": 1, None: 14}  # fmt: skip


async def test_report_by_ticket_and_by_parent_ticket(
    engine: AsyncEngine, reference_log: Path
) -> None:
    await load(engine, reference_log)
    tickets = by_key((await report(engine, "ticket")).rows, "ticket")
    assert {k: (v["parent_ticket"], v["presented"], v["answered"]) for k, v in tickets.items()} == {
        "T100": ("P1", 1, 1), "T200": ("P1", 1, 1), "T300": (None, 0, 0)}  # fmt: skip
    assert tickets["T300"]["short_abandoned"] == 1
    parents = by_key((await report(engine, "parent_ticket")).rows, "parent_ticket")
    assert (parents["P1"]["presented"], parents["P1"]["answered"]) == (2, 2)
    assert parents["T300"]["received"] == 1


async def test_other_thresholds_are_computed_from_the_calls(
    engine: AsyncEngine, reference_log: Path
) -> None:
    await load(engine, reference_log)
    strict = Thresholds(short_abandon_s=3, service_level_s=10)
    direct = await report(engine, "day", thresholds=strict)
    # c18 (4 s) is now a real abandon; service level: c12 5 s, c13 3 s, c15 8 s within 10 s.
    assert (direct.totals["abandoned"], direct.totals["short_abandoned"]) == (2, 1)
    assert direct.totals["service_level"] == pytest.approx(3 / 6)
    assert await rollup_thresholds(engine) == THRESHOLDS
    assert await ensure_rollups(engine, strict) is True
    for by in ("day", "queue", "agent", "territory", "vip", "branch", "hour"):
        rebuilt = await report(engine, by, thresholds=strict)
        assert rebuilt.rows == (await _direct(engine, by, strict)).rows, by


async def _direct(engine: AsyncEngine, by: str, thresholds: Thresholds):  # type: ignore[no-untyped-def]
    from svi_acd.stats import reports

    original = reports.rollup_thresholds

    async def none(_engine: AsyncEngine) -> None:
        return None

    reports.rollup_thresholds = none  # type: ignore[assignment]
    try:
        return await report(engine, by, thresholds=thresholds)
    finally:
        reports.rollup_thresholds = original


async def test_a_call_across_midnight_belongs_to_the_day_it_started(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    log = QueueLog()
    start = epoch("2026-10-14 23:59:50")
    log.call(start, "m1", (0, "support", "NONE", "ENTERQUEUE", "", "06"),
             (30, "support", "PJSIP/a", "CONNECT", 30, "x", 2),
             (330, "support", "PJSIP/a", "COMPLETECALLER", 30, 300, 1))  # fmt: skip
    await load(engine, log.write(tmp_path / "queue_log"))
    assert (await report(engine, "day")).totals["answered"] == 1
    next_day = await report(engine, "day", date(2026, 10, 15), date(2026, 10, 15))
    assert next_day.rows == [] and next_day.totals["received"] == 0


async def test_the_autumn_dst_day_has_two_0200_hours(engine: AsyncEngine, tmp_path: Path) -> None:
    log = QueueLog()
    summer, winter = epoch("2026-10-25 02:30:00", 0), epoch("2026-10-25 02:30:00", 1)
    log.call(summer, "d1", (0, "support", "NONE", "ENTERQUEUE", "", "06"))
    log.call(winter, "d2", (0, "support", "NONE", "ENTERQUEUE", "", "06"))
    # Starts at 02:59:50 summer time, answered 30 s later, at 02:00:20 winter time.
    across = epoch("2026-10-25 02:59:50", 0)
    log.call(across, "d3", (0, "support", "NONE", "ENTERQUEUE", "", "06"),
             (30, "support", "PJSIP/a", "CONNECT", 30, "x", 2))  # fmt: skip
    log.lines.sort(key=lambda text: int(text.split("|", 1)[0]))
    await load(engine, log.write(tmp_path / "queue_log"))
    sunday = date(2026, 10, 25)
    hours = by_key((await report(engine, "hour", sunday, sunday)).rows, "period")
    assert {k: v["received"] for k, v in hours.items()} == {
        "2026-10-25T02:00+02:00": 2, "2026-10-25T02:00+01:00": 1}  # fmt: skip
    assert hours["2026-10-25T02:00+02:00"]["answered"] == 1
    assert (await report(engine, "day", sunday, sunday)).totals["received"] == 3
    week = (await report(engine, "week", sunday, sunday)).rows
    assert [row["period"] for row in week] == ["2026-W43"]


async def test_the_spring_dst_day_has_no_0200_hour(engine: AsyncEngine, tmp_path: Path) -> None:
    log = QueueLog()
    log.call(epoch("2026-03-29 01:59:50"), "s1", (0, "support", "NONE", "ENTERQUEUE", "", "06"),
             (30, "support", "PJSIP/a", "CONNECT", 30, "x", 2))  # fmt: skip
    log.call(epoch("2026-03-29 03:10:00"), "s2", (0, "support", "NONE", "ENTERQUEUE", "", "06"))
    await load(engine, log.write(tmp_path / "queue_log"))
    sunday = date(2026, 3, 29)
    hours = [row["period"] for row in (await report(engine, "hour", sunday, sunday)).rows]
    assert hours == ["2026-03-29T01:00+01:00", "2026-03-29T03:00+02:00"]


async def test_abandoned_calls_to_ring_back_and_forgetting_numbers(
    engine: AsyncEngine, reference_log: Path
) -> None:
    await load(engine, reference_log)
    calls = await abandoned_calls(engine, DAY, DAY, THRESHOLDS)
    assert [(c.callid, c.caller, c.wait_seconds, c.time) for c in calls] == [
        ("c02", "0612345602", 20, "2026-10-14T09:01:00+02:00")]  # fmt: skip
    assert await forget_caller_numbers(engine, date(2026, 10, 14)) == 0
    assert await forget_caller_numbers(engine, date(2026, 10, 15)) == 4  # c01 c02 c03 c13
    assert (await abandoned_calls(engine, DAY, DAY, THRESHOLDS))[0].caller is None
    assert (await report(engine, "day")).totals["abandoned"] == 1


async def test_withdrawn_callers_are_presented_but_neither_answered_nor_abandoned(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    log = QueueLog()
    start = epoch("2026-10-14 10:00:00")
    log.call(start, "w1", (0, "support", "NONE", "ENTERQUEUE", "", "0612345601", 1),
             (40, "support", "NONE", "SVI_OVERFLOW", "attente trop longue", "message:sature"),
             (40, "support", "NONE", "WITHDRAW", 1, 1, 40, "message"))  # fmt: skip
    log.call(start + 5, "a1", (0, "support", "NONE", "ENTERQUEUE", "", "0612345602", 2),
             (12, "support", "PJSIP/agent-a", "CONNECT", 7, "x.1", 2),
             (60, "support", "PJSIP/agent-a", "COMPLETEAGENT", 7, 48, 2))  # fmt: skip
    await load(engine, log.write(tmp_path / "queue_log"))
    for by in ("day", "queue"):
        totals = (await report(engine, by)).totals
        assert (totals["presented"], totals["answered"], totals["abandoned"]) == (2, 1, 0)
        assert (totals["withdrawn"], totals["overflow"], totals["answer_rate"]) == (1, 1, 0.5)
        parts = ("answered", "abandoned", "timeout", "exit_empty", "exit_key", "withdrawn",
                 "in_queue")  # fmt: skip
        assert sum(totals[name] for name in parts) == totals["presented"]
