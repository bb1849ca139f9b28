"""A desk on a scripted AMI: app_queue's events and ``QueueStatus`` answers, built by hand."""

from __future__ import annotations

from collections.abc import Callable

from svi_acd.acd.desk import Desk
from svi_acd.asterisk.ami import AmiConnection
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


def join(uniqueid: str, position: int, number: str = "0140000000") -> bytes:
    return event(Event="QueueCallerJoin", Queue="support", Uniqueid=uniqueid,
                 Channel=f"PJSIP/appelants-{uniqueid}", CallerIDNum=number,
                 Position=position, Count=position, Timestamp=f"{NOW:.6f}")  # fmt: skip


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
                       callers: list[tuple[str, int, int]] = ()) -> Desk:  # fmt: skip
    fake.on("QueueStatus", queue_status(agents, list(callers)))
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
