"""The ACD end to end: priorities, agents' pauses, overflow rules and callbacks on real calls
(helpers in ``tests/e2e/acd.py``); agents are SIPp phones; the order of service is read in
queue_log."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lab.queue_log import read_queue_log, wait_for_queue_log
from lab.runner import Lab, LabState
from lab.sipp import SippProcess, agents_answering
from svi_acd.config.model import Settings
from tests.e2e.acd import (
    ACTOR,
    SATURE,
    acd_service,
    board_until,
    entered,
    logged,
    order_of,
    pause_all,
    rule,
    voicemail_messages,
    with_acd,
)
from tests.e2e.calls import VIP_NUMBER, SettableClock, place_call
from tests.e2e.conftest import MAILBOX, free_udp_block
from tests.e2e.runtimes import settings_for

pytestmark = pytest.mark.e2e


async def test_vip_who_arrives_last_is_answered_first(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], flow_settings: Settings,
    clock: SettableClock, tmp_path: Path,
) -> None:  # fmt: skip
    settings = with_acd(flow_settings, ())
    async with acd_service(lab, lab_state, settings, clock, tmp_path) as (_, desk):
        await pause_all(desk)
        first = await place_call(lab_state, tmp_path / "a", "0140000201", "1", hold_s=40)
        ordinary = await entered(lab, "0140000201")
        vip_call = await place_call(lab_state, tmp_path / "b", VIP_NUMBER, "", hold_s=40)
        vip = await entered(lab, VIP_NUMBER)
        snapshot = await board_until(desk, lambda snap: len(snap.queues[0].waiting) == 2)
        waiting = {caller.uniqueid: caller for caller in snapshot.queues[0].waiting}
        assert (waiting[vip].position, waiting[ordinary].position) == (1, 2)
        assert waiting[vip].vip and waiting[vip].priority == settings.vip.queue_priority
        await desk.unpause(next(iter(desk.board.agents)), ACTOR)
        await logged(lab, ordinary, "CONNECT", 40)
        assert order_of(lab, "CONNECT", [vip, ordinary]) == [vip, ordinary]
        await asyncio.gather(first, vip_call)


async def test_all_agents_busy_sends_the_next_caller_to_the_overflow_destination(
    lab: Lab, lab_state: LabState, flow_settings: Settings, clock: SettableClock,
    tmp_path: Path,
) -> None:  # fmt: skip
    rules = (
        rule("tous occupés", "aucun_agent_libre", 0, {"type": "message", "annonce": "sature"}),
    )
    settings = with_acd(flow_settings, rules)
    async with (
        agents_answering(lab_state.agents, tmp_path / "agents", 0.5, 8.0),
        acd_service(lab, lab_state, settings, clock, tmp_path) as (service, desk),
    ):
        busy = [
            await place_call(lab_state, tmp_path / f"busy{n}", f"014000030{n}", "1", hold_s=30)
            for n in (1, 2)
        ]
        for n in (1, 2):
            await logged(lab, await entered(lab, f"014000030{n}"), "CONNECT")
        await board_until(desk, lambda snap: snap.queues[0].agents_available == 0)
        late = await place_call(lab_state, tmp_path / "late", "0140000309", "1", hold_s=30)
        overflow = await wait_for_queue_log(
            lab.queue_log, lambda found: any(e.event == "SVI_OVERFLOW" for e in found), 20
        )
        [line] = [e for e in overflow if e.event == "SVI_OVERFLOW"]
        assert line.data[:2] == ("tous occupés", "message:sature")
        # Kept out of the queue: no ENTERQUEUE for that call, and the caller was hung up.
        assert not [e for e in overflow if e.call_id == line.call_id and e.event == "ENTERQUEUE"]
        record = service.recent_calls[line.call_id]
        assert record.result is not None and record.result.action == "overflow"
        assert 'SET VARIABLE SVI_DEBORD "message"' in record.commands("SET VARIABLE")
        assert (await late).failed == 0
        for call in busy:  # the agents hang up after their talk time
            assert (await call).failed == 0


async def test_caller_waiting_too_long_is_withdrawn_from_the_queue(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], flow_settings: Settings,
    clock: SettableClock, tmp_path: Path,
) -> None:  # fmt: skip
    rules = (
        rule("attente trop longue", "attente_max_s", 3, {"type": "message", "annonce": "sature"}),
    )
    settings = with_acd(flow_settings, rules)
    async with acd_service(lab, lab_state, settings, clock, tmp_path) as (_, desk):
        await pause_all(desk)
        call = await place_call(lab_state, tmp_path, "0140000401", "1", hold_s=30)
        uniqueid = await entered(lab, "0140000401")
        withdrawn = await logged(lab, uniqueid, "WITHDRAW", 20)
        journal = [e.event for e in read_queue_log(lab.queue_log) if e.call_id == uniqueid]
        assert journal.index("SVI_OVERFLOW") < journal.index("WITHDRAW")
        assert "ABANDON" not in journal
        assert int(withdrawn.data[2]) >= 3  # waited at least the rule's threshold
        assert (await call).failed == 0


async def test_callback_keeps_the_callers_place_and_calls_them_back(
    lab: Lab, lab_state: LabState, flow_settings: Settings, clock: SettableClock, tmp_path: Path,
) -> None:  # fmt: skip
    callee_port = free_udp_block(1, start=6100, end=6500)
    # The threshold leaves time for the second caller to queue behind the first one.
    rules = (rule("rappel", "attente_max_s", 6, {"type": "rappel"}),)
    settings = with_acd(flow_settings, rules, callee_port)
    async with (
        # Agents talk long enough for the callback to reach the caller's phone.
        agents_answering(lab_state.agents, tmp_path / "agents", 0.5, 4.0),
        agents_answering([("rappele", callee_port)], tmp_path / "rappele", 0.5, 2.0),
        acd_service(lab, lab_state, settings, clock, tmp_path) as (_, desk),
    ):
        await pause_all(desk)
        first = await place_call(lab_state, tmp_path / "a", "0140000501", "1", hold_s=30)
        caller = await entered(lab, "0140000501")
        # A withheld number cannot be called back: that caller stays and waits behind.
        second = await place_call(lab_state, tmp_path / "b", "anonymous", "1", hold_s=40)
        other = await entered(lab, "anonymous")
        await logged(lab, caller, "SVI_CALLBACK", 20)
        placeholder = f"{caller}-rappel;2"
        await logged(lab, placeholder, "ENTERQUEUE")
        await logged(lab, caller, "WITHDRAW")
        snapshot = await board_until(
            desk, lambda snap: any(c.callback for c in snap.queues[0].waiting)
        )
        held = sorted(snapshot.queues[0].waiting, key=lambda c: c.position)
        assert held[0].uniqueid == placeholder, "la place de l'appelant est gardée"
        assert held[1].uniqueid == other
        await desk.unpause(next(iter(desk.board.agents)), ACTOR)
        await logged(lab, placeholder, "CONNECT", 30)
        result = await logged(lab, caller, "SVI_CALLBACK_RESULT", 30)
        assert result.data[0] == "ANSWER", "le numéro de l'appelant a été rappelé et a répondu"
        await logged(lab, other, "CONNECT", 40)
        assert order_of(lab, "CONNECT", [placeholder, other]) == [placeholder, other]
        assert (await first).failed == 0
        await second


def acd_cli(lab: Lab, lab_state: LabState, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    settings = settings_for(lab.settings, "fastagi", lab_state)
    config = tmp_path / "svi.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json", by_alias=True)))
    user, secret = lab.ami_credentials()
    env = {**os.environ, "SVI_ACD_AMI_USER": user, "SVI_ACD_AMI_SECRET": secret}
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"  # the actions' audit journal
    extra = ["--db", database] if args[0] != "etat" else []
    done = subprocess.run(
        [sys.executable, "-m", "svi_acd", "acd", *args, "--config", str(config), *extra],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_agents_are_paused_and_resumed_from_the_command_line(
    lab: Lab, lab_state: LabState, tmp_path: Path
) -> None:
    code, out, err = acd_cli(lab, lab_state, tmp_path, "pause", "PJSIP/agent1", "--motif", "ticket")
    assert (code, err) == (0, ""), err
    try:
        code, out, _ = acd_cli(lab, lab_state, tmp_path, "etat", "--json")
        agents = {agent["interface"]: agent for agent in json.loads(out)["agents"]}
        assert (agents["PJSIP/agent1"]["etat"], agents["PJSIP/agent1"]["motif_pause"]) == (
            "pause", "ticket")  # fmt: skip
        assert agents["PJSIP/agent2"]["etat"] == "libre"
    finally:
        code, out, err = acd_cli(lab, lab_state, tmp_path, "reprise", "PJSIP/agent1")
    assert code == 0 and "disponible" in out
    code, _, err = acd_cli(lab, lab_state, tmp_path, "pause", "PJSIP/agent1", "--motif", "<b>")
    assert code == 2 and "motif de pause invalide" in err


async def test_overflow_to_voicemail_records_the_callers_message(
    lab: Lab, lab_state: LabState, flow_settings: Settings, clock: SettableClock, tmp_path: Path
) -> None:
    rules = (rule("messagerie", "aucun_agent_libre", 0, {"type": "messagerie", "boite": MAILBOX}),)
    settings = with_acd(flow_settings, rules)
    before = voicemail_messages(lab)
    async with acd_service(lab, lab_state, settings, clock, tmp_path) as (service, desk):
        await pause_all(desk)
        # After the beep (the prompt lasts a few seconds) the caller speaks, then hangs up.
        call = await place_call(
            lab_state, tmp_path, "0140000701", "1", speak_after_s=9, hold_s=6, audio=True
        )
        assert (await call).failed == 0
        [line] = [e for e in read_queue_log(lab.queue_log)
                  if e.event == "SVI_OVERFLOW" and e.data[0] == "messagerie"]  # fmt: skip
        assert line.data[1] == f"messagerie:{MAILBOX}"
        record = service.recent_calls[line.call_id]
        assert f'SET VARIABLE SVI_DEBORD_BOITE "{MAILBOX}"' in record.commands("SET VARIABLE")
    messages = voicemail_messages(lab) - before
    assert len(messages) == 1, "un message déposé dans la boîte vocale"
    assert "0140000701" in messages.pop().read_text(errors="replace")


async def test_a_caller_queued_by_the_fallback_path_is_withdrawn_to_the_destination_not_hung_up(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], flow_settings: Settings,
    clock: SettableClock, tmp_path: Path,
) -> None:  # fmt: skip
    """The service's FastAGI is unreachable (another instance holds the AMI link): the caller
    takes the never-silent path into the queue; an overflow rule then moves them, and that path
    must follow the destination (here voicemail, where the caller leaves a message)."""
    rules = (rule("trop long", "attente_max_s", 3, {"type": "messagerie", "boite": MAILBOX}),)
    settings = with_acd(flow_settings, rules)
    before = voicemail_messages(lab)
    async with acd_service(lab, lab_state, settings, clock, tmp_path) as (service, desk):
        await pause_all(desk)
        agi_url = (await lab.arx("dialplan show globals")).split("SVI_AGI_URL=")[1].split()[0]
        await lab.arx("dialplan set global SVI_AGI_URL agi://127.0.0.1:9/svi")
        try:
            call = await place_call(
                lab_state, tmp_path, "0140000801", "", speak_after_s=14, hold_s=6, audio=True
            )
            uniqueid = await entered(lab, "0140000801")
        finally:
            await lab.arx(f"dialplan set global SVI_AGI_URL {agi_url}")
        journal = [e.event for e in read_queue_log(lab.queue_log) if e.call_id == uniqueid]
        assert journal[0] == "SVI_FALLBACK" and uniqueid not in service.recent_calls
        await logged(lab, uniqueid, "WITHDRAW", 20)
        assert (await call).failed == 0
    messages = voicemail_messages(lab) - before
    assert len(messages) == 1, "le message de l'appelant est dans la boîte vocale"
    assert "0140000801" in messages.pop().read_text(errors="replace")


async def test_a_caller_queued_by_a_foreign_dialplan_path_is_left_in_the_queue_and_served(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], flow_settings: Settings,
    clock: SettableClock, tmp_path: Path,
) -> None:  # fmt: skip
    """A site's own extension that queues callers without following a withdrawal: the rules
    move the service's caller who waited less, and leave the other one to be served."""
    rules = (rule("trop long", "attente_max_s", 3, SATURE),)
    settings = with_acd(flow_settings, rules)
    exten = "3099"
    await lab.arx(f"dialplan add extension {exten},1,Queue(${{SVI_DEFAULT_QUEUE}}) into appelants")
    try:
        async with acd_service(lab, lab_state, settings, clock, tmp_path) as (_, desk):
            await pause_all(desk)
            foreign_call = await place_call(
                lab_state, tmp_path / "a", "0140000901", "", exten=exten, hold_s=40
            )
            foreign = await entered(lab, "0140000901")
            ours_call = await place_call(lab_state, tmp_path / "b", "0140000902", "1", hold_s=30)
            ours = await entered(lab, "0140000902")
            await logged(lab, ours, "WITHDRAW", 20)
            journal = [e.event for e in read_queue_log(lab.queue_log) if e.call_id == foreign]
            assert "WITHDRAW" not in journal and "SVI_OVERFLOW" not in journal
            assert not desk.board.callers[foreign].movable
            await desk.unpause(next(iter(desk.board.agents)), ACTOR)
            await logged(lab, foreign, "CONNECT", 20)
            assert (await ours_call).failed == 0
            await foreign_call
    finally:
        await lab.arx(f"dialplan remove extension {exten}@appelants")
