"""What the desk looks like right now: agents by state and callers waiting, per queue.

The board is the ACD's read model. The AMI tracker (``acd.tracker``) feeds it from app_queue's
events; the overflow rules, the JSON API, the CLI and the wallboard read ``snapshot()``.
Nothing here does I/O: time is a parameter, so tests build boards by hand.

Agent states, as users see them (``AgentState``):
``libre`` (logged in, not paused, not on a call, wrap-up over), ``sonnerie`` (a queue call
rings them), ``en_appel``, ``post_appel`` (wrap-up after a queue call), ``pause`` (with a
reason), ``indisponible`` (logged in but their phone is unreachable), ``deconnecte``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field, replace
from typing import Any, Literal

AgentState = Literal[
    "libre", "sonnerie", "en_appel", "post_appel", "pause", "indisponible", "deconnecte"
]
AGENT_STATE_LABELS: dict[AgentState, str] = {
    "libre": "Libre",
    "sonnerie": "Sonnerie",
    "en_appel": "En appel",
    "post_appel": "Après-appel",
    "pause": "En pause",
    "indisponible": "Injoignable",
    "deconnecte": "Déconnecté",
}


@dataclass(frozen=True)
class Agent:
    """One agent as app_queue knows them (one member, possibly in several queues)."""

    name: str
    interface: str
    queues: tuple[str, ...] = ()
    logged_in: bool = False
    paused: bool = False
    pause_reason: str = ""
    in_call: bool = False
    ringing: bool = False
    reachable: bool = True
    wrapup_until: float = 0.0  # epoch; after a queue call, until then the agent is in wrap-up
    since: float = 0.0  # epoch of the last state change, for "en pause depuis 12 min"
    calls_taken: int = 0

    def state(self, now: float) -> AgentState:
        if not self.logged_in:
            return "deconnecte"
        if self.in_call:
            return "en_appel"
        if self.ringing:
            return "sonnerie"
        if self.paused:
            return "pause"
        if not self.reachable:
            return "indisponible"
        if now < self.wrapup_until:
            return "post_appel"
        return "libre"


@dataclass(frozen=True)
class WaitingCaller:
    uniqueid: str
    queue: str
    channel: str
    caller: str  # the number as presented; "" when withheld
    entered: float  # epoch of entry in the queue
    position: int
    priority: int = 0
    vip: bool = False
    callback: bool = False  # a placeholder keeping the place of a caller to be called back
    # Waits in the dialplan's QUEUE_CONTEXT, which follows a withdrawal: overflow rules may
    # move it. A caller queued by another path would be dropped in silence if withdrawn.
    movable: bool = False

    def waited_s(self, now: float) -> float:
        return max(0.0, now - self.entered)


@dataclass(frozen=True)
class QueueView:
    name: str
    label: str
    waiting: tuple[WaitingCaller, ...]
    agents_logged_in: int
    agents_available: int  # free, not paused, not in wrap-up
    agents_busy: int
    agents_staffed: int  # logged in, not paused, reachable: the people working the queue
    longest_wait_s: float
    vip_waiting: int


@dataclass(frozen=True)
class AcdSnapshot:
    at: float
    connected: bool  # False: the AMI link is down, figures are the last known ones
    queues: tuple[QueueView, ...]
    agents: tuple[tuple[Agent, AgentState], ...]

    def queue(self, name: str) -> QueueView | None:
        return next((queue for queue in self.queues if queue.name == name), None)


@dataclass
class Board:
    """Mutable state behind the snapshots; ``changed`` wakes whoever waits for news (SSE)."""

    labels: dict[str, str]  # queue name -> label, from the settings
    agents: dict[str, Agent] = field(default_factory=dict)  # by interface
    callers: dict[str, WaitingCaller] = field(default_factory=dict)  # by uniqueid
    connected: bool = False
    version: int = 0
    _changed: asyncio.Event | None = None

    def touch(self) -> None:
        self.version += 1
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_change(self, version: int, timeout_s: float) -> int:
        """Wait until the board moves past ``version`` (or the timeout); the current version."""
        if self.version == version:
            if self._changed is None:
                self._changed = asyncio.Event()
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout_s)
        return self.version

    def put_agent(self, agent: Agent) -> None:
        self.agents[agent.interface] = agent
        self.touch()

    def update_agent(self, interface: str, **changes: Any) -> Agent:
        agent = self.agents.get(interface) or Agent(name=interface, interface=interface)
        agent = replace(agent, **changes)
        self.put_agent(agent)
        return agent

    def put_caller(self, caller: WaitingCaller) -> None:
        self.callers[caller.uniqueid] = caller
        self.touch()

    def remove_caller(self, uniqueid: str) -> WaitingCaller | None:
        caller = self.callers.pop(uniqueid, None)
        if caller is not None:
            self.touch()
        return caller

    def snapshot(self, now: float) -> AcdSnapshot:
        agents = sorted(self.agents.values(), key=lambda agent: agent.name)
        states = tuple((agent, agent.state(now)) for agent in agents)
        names = list(self.labels) + sorted(
            {caller.queue for caller in self.callers.values()} - set(self.labels)
        )
        queues = []
        for name in names:
            waiting = tuple(
                sorted(
                    (caller for caller in self.callers.values() if caller.queue == name),
                    key=lambda caller: caller.position,
                )
            )
            members = [(agent, state) for agent, state in states if name in agent.queues]
            logged = [state for _, state in members if state != "deconnecte"]
            queues.append(
                QueueView(
                    name=name,
                    label=self.labels.get(name, name),
                    waiting=waiting,
                    agents_logged_in=len(logged),
                    agents_available=sum(1 for state in logged if state == "libre"),
                    agents_busy=sum(1 for state in logged if state in ("en_appel", "sonnerie")),
                    agents_staffed=sum(
                        1 for state in logged if state not in ("pause", "indisponible")
                    ),
                    longest_wait_s=max((c.waited_s(now) for c in waiting), default=0.0),
                    vip_waiting=sum(1 for caller in waiting if caller.vip),
                )
            )
        return AcdSnapshot(now, self.connected, tuple(queues), states)


def mask_number(number: str) -> str:
    """Caller numbers are personal data: screens show only the last four digits."""
    digits = number.strip()
    if len(digits) <= 4:
        return digits
    return "•" * (len(digits) - 4) + digits[-4:]


def agent_json(agent: Agent, state: AgentState, now: float) -> dict[str, Any]:
    return {
        "nom": agent.name,
        "interface": agent.interface,
        "files": list(agent.queues),
        "etat": state,
        "etat_libelle": AGENT_STATE_LABELS[state],
        "motif_pause": agent.pause_reason if state == "pause" else None,
        "depuis_s": round(max(0.0, now - agent.since), 1) if agent.since else None,
        "appels_pris": agent.calls_taken,
    }


def queue_json(queue: QueueView, now: float, full_numbers: bool = False) -> dict[str, Any]:
    return {
        "file": queue.name,
        "nom": queue.label,
        "en_attente": len(queue.waiting),
        "vip_en_attente": queue.vip_waiting,
        "attente_max_s": round(queue.longest_wait_s, 1),
        "agents_connectes": queue.agents_logged_in,
        "agents_libres": queue.agents_available,
        "agents_en_appel": queue.agents_busy,
        "appelants": [
            {
                "uniqueid": caller.uniqueid,
                "position": caller.position,
                "priorite": caller.priority,
                "vip": caller.vip,
                "rappel": caller.callback,
                "numero": caller.caller if full_numbers else mask_number(caller.caller),
                "attente_s": round(caller.waited_s(now), 1),
            }
            for caller in queue.waiting
        ],
    }


def snapshot_json(snapshot: AcdSnapshot, full_numbers: bool = False) -> dict[str, Any]:
    """The JSON shape of ``GET /api/acd`` (and of each wallboard SSE message's ``acd`` part)."""
    now = snapshot.at
    return {
        "ami_connectee": snapshot.connected,
        "files": [queue_json(queue, now, full_numbers) for queue in snapshot.queues],
        "agents": [agent_json(agent, state, now) for agent, state in snapshot.agents],
    }
