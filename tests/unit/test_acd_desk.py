"""The ACD over a scripted AMI: the board follows app_queue's events, supervisors' requests
become the right AMI actions, and overflow moves are journaled before they are carried out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from svi_acd.acd.control import AcdError
from svi_acd.config.model import OverflowRule, Settings
from tests.unit.fake_acd import NOW, event, join, member, queue_status, started_desk, until
from tests.unit.fake_ami import FakeAmi


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    yield server
    await server.stop()


async def test_board_is_rebuilt_from_queue_status_at_login(
    fake: FakeAmi, settings: Settings
) -> None:
    desk = await started_desk(fake, settings, ["agent1", "agent2"], [("c1", 1, 30)])
    snapshot = desk.snapshot()
    assert [agent.name for agent, _ in snapshot.agents] == ["agent1", "agent2"]
    [queue] = snapshot.queues
    assert (queue.agents_available, len(queue.waiting)) == (2, 1)
    assert queue.waiting[0].entered == pytest.approx(NOW - 30, abs=1)
    await desk.ami.close()


async def test_agent_states_follow_member_events(fake: FakeAmi, settings: Settings) -> None:
    desk = await started_desk(fake, settings, ["agent1"])
    await fake.send(member("agent1", status=6))
    await until(desk, lambda: desk.snapshot().agents[0][1] == "sonnerie")
    await fake.send(member("agent1", status=2, in_call=1))
    await until(desk, lambda: desk.snapshot().agents[0][1] == "en_appel")
    await fake.send(member("agent1", paused=1, reason="ticket", event_name="QueueMemberPause"))
    await until(desk, lambda: desk.snapshot().agents[0][1] == "pause")
    assert desk.snapshot().agents[0][0].pause_reason == "ticket"
    await fake.send(member("agent1", event_name="QueueMemberRemoved"))
    await until(desk, lambda: desk.snapshot().agents[0][1] == "deconnecte")
    await desk.ami.close()


async def test_wrap_up_after_a_queue_call(fake: FakeAmi, settings: Settings) -> None:
    desk = await started_desk(fake, settings, ["agent1"])
    await fake.send(event(Event="AgentComplete", Queue="support", Interface="PJSIP/agent1",
                          MemberName="agent1", Timestamp=f"{NOW:.6f}"))  # fmt: skip
    wrapup = settings.queues["support"].wrapup_s
    await until(desk, lambda: desk.board.agents["PJSIP/agent1"].wrapup_until == NOW + wrapup)
    assert desk.snapshot().agents[0][1] == "post_appel"
    await desk.ami.close()


async def test_positions_move_up_when_a_caller_leaves(fake: FakeAmi, settings: Settings) -> None:
    desk = await started_desk(fake, settings, ["agent1"])
    for position, uniqueid in enumerate(("c1", "c2", "c3"), start=1):
        await fake.send(join(uniqueid, position))
    await until(desk, lambda: len(desk.board.callers) == 3)
    # A VIP joins at the head: everybody moves down one.
    await fake.send(join("vip", 1))
    await until(desk, lambda: "vip" in desk.board.callers)
    assert {u: c.position for u, c in desk.board.callers.items()} == {
        "vip": 1, "c1": 2, "c2": 3, "c3": 4}  # fmt: skip
    await fake.send(event(Event="QueueCallerAbandon", Queue="support", Uniqueid="c1",
                          Position=2, OriginalPosition=1, HoldTime=4))  # fmt: skip
    await until(desk, lambda: "c1" not in desk.board.callers)
    assert {u: c.position for u, c in desk.board.callers.items()} == {"vip": 1, "c2": 2, "c3": 3}
    await desk.ami.close()


async def test_pause_with_a_reason_is_a_queue_pause_journaled_with_the_actor(
    fake: FakeAmi, settings: Settings
) -> None:
    desk = await started_desk(fake, settings, ["agent1"])
    await desk.pause("PJSIP/agent1", "formation", "marie")
    sent = await fake.wait_action("QueuePause")
    assert (sent["Interface"], sent["Paused"], sent["Reason"]) == (
        "PJSIP/agent1", "true", "formation")  # fmt: skip
    assert (desk.journal[-1].actor, desk.journal[-1].action) == ("marie", "pause_agent")
    with pytest.raises(AcdError, match="motif de pause invalide"):
        await desk.pause("PJSIP/agent1", "<script>", "marie")
    with pytest.raises(AcdError, match="interface d'agent invalide"):
        await desk.pause("agent1; rm -rf", "pause", "marie")
    await desk.ami.close()


async def test_login_adds_the_member_to_every_queue_and_refuses_unknown_queues(
    fake: FakeAmi, settings: Settings
) -> None:
    desk = await started_desk(fake, settings, [])
    await desk.login("PJSIP/agent9", "marie", name="Agent 9")
    sent = await fake.wait_action("QueueAdd")
    assert (sent["Queue"], sent["Interface"], sent["MemberName"]) == (
        "support", "PJSIP/agent9", "Agent 9")  # fmt: skip
    with pytest.raises(AcdError, match="file inconnue"):
        await desk.login("PJSIP/agent9", "marie", ["inconnue"])
    await desk.ami.close()


async def test_priority_change_of_a_waiting_caller(fake: FakeAmi, settings: Settings) -> None:
    desk = await started_desk(fake, settings, ["agent1"], [("c1", 1, 5)])
    await desk.change_priority("c1", 10, "marie")
    sent = await fake.wait_action("QueueChangePriorityCaller")
    assert (sent["Caller"], sent["Priority"], sent["Immediate"]) == (
        "PJSIP/appelants-c1", "10", "yes")  # fmt: skip
    assert desk.board.callers["c1"].priority == 10
    with pytest.raises(AcdError, match="aucun appelant"):
        await desk.change_priority("absent", 10, "marie")
    await desk.ami.close()


def rules(*items: tuple[str, str, float, dict[str, str]]) -> tuple[OverflowRule, ...]:
    return tuple(
        OverflowRule.model_validate({"nom": name, "file": "support", "condition": condition,
                                     "seuil": threshold, "destination": destination})
        for name, condition, threshold, destination in items
    )  # fmt: skip


async def test_overflow_journals_then_sets_the_destination_then_withdraws(
    fake: FakeAmi, settings: Settings
) -> None:
    configured = settings.model_copy(update={"overflow": rules(
        ("trop long", "attente_max_s", 60, {"type": "message", "annonce": "sature"}))})  # fmt: skip
    desk = await started_desk(fake, configured, ["agent1"], [("c1", 1, 90), ("c2", 2, 10)])
    moves = desk.overflow_tick()
    assert [move.caller.uniqueid for move in moves if move.caller] == ["c1"]
    await fake.wait_action("QueueWithdrawCaller")
    names = [r.action["Action"] for r in fake.received
             if r.action["Action"] in ("QueueLog", "Setvar", "QueueWithdrawCaller")]  # fmt: skip
    assert names == ["QueueLog", "Setvar", "QueueWithdrawCaller"]
    log = fake.actions("QueueLog")[0].action
    assert (log["Event"], log["Uniqueid"], log["Message"]) == (
        "SVI_OVERFLOW", "c1", "trop long|message:sature")  # fmt: skip
    assert fake.variables["SVI_DEBORD_SON"] == "/sons/sature"
    # The same caller is not moved twice while the withdrawal is under way.
    assert desk.overflow_tick() == []
    await desk.ami.close()


async def test_callers_queued_by_another_dialplan_path_are_left_in_the_queue(
    fake: FakeAmi, settings: Settings
) -> None:
    """Withdrawn, a caller whose dialplan does not follow the withdrawal would be hung up in
    silence: only callers waiting in the generated queue context are moved."""
    configured = settings.model_copy(update={"overflow": rules(
        ("trop long", "attente_max_s", 60, {"type": "message", "annonce": "sature"}))})  # fmt: skip
    desk = await started_desk(fake, configured, ["agent1"], [("c1", 1, 90), ("c2", 2, 90)],
                              contexts={"c1": "from-site-dialplan"})  # fmt: skip
    await fake.send(join("c3", 3, context="from-site-dialplan"))
    await until(desk, lambda: "c3" in desk.board.callers)
    assert {uid: c.movable for uid, c in desk.board.callers.items()} == {
        "c1": False, "c2": True, "c3": False}  # fmt: skip
    moves = desk.overflow_tick()
    assert [move.caller.uniqueid for move in moves if move.caller] == ["c2"]
    await desk.ami.close()


async def test_without_the_channels_contexts_nobody_is_moved(
    fake: FakeAmi, settings: Settings
) -> None:
    configured = settings.model_copy(update={"overflow": rules(
        ("trop long", "attente_max_s", 60, {"type": "message", "annonce": "sature"}))})  # fmt: skip
    desk = await started_desk(fake, configured, ["agent1"])
    # After a reconnection, a caller is waiting but Asterisk refuses to list the channels.
    fake.on("QueueStatus", queue_status(["agent1"], [("c1", 1, 90)]))
    fake.on(
        "CoreShowChannels",
        lambda fake, action: fake.send(
            event(Response="Error", ActionID=action["ActionID"], Message="Permission denied")
        ),
    )
    await desk.resync()
    assert "c1" in desk.board.callers
    assert desk.overflow_tick() == []
    await desk.ami.close()


async def test_callback_places_a_placeholder_at_the_callers_position(
    fake: FakeAmi, settings: Settings
) -> None:
    configured = settings.model_copy(update={"overflow": rules(
        ("rappel", "attente_max_s", 60, {"type": "rappel"}))})  # fmt: skip
    desk = await started_desk(fake, configured, ["agent1"], [("c0", 1, 10), ("c1", 2, 90)])
    desk.overflow_tick()
    await fake.wait_action("QueueWithdrawCaller")
    originate = fake.actions("Originate")[0].action
    assert originate["ChannelId"] == "c1-rappel"
    assert (originate["Async"], originate["Channel"]) == ("true", "Local/place@svi-rappel/n")
    assert originate["CallerID"] == '"Rappel" <0140000000>'
    events = [r.action.get("Event") for r in fake.actions("QueueLog")]
    assert events == ["SVI_OVERFLOW", "SVI_CALLBACK"]
    # The caller hears the confirmation before being hung up.
    assert fake.variables["SVI_DEBORD_SON"] == f"/sons/{settings.callback.prompt}"
    await desk.ami.close()


async def test_switching_a_rule_off_stops_it(fake: FakeAmi, settings: Settings) -> None:
    configured = settings.model_copy(update={"overflow": rules(
        ("trop long", "attente_max_s", 60, {"type": "message", "annonce": "sature"}))})  # fmt: skip
    desk = await started_desk(fake, configured, ["agent1"], [("c1", 1, 90)])
    await desk.switch_overflow_rule("trop long", False, "marie")
    assert desk.overflow_tick() == []
    assert desk.overflow_rules()[0]["actif"] is False
    with pytest.raises(AcdError, match="inconnue"):
        await desk.switch_overflow_rule("absente", True, "marie")
    await desk.ami.close()


async def test_no_overflow_on_stale_state_when_the_link_is_down(
    fake: FakeAmi, settings: Settings
) -> None:
    configured = settings.model_copy(update={"overflow": rules(
        ("personne", "aucun_agent", 0, {"type": "message", "annonce": "sature"}))})  # fmt: skip
    desk = await started_desk(fake, configured, [])
    assert desk.at_entry("support", "0140000000") is not None
    await fake.drop()
    await until(desk, lambda: not desk.board.connected)
    assert desk.at_entry("support", "0140000000") is None
    assert desk.overflow_tick() == []
    await desk.ami.close()


async def test_agent_who_lets_calls_ring_is_paused_after_the_configured_count(
    fake: FakeAmi, settings: Settings
) -> None:
    limit = settings.queues["support"].max_unanswered_before_pause
    assert limit >= 2
    desk = await started_desk(fake, settings, ["agent1"])
    missed = event(Event="AgentRingNoAnswer", Queue="support", Interface="PJSIP/agent1",
                   MemberName="agent1", RingTime=15)  # fmt: skip
    connected = event(Event="AgentConnect", Queue="support", Interface="PJSIP/agent1",
                      MemberName="agent1", HoldTime=3)  # fmt: skip
    # An answered call in between starts the count again.
    await fake.send(*[missed] * (limit - 1), connected, *[missed] * (limit - 1))
    await fake.send(missed)
    sent = await fake.wait_action("QueuePause")
    assert (sent["Interface"], sent["Reason"]) == ("PJSIP/agent1", "absence")
    assert len(fake.actions("QueuePause")) == 1
    await until(desk, lambda: bool(desk.journal))
    assert desk.journal[-1].actor == "système"
    await desk.ami.close()


async def test_caller_who_becomes_vip_while_waiting_moves_up(
    fake: FakeAmi, settings: Settings
) -> None:
    desk = await started_desk(fake, settings, ["agent1"], [("c1", 1, 30), ("c2", 2, 10)])
    changed = await desk.reprioritize(lambda number: 10 if number == "0140000000" else 0)
    assert changed == 2  # both test callers share the listed number
    assert {r.action["Priority"] for r in fake.actions("QueueChangePriorityCaller")} == {"10"}
    assert all(caller.vip for caller in desk.board.callers.values())
    # Already at that priority: nothing more is sent.
    assert await desk.reprioritize(lambda number: 10) == 0
    await desk.ami.close()
