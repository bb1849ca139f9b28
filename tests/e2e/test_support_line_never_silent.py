"""Real calls: whatever the service does, a caller of the support number reaches the queue.

Each test places an SIPp call to the real Asterisk and checks Asterisk's queue_log for that
caller's call (ENTERQUEUE then CONNECT), not only SIPp's exit code.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lab.queue_log import (
    QueueLogEntry,
    call_ids_for_caller,
    caller_reached,
    events_for_call,
    wait_for_queue_log,
)
from lab.runner import Lab, LabState
from lab.sipp import Call, CallerScript, SippProcess, SippResult, run_callers
from svi_acd.asterisk.confgen.dialplan import flow_guard_s
from tests.e2e.fake_agi import (
    crash_after_answer,
    fake_agi,
    finish_flow_to_queue,
    silent_until_hangup,
)

pytestmark = pytest.mark.e2e


async def call_until_connected(
    lab: Lab, state: LabState, tmp_path: Path, caller: str, script: CallerScript | None = None
) -> tuple[list[QueueLogEntry], str, SippResult]:
    """Place one call, wait for its CONNECT in the queue_log, then for SIPp to finish."""
    script = script or CallerScript(calls=(Call(caller),), exten=state.support_exten, hold_s=20)
    sipp = asyncio.create_task(run_callers(script, state.sip_port, tmp_path / "caller"))
    try:
        entries = await wait_for_queue_log(
            lab.queue_log, lambda found: caller_reached(found, caller, "CONNECT"), timeout_s=20
        )
    except BaseException:
        sipp.cancel()
        raise
    result = await sipp  # the agent hangs up after its talk time
    return entries, call_ids_for_caller(entries, caller)[-1], result


async def test_lab_answers_on_loopback(lab: Lab, lab_state: LabState) -> None:
    assert "Asterisk 22" in await lab.arx("core show version")
    queues = await lab.arx("queue show support")
    assert all(name in queues for name, _ in lab_state.agents)
    again, started = await lab.astart()
    assert not started and again.pid == lab_state.pid  # up is idempotent


async def test_ami_accepts_the_lab_credentials_on_loopback(lab: Lab, lab_state: LabState) -> None:
    user, secret = lab.ami_credentials()
    reader, writer = await asyncio.open_connection("127.0.0.1", lab_state.ami_port)
    try:
        assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"Asterisk Call Manager")
        login = f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n\r\n"
        writer.write(login.encode())
        await writer.drain()
        reply = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert b"Response: Success" in reply
    finally:
        writer.close()
        await writer.wait_closed()


async def test_service_down_caller_hears_default_message_and_reaches_an_agent(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], tmp_path: Path
) -> None:
    entries, call_id, result = await call_until_connected(lab, lab_state, tmp_path, "0140000001")
    events = events_for_call(entries, call_id)
    assert events[:3] == ["SVI_FALLBACK", "ENTERQUEUE", "CONNECT"]
    fallback = next(e for e in entries if e.call_id == call_id and e.event == "SVI_FALLBACK")
    assert fallback.queue == "support" and fallback.data == ("FAILURE",)
    assert (result.successful, result.failed) == (1, 0)
    await wait_for_queue_log(
        lab.queue_log,
        lambda found: "COMPLETEAGENT" in events_for_call(found, call_id),
        timeout_s=5,
    )


async def test_service_dying_mid_call_still_queues_the_caller(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], tmp_path: Path
) -> None:
    async with fake_agi(lab.agi_endpoint[1], crash_after_answer) as calls:
        entries, call_id, _ = await call_until_connected(lab, lab_state, tmp_path, "0140000002")
    assert [call["agi_uniqueid"] for call in calls] == [call_id]
    fallback = [e for e in entries if e.call_id == call_id and e.event == "SVI_FALLBACK"]
    # A FastAGI peer that drops the connection leaves AGISTATUS=SUCCESS: the flow mark decides.
    assert [e.data for e in fallback] == [("SUCCESS",)]


async def test_completed_flow_queues_where_the_service_said_without_fallback(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], tmp_path: Path
) -> None:
    async with fake_agi(lab.agi_endpoint[1], finish_flow_to_queue) as calls:
        entries, call_id, _ = await call_until_connected(lab, lab_state, tmp_path, "0140000003")
    assert len(calls) == 1
    assert calls[0]["agi_callerid"] == "0140000003"
    assert calls[0]["agi_extension"] == lab_state.support_exten
    assert events_for_call(entries, call_id)[:2] == ["ENTERQUEUE", "CONNECT"]


async def test_stuck_service_is_cut_by_the_guard_timer(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], tmp_path: Path
) -> None:
    await lab.arx("dialplan set global SVI_FLOW_GUARD_S 2")
    try:
        async with fake_agi(lab.agi_endpoint[1], silent_until_hangup):
            entries, call_id, _ = await call_until_connected(lab, lab_state, tmp_path, "0140000004")
    finally:
        guard_s = flow_guard_s(lab.settings, lab.dialplan)
        await lab.arx(f"dialplan set global SVI_FLOW_GUARD_S {guard_s}")
    fallback = next(e for e in entries if e.call_id == call_id and e.event == "SVI_FALLBACK")
    assert fallback.data == ("HANGUP",)
    # The uniqueid starts with the call's creation time (s): the guard fired 2 s later.
    assert fallback.time - int(call_id.split(".")[0]) >= 2


async def test_pure_dialplan_menu_takes_rfc2833_digits(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], tmp_path: Path
) -> None:
    script = CallerScript(
        calls=(Call("0140000005", digits="1"),), exten=lab_state.menu_exten, wait_s=1, hold_s=20
    )
    entries, call_id, _ = await call_until_connected(lab, lab_state, tmp_path, "0140000005", script)
    # The menu prompt lasts 16 s: queueing within a few seconds means the digit was heard.
    enter = next(e for e in entries if e.call_id == call_id and e.event == "ENTERQUEUE")
    assert enter.time - float(call_id.split(".")[0]) < 8
    assert "SVI_FALLBACK" not in events_for_call(entries, call_id)
