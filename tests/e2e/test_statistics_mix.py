"""Statistics end to end: a scripted mix of real calls, and the report must equal the mix.

The mix: one call answered; one abandoned after about 2 s (a short abandon, below the 5 s
threshold) and one after about 20 s; one overflowed at entry (queue too long); one closed (the
service's clock says Sunday); one answered after typing a ticket number. Only the queue_log
lines written during this test are imported (the lab serves the whole session), then the
``svi-acd stats`` commands report on them as staff would run them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from lab.runner import Lab, LabState
from lab.sipp import agents_answering
from svi_acd.config.model import Settings
from tests.e2e.acd import ACTOR, SATURE, acd_service, entered, logged, pause_all, rule, with_acd
from tests.e2e.calls import OPEN, PARIS, SettableClock, place_call

pytestmark = pytest.mark.e2e
SUNDAY = datetime(2026, 7, 12, 11, 0, tzinfo=PARIS)
TICKET = "20261234"


def stats(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "svi_acd", "stats", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--format" in args else {}


async def test_report_equals_the_scripted_mix_of_calls(
    lab: Lab, lab_state: LabState, flow_settings: Settings, clock: SettableClock,
    tmp_path: Path,
) -> None:  # fmt: skip
    # One caller waiting is the most the queue takes: a second one overflows at entry.
    rules = (rule("file pleine", "longueur_max", 1, SATURE),)
    settings = with_acd(flow_settings, rules)
    start_offset = lab.queue_log.stat().st_size if lab.queue_log.exists() else 0
    async with (
        agents_answering(lab_state.agents, tmp_path / "agents", 0.5, 1.0),
        acd_service(lab, lab_state, settings, clock, tmp_path) as (_, desk),
    ):
        answered = await place_call(lab_state, tmp_path / "ok", "0140000601", "1", hold_s=15)
        await logged(lab, await entered(lab, "0140000601"), "COMPLETEAGENT")
        await answered

        ticket = await place_call(lab_state, tmp_path / "t", "0140000606", f"3{TICKET}#",
                                  hold_s=15)  # fmt: skip
        await logged(lab, await entered(lab, "0140000606"), "COMPLETEAGENT")
        await ticket

        clock.moment = SUNDAY
        closed = await place_call(lab_state, tmp_path / "closed", "0140000605", "", hold_s=15)
        assert (await closed).failed == 0
        clock.moment = OPEN

        await pause_all(desk)
        short = await place_call(lab_state, tmp_path / "short", "0140000602", "1", hold_s=2.5)
        await logged(lab, await entered(lab, "0140000602"), "ABANDON")
        await short

        long = await place_call(lab_state, tmp_path / "long", "0140000603", "1", hold_s=20.5)
        waiting = await entered(lab, "0140000603")
        overflowed = await place_call(lab_state, tmp_path / "over", "0140000604", "1",
                                      hold_s=15)  # fmt: skip
        assert (await overflowed).failed == 0
        await logged(lab, waiting, "ABANDON", 40)
        await long
        for agent in list(desk.board.agents):
            await desk.unpause(agent, ACTOR)

    with lab.queue_log.open("rb") as journal:
        journal.seek(start_offset)
        mix = tmp_path / "queue_log"
        mix.write_bytes(journal.read())
    database = f"sqlite:///{tmp_path / 'stats.sqlite3'}"
    stats("import", "--queue-log", str(mix), "--db", database)
    today = datetime.now(PARIS).date().isoformat()
    report = stats("report", "--from", today, "--to", today, "--by", "day", "--format", "json",
                   "--db", database)  # fmt: skip
    totals = report["totals"]
    assert {name: totals[name] for name in (
        "received", "closed", "overflow", "queued", "queue_calls", "presented", "answered",
        "abandoned", "short_abandoned", "timeout")} == {
        "received": 6, "closed": 1, "overflow": 1, "queued": 4, "queue_calls": 4,
        "presented": 3, "answered": 2, "abandoned": 1, "short_abandoned": 1, "timeout": 0,
    }  # fmt: skip
    assert totals["answer_rate"] == pytest.approx(2 / 3)
    assert totals["abandon_rate"] == pytest.approx(1 / 3)
    [row] = report["rows"]
    assert row["period"] == today and row["presented"] == 3
    by_ticket = stats("report", "--from", today, "--to", today, "--by", "ticket", "--format",
                      "json", "--db", database)  # fmt: skip
    tickets = {row["ticket"]: row for row in by_ticket["rows"] if row["ticket"]}
    assert set(tickets) == {TICKET}
    assert (tickets[TICKET]["presented"], tickets[TICKET]["answered"]) == (1, 1)
