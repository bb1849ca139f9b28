"""The call flow end to end: real Asterisk, real SIPp callers and agents, the real service.

Each test places a call to the support number and checks what happened from three sides:
Asterisk's queue_log (the journal statistics read), the AGI commands the service sent (what
the caller heard) and the channel variables the service left for the dialplan.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lab.queue_log import read_queue_log
from lab.runner import Lab, LabState
from lab.sipp import SippProcess
from svi_acd.config.model import Settings
from svi_acd.directory.store import replace_directory
from svi_acd.routing.directory import DirectoryEntry
from svi_acd.service import RunningService, ServiceOptions
from svi_acd.stats.tables import StatsCall
from tests.e2e.calls import (
    PARIS,
    VIP_NUMBER,
    SettableClock,
    events,
    first_new_call,
    journal_until,
    no_missing_sound_warnings,
    place_call,
    record_for,
    serve_process,
    sound_of,
    wait_ready,
)
from tests.e2e.runtimes import RUNTIMES, Runtime, lab_runtime, service_with, settings_for

pytestmark = pytest.mark.e2e


@pytest.fixture(params=RUNTIMES)
async def service(
    request: pytest.FixtureRequest, lab: Lab, lab_state: LabState, flow_settings: Settings,
    clock: SettableClock, tmp_path: Path,
) -> AsyncIterator[RunningService]:  # fmt: skip
    """The service in-process, once per AGI runtime: the same flow tests pass on both."""
    runtime: Runtime = request.param
    settings = settings_for(flow_settings, runtime, lab_state)
    options = ServiceOptions(
        f"sqlite:///{tmp_path / 'svi.sqlite3'}", clock=clock, queue_log=str(lab.queue_log)
    )
    async with (
        lab_runtime(lab, lab_state, runtime),
        service_with(settings, options, lab) as running,
    ):
        vip = DirectoryEntry("+33612345678", "Marie Dupont", "DG", "Paris", "VIP")
        await replace_directory(running.engine, [vip], source="test", imported_by="test")
        await running.refresh_directory()
        yield running


async def test_caller_presses_1_is_queued_and_answered_by_an_agent(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], service: RunningService,
    tmp_path: Path,
) -> None:  # fmt: skip
    sipp = await place_call(lab_state, tmp_path, "0140000101", "1")
    record = await record_for(service, "0140000101")
    journal = await journal_until(lab, record.uniqueid, "CONNECT")
    assert (await sipp).failed == 0
    # The digit interrupted the welcome menu (type-ahead), no fallback was needed.
    [menu] = record.commands("GET OPTION")
    assert menu.startswith(f"GET OPTION {sound_of(service, 'accueil')} ")
    assert record.result is not None and record.result.variables["branche"] == "incident"
    assert events(journal)[:4] == ["SVI_CALL", "SVI_BRANCH", "ENTERQUEUE", "CONNECT"]
    assert ("SVI_BRANCH", ("incident",)) in journal
    assert "SVI_FALLBACK" not in events(journal)
    assert 'SET VARIABLE SVI_FLOW_DONE "1"' in record.commands("SET VARIABLE")


async def test_wrong_digit_then_silence_follow_the_invalid_and_no_input_branches(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], service: RunningService,
    tmp_path: Path,
) -> None:  # fmt: skip
    sipp = await place_call(lab_state, tmp_path, "0140000102", "9")
    record = await record_for(service, "0140000102", timeout_s=30)
    journal = await journal_until(lab, record.uniqueid, "CONNECT")
    await sipp
    played = [
        c.split()[2] for c in record.commands() if c.startswith(("STREAM FILE", "GET OPTION"))
    ]
    assert played == [
        sound_of(service, "accueil"),
        sound_of(service, "choix_invalide"), sound_of(service, "accueil"),
        sound_of(service, "sans_reponse"), sound_of(service, "accueil"),
    ]  # fmt: skip
    assert ("SVI_BRANCH", ("defaut",)) in journal
    assert "ENTERQUEUE" in events(journal)


async def test_vip_skips_the_menu_and_is_queued_with_priority(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], service: RunningService,
    tmp_path: Path,
) -> None:  # fmt: skip
    sipp = await place_call(lab_state, tmp_path, VIP_NUMBER)
    record = await record_for(service, VIP_NUMBER)
    journal = await journal_until(lab, record.uniqueid, "CONNECT")
    await sipp
    assert not record.commands("GET OPTION")  # no menu
    prio = service.settings.vip.queue_priority
    assert f'SET VARIABLE QUEUE_PRIO "{prio}"' in record.commands("SET VARIABLE")
    assert ("SVI_CALL", ("FR", "P0")) in journal
    assert ("SVI_VIP", ("VIP",)) in journal
    assert ("SVI_BRANCH", ("vip",)) in journal


async def test_out_of_hours_caller_hears_closed_message_and_next_opening_then_is_hung_up(
    lab: Lab, lab_state: LabState, service: RunningService, clock: SettableClock,
    tmp_path: Path,
) -> None:  # fmt: skip
    clock.moment = datetime(2026, 7, 10, 19, 0, tzinfo=PARIS)  # Friday evening
    loop = asyncio.get_running_loop()
    started = loop.time()
    sipp = await place_call(lab_state, tmp_path, "0140000104", hold_s=60)
    record = await record_for(service, "0140000104")
    result = await sipp
    assert loop.time() - started < 30  # Asterisk hung up; the caller did not wait 60 s
    assert result.failed == 0
    monday = int(datetime(2026, 7, 13, 8, 0, tzinfo=PARIS).timestamp())
    assert record.commands("STREAM FILE")[:2] == [
        f'STREAM FILE {sound_of(service, "ferme")} ""',
        f'STREAM FILE {sound_of(service, "prochaine_ouverture")} ""',
    ]
    [said] = record.commands("SAY DATETIME")
    assert said.startswith(f"SAY DATETIME {monday} ") and said.endswith(" Europe/Paris")
    journal = await journal_until(lab, record.uniqueid, "SVI_CLOSED")
    assert ("SVI_CLOSED", ("desk_hours", "")) in journal
    assert "ENTERQUEUE" not in events(journal)


async def test_martinique_caller_outside_its_window_hears_its_local_time(
    lab: Lab, lab_state: LabState, service: RunningService, clock: SettableClock,
    tmp_path: Path,
) -> None:  # fmt: skip
    clock.moment = datetime(2026, 7, 8, 12, 0, tzinfo=PARIS)  # 06:00 in Fort-de-France
    sipp = await place_call(lab_state, tmp_path, "0696201234", hold_s=60)
    record = await record_for(service, "0696201234")
    await sipp
    two_pm_paris = int(datetime(2026, 7, 8, 14, 0, tzinfo=PARIS).timestamp())
    [said] = record.commands("SAY DATETIME")
    assert said.startswith(f"SAY DATETIME {two_pm_paris} ")
    assert said.endswith(" America/Martinique")
    journal = await journal_until(lab, record.uniqueid, "SVI_TERRITORY_CLOSED")
    assert ("SVI_TERRITORY_CLOSED", ("territory_hours", "MQ")) in journal
    assert "ENTERQUEUE" not in events(journal)


async def test_ticket_number_typed_in_the_menu_is_recorded_for_the_call(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], service: RunningService,
    tmp_path: Path,
) -> None:  # fmt: skip
    sipp = await place_call(lab_state, tmp_path, "0140000106", "320261234#")
    record = await record_for(service, "0140000106", timeout_s=20)
    journal = await journal_until(lab, record.uniqueid, "CONNECT")
    await sipp
    assert 'SET VARIABLE SVI_TICKET "20261234"' in record.commands("SET VARIABLE")
    assert ("SVI_TICKET", ("20261234", "")) in journal
    assert ("SVI_BRANCH", ("suivi",)) in journal


async def test_a_caller_who_types_no_ticket_hears_the_retry_then_is_queued_without_fallback(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], service: RunningService,
    tmp_path: Path,
) -> None:  # fmt: skip
    sipp = await place_call(lab_state, tmp_path, "0140000111", "3", wait_s=2, hold_s=20)
    record = await record_for(service, "0140000111", timeout_s=30)
    journal = await journal_until(lab, record.uniqueid, "ENTERQUEUE")
    await sipp
    assert record.error is None and record.result is not None
    # Asterisk answers "200 result= (timeout)" twice: an empty entry, not a hang-up.
    replies = [reply for command, reply in record.trace if command.startswith("GET DATA")]
    assert [reply.strip() for reply in replies] == ["200 result= (timeout)"] * 2
    played = " ".join(command for command, _ in record.trace)
    assert sound_of(service, "ticket_sans_reponse") in played
    assert (record.result.action, record.result.variables["branche"]) == ("queue", "suivi")
    assert "SVI_FALLBACK" not in events(journal)
    assert "SVI_TICKET" not in events(journal)
    assert ("SVI_BRANCH", ("suivi",)) in journal


async def test_an_over_long_ticket_number_is_refused_not_cut_to_twelve_digits(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], service: RunningService,
    tmp_path: Path,
) -> None:  # fmt: skip
    over_long = "20261234567890123456789012345"  # 29 digits; the maximum is 12
    sipp = await place_call(lab_state, tmp_path, "0140000112", f"3{over_long}#", hold_s=25)
    record = await record_for(service, "0140000112", timeout_s=40)
    journal = await journal_until(lab, record.uniqueid, "ENTERQUEUE")
    await sipp
    assert record.error is None and record.result is not None
    first_entry = next(reply for command, reply in record.trace if command.startswith("GET DATA"))
    assert first_entry.strip() == f"200 result={over_long}"  # read whole…
    assert sound_of(service, "ticket_invalide") in " ".join(c for c, _ in record.trace)
    assert not record.commands("SET VARIABLE SVI_TICKET")  # …and refused
    assert "SVI_TICKET" not in events(journal)
    assert "SVI_FALLBACK" not in events(journal)
    assert (record.result.action, record.result.variables["branche"]) == ("queue", "suivi")


async def test_the_service_counts_the_call_in_its_statistics_while_it_runs(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], service: RunningService,
    tmp_path: Path,
) -> None:  # fmt: skip
    sipp = await place_call(lab_state, tmp_path, "0140000109", "4")
    record = await record_for(service, "0140000109")
    await journal_until(lab, record.uniqueid, "COMPLETEAGENT")
    await sipp
    query = select(StatsCall).where(StatsCall.callid == record.uniqueid)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        async with AsyncSession(service.engine) as session:
            call = (await session.execute(query)).scalar_one_or_none()
        if call is not None and call.outcome is not None:
            break
        assert loop.time() < deadline, "l'appel n'a pas été importé par le service"
        await asyncio.sleep(0.2)
    assert (call.outcome, call.branch, call.territory, call.queue) == (
        "answered", "telephonie", "FR", "support",
    )  # fmt: skip
    assert call.agent in {name for name, _ in lab_state.agents}


async def test_the_prompts_the_service_plays_exist_for_asterisk(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], service: RunningService,
    tmp_path: Path,
) -> None:  # fmt: skip
    sipp = await place_call(lab_state, tmp_path, "0140000107", "1")
    record = await record_for(service, "0140000107")
    await journal_until(lab, record.uniqueid, "CONNECT")
    await sipp
    assert all(reply.startswith("200 result=") for _, reply in record.trace)
    assert not any("result=-1" in reply for _, reply in record.trace)
    assert no_missing_sound_warnings(lab) == []


async def test_service_killed_in_the_middle_of_the_menu_caller_still_reaches_an_agent(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], flow_settings: Settings,
    tmp_path: Path,
) -> None:  # fmt: skip
    process = serve_process(flow_settings, tmp_path)
    try:
        await wait_ready(process)
        known = len(read_queue_log(lab.queue_log))
        # The caller presses nothing: the service holds the call in its menu.
        sipp = await place_call(lab_state, tmp_path, "0140000108", hold_s=40)
        uniqueid = await first_new_call(lab, "SVI_CALL", known)
        os.kill(process.pid, signal.SIGKILL)
        journal = await journal_until(lab, uniqueid, "CONNECT")
        assert (await sipp).failed == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    assert events(journal)[:2] == ["SVI_CALL", "SVI_FALLBACK"]
    assert "ENTERQUEUE" in events(journal)
