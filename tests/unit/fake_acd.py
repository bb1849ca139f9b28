"""A desk on a scripted AMI: app_queue's events and ``QueueStatus`` answers, built by hand."""

from __future__ import annotations

from collections.abc import Callable

from svi_acd.acd.desk import Desk
from svi_acd.asterisk.ami import AmiConnection
from svi_acd.asterisk.contract import QUEUE_CONTEXT
from svi_acd.asterisk.link import AmiCredentials, AmiOptions
from svi_acd.config.model import Settings
from tests.unit.fake_ami import Action, FakeAmi, frame

NOW = 1_800_000_000.0


def event(**fields: str | int) -> bytes:
    return frame(**fields)


def member(
    name: str, status: int = 1, paused: int = 0, in_call: int = 0, reason: str = "",
    event_name: str = "QueueMemberStatus", **extra: str | int,
) -> bytes:  # fmt: skip
    return event(Event=event_name, Queue="support", MemberName=name, Interface=f"PJSIP/{name}",
                 Status=status, Paused=paused, PausedReason=reason, InCall=in_call,
                 CallsTaken=0, LastCall=0, Timestamp=f"{NOW:.6f}", **extra)  # fmt: skip


def join(
    uniqueid: str, position: int, number: str = "0140000000", context: str = QUEUE_CONTEXT
) -> bytes:
    """app_queue's QueueCallerJoin; ``context``: where the caller's Queue() runs."""
    return event(Event="QueueCallerJoin", Queue="support", Uniqueid=uniqueid,
                 Channel=f"PJSIP/appelants-{uniqueid}", CallerIDNum=number,
                 Position=position, Count=position, Context=context,
                 Timestamp=f"{NOW:.6f}")  # fmt: skip


def core_show_channels(contexts: dict[str, str]):
    """A CoreShowChannels responder: one channel per (uniqueid, context)."""

    async def respond(fake: FakeAmi, action: Action) -> None:
        action_id = action["ActionID"]
        await fake.send(frame(Response="Success", ActionID=action_id, EventList="start",
                              Message="Channels will follow"))  # fmt: skip
        for uniqueid, context in contexts.items():
            await fake.send(event(Event="CoreShowChannel", Uniqueid=uniqueid, Context=context,
                                  Channel=f"PJSIP/appelants-{uniqueid}", Application="Queue",
                                  ActionID=action_id))  # fmt: skip
        await fake.send(event(Event="CoreShowChannelsComplete", ActionID=action_id,
                              EventList="Complete", ListItems=len(contexts)))  # fmt: skip

    return respond


def queue_status(agents: list[str], callers: list[tuple[str, int, int]]):
    """A QueueStatus responder: members, then callers (uniqueid, position, wait)."""

    async def respond(fake: FakeAmi, action: Action) -> None:
        action_id = action["ActionID"]
        await fake.send(frame(Response="Success", ActionID=action_id, EventList="start",
                              Message="Queue status will follow"))  # fmt: skip
        for name in agents:
            await fake.send(event(Event="QueueMember", Queue="support", Name=name,
                                  Location=f"PJSIP/{name}", Status=1, Paused=0, InCall=0,
                                  ActionID=action_id))  # fmt: skip
        for uniqueid, position, wait in callers:
            await fake.send(event(Event="QueueEntry", Queue="support", Uniqueid=uniqueid,
                                  Position=position, Channel=f"PJSIP/appelants-{uniqueid}",
                                  CallerIDNum="0140000000", Wait=wait, Priority=0,
                                  ActionID=action_id))  # fmt: skip
        count = len(agents) + len(callers)
        await fake.send(event(Event="QueueStatusComplete", ActionID=action_id,
                              EventList="Complete", ListItems=count))  # fmt: skip

    return respond


async def started_desk(fake: FakeAmi, settings: Settings, agents: list[str],
                       callers: list[tuple[str, int, int]] = (),
                       contexts: dict[str, str] | None = None) -> Desk:  # fmt: skip
    """A desk logged in to ``fake``; callers wait in the queue context unless ``contexts``
    says otherwise."""
    fake.on("QueueStatus", queue_status(agents, list(callers)))
    where = {uniqueid: QUEUE_CONTEXT for uniqueid, _, _ in callers} | (contexts or {})
    fake.on("CoreShowChannels", core_show_channels(where))
    port = await fake.start()
    ami = AmiConnection(AmiOptions("127.0.0.1", port, AmiCredentials("svi", "secret"),
                                   event_classes=("agent",)))  # fmt: skip
    desk = Desk(settings, ami, lambda prompt: f"/sons/{prompt}", clock=lambda: NOW)
    desk.attach()
    ami.start()
    await until(desk, lambda: desk.board.connected)
    return desk


async def until(desk: Desk, condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    version = desk.board.version
    for _ in range(200):
        if condition():
            return
        version = await desk.wait_change(version, timeout_s / 50)
    raise AssertionError("condition jamais atteinte")
