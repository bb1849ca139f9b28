"""Keep the board in step with app_queue: its AMI events, and a full ``QueueStatus`` at login.

Events used (class ``agent``): ``QueueMemberAdded/Removed/Status/Pause`` for agents,
``QueueCallerJoin/Leave/Abandon`` for callers, ``AgentComplete`` for the start of wrap-up. After
each (re)connection the board is rebuilt from ``QueueStatus`` (``QueueMember``, ``QueueEntry``):
whatever happened while the link was down is then known, and events are applied on top.

Asterisk does not tell when other callers move up: on a leave, callers behind move up one; on
a join at position p, callers from p on move down one (priority insertion).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from svi_acd.acd.board import Agent, Board, WaitingCaller
from svi_acd.asterisk.contract import CALLBACK_SUFFIX, QUEUE_CONTEXT
from svi_acd.asterisk.frames import AmiMessage

log = logging.getLogger(__name__)

EVENT_CLASSES = ("agent",)
MEMBER_EVENTS = ("QueueMemberAdded", "QueueMemberRemoved", "QueueMemberStatus", "QueueMemberPause")
CALLER_EVENTS = ("QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon")
AGENT_EVENTS = ("AgentComplete", "AgentConnect", "AgentRingNoAnswer")
EVENT_NAMES = (*MEMBER_EVENTS, *CALLER_EVENTS, *AGENT_EVENTS, "QueueEntry", "QueueMember")

# Device states (ast_device_state) as app_queue reports them in ``Status``.
UNREACHABLE = {"4", "5"}  # INVALID, UNAVAILABLE
RINGING = {"6", "7"}  # RINGING, RINGINUSE
BUSY = {"2", "3", "8"}  # INUSE, BUSY, ONHOLD


def _number(value: str, default: float = 0.0) -> float:
    try:
        return float(value)
    except ValueError:
        return default


class QueueTracker:
    """Applies app_queue's events to ``board``; ``wrapup_s`` by queue from the settings."""

    def __init__(
        self, board: Board, wrapup_s: dict[str, int], clock: Callable[[], float] = time.time
    ) -> None:
        self.board = board
        self.wrapup_s = wrapup_s
        self.clock = clock

    def event_time(self, event: AmiMessage) -> float:
        """When Asterisk raised the event (``timestampevents``), else now."""
        return _number(event.get("Timestamp")) or self.clock()

    # -- agents -----------------------------------------------------------------------------
    def _member(self, event: AmiMessage, now: float, removed: bool = False) -> None:
        interface = event.get("Interface") or event.get("Location")
        if not interface:
            return
        queue = event.get("Queue")
        old = self.board.agents.get(interface) or Agent(
            name=event.get("MemberName") or event.get("Name") or interface, interface=interface
        )
        queues = set(old.queues)
        if removed:
            queues.discard(queue)
        elif queue:
            queues.add(queue)
        status = event.get("Status")
        wrapup = _number(event.get("Wrapuptime"), self.wrapup_s.get(queue, 0))
        last_call = _number(event.get("LastCall"))
        agent = replace(
            old,
            name=event.get("MemberName") or event.get("Name") or old.name,
            queues=tuple(sorted(queues)),
            logged_in=bool(queues),
            paused=event.get("Paused", "0") == "1" if "Paused" in event else old.paused,
            pause_reason=event.get("PausedReason") if "Paused" in event else old.pause_reason,
            in_call=event.get("InCall") == "1" or status in BUSY,
            ringing=status in RINGING,
            reachable=status not in UNREACHABLE,
            wrapup_until=max(old.wrapup_until, last_call + wrapup if last_call else 0.0),
            calls_taken=int(_number(event.get("CallsTaken"), old.calls_taken)),
        )
        if agent.state(now) != old.state(now) or not old.since:
            agent = replace(agent, since=now)
        self.board.put_agent(agent)

    def _complete(self, event: AmiMessage, now: float) -> None:
        interface = event.get("Interface")
        agent = self.board.agents.get(interface)
        if agent is None:
            return
        wrapup = self.wrapup_s.get(event.get("Queue"), 0)
        self.board.put_agent(replace(agent, in_call=False, wrapup_until=now + wrapup, since=now))

    # -- callers ----------------------------------------------------------------------------
    def _shift(self, queue: str, from_position: int, step: int, skip: str) -> None:
        for uniqueid, caller in list(self.board.callers.items()):
            if uniqueid != skip and caller.queue == queue and caller.position >= from_position:
                self.board.callers[uniqueid] = replace(caller, position=caller.position + step)

    def _join(self, event: AmiMessage, now: float, wait: float = 0.0) -> None:
        uniqueid = event.get("Uniqueid")
        queue = event.get("Queue")
        position = int(_number(event.get("Position"), 1))
        known = self.board.callers.get(uniqueid)
        if known is None and event.event.lower() != "queueentry":
            self._shift(queue, position, +1, uniqueid)
        number = event.get("CallerIDNum")
        # QueueCallerJoin carries the channel's context (QueueEntry does not: see rebuild).
        context = event.get("Context")
        movable = context == QUEUE_CONTEXT if context else bool(known and known.movable)
        caller = WaitingCaller(
            uniqueid=uniqueid,
            queue=queue,
            channel=event.get("Channel"),
            caller="" if number in ("", "<unknown>", "anonymous") else number,
            entered=known.entered if known else now - wait,
            position=position,
            priority=int(_number(event.get("Priority"), known.priority if known else 0)),
            vip=known.vip if known else False,
            callback=CALLBACK_SUFFIX in uniqueid,
            movable=movable,
        )
        self.board.put_caller(caller)

    def _leave(self, event: AmiMessage) -> None:
        caller = self.board.remove_caller(event.get("Uniqueid"))
        if caller is not None:
            self._shift(caller.queue, caller.position + 1, -1, caller.uniqueid)

    def mark(self, uniqueid: str, priority: int, vip: bool) -> None:
        """What the service knows of a caller that app_queue's events do not carry."""
        caller = self.board.callers.get(uniqueid)
        if caller is not None:
            self.board.put_caller(replace(caller, priority=priority, vip=vip))

    # -- dispatch ---------------------------------------------------------------------------
    def apply(self, event: AmiMessage) -> None:
        name = event.event.lower()
        now = self.event_time(event)
        if name in ("queuememberadded", "queuememberstatus", "queuememberpause", "queuemember"):
            self._member(event, now)
        elif name == "queuememberremoved":
            self._member(event, now, removed=True)
        elif name == "agentcomplete":
            self._complete(event, now)
        elif name == "queuecallerjoin":
            self._join(event, now)
        elif name == "queueentry":
            self._join(event, now, wait=_number(event.get("Wait")))
        elif name in ("queuecallerleave", "queuecallerabandon"):
            self._leave(event)

    def rebuild(self, status: list[AmiMessage], contexts: Mapping[str, str] | None = None) -> None:
        """Replace the board's content with a ``QueueStatus`` answer; ``contexts`` (uniqueid ->
        dialplan context, from ``CoreShowChannels``) tells which callers overflow may move."""
        vip = {uid: (c.priority, c.vip) for uid, c in self.board.callers.items()}
        movable = {uid for uid, c in self.board.callers.items() if c.movable}
        self.board.agents.clear()
        self.board.callers.clear()
        now = self.clock()
        for event in status:
            self.apply(event)
        for uniqueid, (priority, is_vip) in vip.items():
            if uniqueid in self.board.callers:
                self.mark(uniqueid, priority, is_vip)
        for uniqueid, caller in list(self.board.callers.items()):
            known = contexts.get(uniqueid) if contexts else None
            can_move = known == QUEUE_CONTEXT if known else uniqueid in movable
            self.board.callers[uniqueid] = replace(caller, movable=can_move)
        self.board.connected = True
        self.board.touch()
        log.info(
            "ACD : %d agent(s), %d appelant(s) en attente (état relu à %s)",
            len(self.board.agents),
            len(self.board.callers),
            time.strftime("%H:%M:%S", time.localtime(now)),
        )
