"""The ACD over AMI: agents, priorities, overflow and callbacks on Asterisk's app_queue.

``Desk`` keeps the board current (``QueueTracker``), carries out supervisors' requests
(``AcdControl``), answers the flow engine's question at queue entry (``at_entry``) and, every
tick, moves waiting callers that an overflow rule catches:

- a caller is taken out of app_queue with ``QueueWithdrawCaller`` (queue_log ``WITHDRAW``, not
  an abandon), after the destination was set on the channel; the dialplan after ``Queue()``
  sends a withdrawn caller to ``OVERFLOW_CONTEXT`` (another queue, a message, voicemail);
- a **callback** keeps the caller's place: a placeholder (a Local channel whose uniqueid is the
  caller's plus a suffix) enters the queue at the caller's position with their priority,
  then the caller is withdrawn, told they will be called back, and hung up. When an agent
  takes the placeholder, its other half dials the caller back (``rappel.canal``). In the queue
  the placeholder's uniqueid is ``<caller's uniqueid>-rappel;2``.

Every decision is journaled in queue_log before it is carried out (``SVI_OVERFLOW`` rule |
destination, ``SVI_CALLBACK``), so statistics explain every call even if the action fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from svi_acd.acd.board import AcdSnapshot, Board
from svi_acd.acd.control import AcdError
from svi_acd.acd.overflow import Overflow, at_entry, rule_json, while_waiting
from svi_acd.acd.tracker import EVENT_NAMES, QueueTracker
from svi_acd.asterisk.ami import AmiConnection
from svi_acd.asterisk.contract import (
    CALLBACK_CONTEXT,
    CALLBACK_DIAL_EXTEN,
    CALLBACK_DIAL_VARIABLE,
    CALLBACK_FROM_VARIABLE,
    CALLBACK_PLACE_EXTEN,
    CALLBACK_POSITION_VARIABLE,
    CALLBACK_PRIORITY_VARIABLE,
    CALLBACK_QUEUE_VARIABLE,
    CALLBACK_RING_VARIABLE,
    CALLBACK_SUFFIX,
    CALLBACK_WAIT_VARIABLE,
    EVENT_CALLBACK,
    EVENT_OVERFLOW,
    OVERFLOW_MAILBOX_VARIABLE,
    OVERFLOW_QUEUE_VARIABLE,
    OVERFLOW_SOUND_VARIABLE,
)
from svi_acd.asterisk.frames import AmiMessage
from svi_acd.asterisk.link import AmiError
from svi_acd.asterisk.queue_log import queue_log_data
from svi_acd.audit import SYSTEM_ACTOR
from svi_acd.config.model import Settings

log = logging.getLogger(__name__)

TICK_S = 1.0
CALLBACK_NUMBER = re.compile(r"\+?[0-9]{3,20}")
AUTO_PAUSE_REASON = "absence"
PAUSE_REASON = re.compile(r"[\w .'’-]{1,40}")


def callback_number(number: str) -> str | None:
    """The number to call back, or None when it cannot be dialled safely."""
    cleaned = re.sub(r"[\s.()-]", "", number or "")
    return cleaned if CALLBACK_NUMBER.fullmatch(cleaned) else None


@dataclass
class AcdJournalEntry:
    at: float
    actor: str
    action: str
    subject: str
    detail: str = ""


@dataclass
class Desk:
    settings: Settings
    ami: AmiConnection
    sound_of: Callable[[str], str]  # prompt id -> Asterisk sound name
    clock: Callable[[], float] = time.time
    board: Board = field(init=False)
    tracker: QueueTracker = field(init=False)
    switches: dict[str, bool] = field(default_factory=dict)  # overflow rule -> enabled
    journal: list[AcdJournalEntry] = field(default_factory=list)
    on_journal: Callable[[AcdJournalEntry], object] | None = None
    # Several instances on one Asterisk: only the lease holder moves waiting callers.
    leader: Callable[[], Awaitable[bool]] | None = None
    _handled: dict[str, float] = field(default_factory=dict)  # uniqueid -> when it was moved
    _pending: dict[str, tuple[int, bool]] = field(default_factory=dict)
    _missed: dict[str, int] = field(default_factory=dict)  # interface -> calls missed in a row
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _loop: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.board = Board({name: queue.name for name, queue in self.settings.queues.items()})
        self.tracker = QueueTracker(
            self.board,
            {name: queue.wrapup_s for name, queue in self.settings.queues.items()},
            self.clock,
        )
        self.switches = {rule.name: rule.enabled for rule in self.settings.overflow}

    # -- lifecycle --------------------------------------------------------------------------
    def attach(self) -> None:
        """Subscribe to app_queue's events; call before ``ami.start()``."""
        for name in EVENT_NAMES:
            self.ami.on_event(name, self._on_event)
        self.ami.on_login(self.resync)
        self.ami.on_disconnect(self._on_disconnect)

    def start(self) -> None:
        self._loop = asyncio.create_task(self._overflow_forever())

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._loop] if self._loop else [])]
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)

    def _on_event(self, event: AmiMessage) -> None:
        self.tracker.apply(event)
        name = event.event.lower()
        if name == "queuecallerjoin":
            mark = self._pending.pop(event.get("Uniqueid"), None)
            if mark is not None:
                self.tracker.mark(event.get("Uniqueid"), *mark)
        elif name == "agentconnect":
            self._missed.pop(event.get("Interface"), None)
        elif name == "agentringnoanswer":
            self._note_missed(event.get("Interface"), event.get("Queue"))

    def _note_missed(self, interface: str, queue: str) -> None:
        """Pause an agent who let N queue calls ring in a row (« absence »), like a missed
        hand-over: callers stop ringing an empty desk, and the supervisor sees why."""
        queue_settings = self.settings.queues.get(queue)
        limit = queue_settings.max_unanswered_before_pause if queue_settings else 0
        missed = self._missed.get(interface, 0) + 1
        self._missed[interface] = missed
        if limit and missed >= limit:
            self._missed.pop(interface, None)
            self._spawn(self._auto_pause(interface, missed))

    async def _auto_pause(self, interface: str, missed: int) -> None:
        try:
            await self.pause(interface, AUTO_PAUSE_REASON, SYSTEM_ACTOR)
            log.warning("agent %s mis en pause après %d appels sans réponse", interface, missed)
        except AcdError as exc:
            log.error("pause automatique de %s impossible : %s", interface, exc.message)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reprioritize(self, priority_of: Callable[[str], int]) -> int:
        """Raise the priority of waiting callers whose number became VIP/P0 (directory import,
        a P0 period that began): ``QueueChangePriorityCaller`` moves them up at once."""
        changed = 0
        for caller in list(self.board.callers.values()):
            wanted = priority_of(caller.caller) if caller.caller else 0
            if wanted > caller.priority and not caller.callback:
                try:
                    await self.change_priority(caller.uniqueid, wanted, SYSTEM_ACTOR)
                    self.tracker.mark(caller.uniqueid, wanted, True)
                    changed += 1
                except AcdError as exc:
                    log.error("priorité de %s inchangée : %s", caller.uniqueid, exc.message)
        return changed

    def _on_disconnect(self, reason: str) -> None:
        self.board.connected = False
        self.board.touch()

    async def resync(self) -> None:
        status = await self.ami.action_list("QueueStatus", deadline_s=10.0)
        self.tracker.rebuild(status, await self._contexts())

    async def _contexts(self) -> dict[str, str]:
        """Each channel's dialplan context: QueueStatus does not say which path queued a
        caller, and only callers waiting in QUEUE_CONTEXT follow a withdrawal."""
        try:
            channels = await self.ami.core_show_channels()
        except AmiError as exc:
            log.warning("contextes des appelants inconnus (%s) : aucun n'est déplacé", exc)
            return {}
        return {channel.get("Uniqueid"): channel.get("Context") for channel in channels}

    # -- reads ------------------------------------------------------------------------------
    def snapshot(self) -> AcdSnapshot:
        return self.board.snapshot(self.clock())

    async def wait_change(self, version: int, timeout_s: float) -> int:
        return await self.board.wait_change(version, timeout_s)

    def overflow_rules(self) -> list[dict[str, object]]:
        return [
            rule_json(rule, self.switches.get(rule.name, rule.enabled))
            for rule in self.settings.overflow
        ]

    # -- the flow engine's side -------------------------------------------------------------
    def at_entry(self, queue: str, caller_number: str) -> Overflow | None:
        """The overflow rule that keeps a new caller out of ``queue`` (None: queue them).

        With the AMI link down the desk's state is unknown: callers are queued (app_queue
        still serves them), never turned away on stale figures.
        """
        if not self.board.connected:
            return None
        view = self.snapshot().queue(queue)
        if view is None:
            return None
        return at_entry(self.settings.overflow, view, callback_number(caller_number) or "",
                        self.switches)  # fmt: skip

    def note_enqueued(self, uniqueid: str, priority: int, vip: bool) -> None:
        """The flow is about to queue this caller: remember what app_queue will not tell."""
        self._pending[uniqueid] = (priority, vip)
        while len(self._pending) > 1000:
            self._pending.pop(next(iter(self._pending)))

    async def request_callback(
        self, uniqueid: str, queue: str, caller_number: str, priority: int, position: int = 0
    ) -> bool:
        """Put a placeholder in ``queue`` (at ``position``; 0: last) that will call back."""
        number = callback_number(caller_number)
        if number is None:
            return False
        callback = self.settings.callback
        dial = callback.dial.replace("{numero}", number)
        inherited = {  # by both halves of the Local channel ("__")
            CALLBACK_QUEUE_VARIABLE: queue,
            CALLBACK_POSITION_VARIABLE: str(position or ""),
            CALLBACK_PRIORITY_VARIABLE: str(priority),
            CALLBACK_DIAL_VARIABLE: dial,
            CALLBACK_RING_VARIABLE: str(callback.ring_s),
            CALLBACK_FROM_VARIABLE: uniqueid,
            CALLBACK_WAIT_VARIABLE: str(callback.max_wait_s),
        }
        try:
            await self.ami.originate(
                {
                    "Channel": f"Local/{CALLBACK_PLACE_EXTEN}@{CALLBACK_CONTEXT}/n",
                    "Context": CALLBACK_CONTEXT,
                    "Exten": CALLBACK_DIAL_EXTEN,
                    "Priority": 1,
                    "Timeout": (callback.max_wait_s + 60) * 1000,
                    "CallerID": f'"Rappel" <{number}>',
                    # The Local channel's other half (in the queue) gets this id plus ";2".
                    "ChannelId": f"{uniqueid}{CALLBACK_SUFFIX}",
                    "Variable": [f"__{name}={value}" for name, value in inherited.items()],
                }
            )
        except AmiError as exc:
            log.error("rappel impossible pour %s : %s", uniqueid, exc)
            return False
        return True

    # -- overflow while waiting -------------------------------------------------------------
    async def _overflow_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                if self.leader is None or await self.leader():
                    self.overflow_tick()
            except Exception:
                log.exception("débordement : évaluation impossible (les appelants restent en file)")

    def overflow_tick(self) -> list[Overflow]:
        """Evaluate the rules on every queue and start moving the callers they catch."""
        if not self.board.connected:
            return []
        now = self.clock()
        for uniqueid, moved_at in list(self._handled.items()):
            if uniqueid not in self.board.callers and now - moved_at > 60:
                del self._handled[uniqueid]
        moves: list[Overflow] = []
        snapshot = self.snapshot()
        for view in snapshot.queues:
            moves += while_waiting(
                self.settings.overflow, view, now, self.switches, frozenset(self._handled)
            )
        for move in moves:
            assert move.caller is not None
            self._handled[move.caller.uniqueid] = now
            self._spawn(self._move(move))
        return moves

    async def _queue_log(self, queue: str, uniqueid: str, event: str, *data: str) -> None:
        await self.ami.queue_log(queue, uniqueid, event, queue_log_data(*data))

    async def _move(self, move: Overflow) -> None:
        caller, rule = move.caller, move.rule
        assert caller is not None
        target = rule.destination
        try:
            await self._queue_log(caller.queue, caller.uniqueid, EVENT_OVERFLOW, rule.name,
                                  move.destination)  # fmt: skip
            channel_vars: dict[str, str] = {}
            if target.type == "rappel":
                placed = await self.request_callback(
                    caller.uniqueid, caller.queue, caller.caller, caller.priority, caller.position
                )
                if not placed:
                    return  # the caller keeps waiting
                await self._queue_log(caller.queue, caller.uniqueid, EVENT_CALLBACK)
                channel_vars[OVERFLOW_SOUND_VARIABLE] = self.sound_of(self.settings.callback.prompt)
            elif target.type == "file":
                channel_vars[OVERFLOW_QUEUE_VARIABLE] = target.queue or ""
            elif target.type == "message":
                channel_vars[OVERFLOW_SOUND_VARIABLE] = self.sound_of(target.prompt or "")
            else:
                channel_vars[OVERFLOW_MAILBOX_VARIABLE] = target.mailbox or ""
                channel_vars[OVERFLOW_SOUND_VARIABLE] = self.sound_of("messagerie")
            for name, value in channel_vars.items():
                await self.ami.setvar(name, value, caller.channel)
            await self.ami.action(
                "QueueWithdrawCaller",
                {"Queue": caller.queue, "Caller": caller.channel, "WithdrawInfo": target.type},
                idempotent=False,
            )
            log.info(
                "débordement « %s » : appel %s vers %s",
                rule.name,
                caller.uniqueid,
                move.destination,
            )
        except AmiError as exc:
            # The caller stays in the queue: being served late beats being lost.
            log.error("débordement « %s » de %s impossible : %s", rule.name, caller.uniqueid, exc)

    # -- supervisors' requests --------------------------------------------------------------
    def _record(self, actor: str, action: str, subject: str, detail: str = "") -> None:
        entry = AcdJournalEntry(self.clock(), actor, action, subject, detail)
        self.journal.append(entry)
        del self.journal[:-1000]
        self.board.touch()
        log.info("ACD : %s par %s sur %s %s", action, actor, subject, detail)
        if self.on_journal is not None:
            self.on_journal(entry)

    def _queues(self, queues: Sequence[str]) -> list[str]:
        chosen = list(queues) or list(self.settings.queues)
        unknown = [name for name in chosen if name not in self.settings.queues]
        if unknown:
            raise AcdError(f"file inconnue « {unknown[0]} »", 404)
        return chosen

    def _agent_interface(self, interface: str) -> str:
        interface = interface.strip()
        if not re.fullmatch(r"[A-Za-z]+/[\w@.+-]{1,80}", interface):
            raise AcdError(f"interface d'agent invalide « {interface[:80]} » (ex. PJSIP/agent1)")
        return interface

    async def _run(self, name: str, fields: dict[str, str], what: str) -> None:
        try:
            await self.ami.action(name, fields, idempotent=False)
        except AmiError as exc:
            raise AcdError(f"{what} impossible : {exc}", 503) from exc

    async def login(
        self, interface: str, actor: str, queues: Sequence[str] = (), name: str | None = None
    ) -> None:
        interface = self._agent_interface(interface)
        for queue in self._queues(queues):
            fields = {"Queue": queue, "Interface": interface, "Paused": "false"}
            if name:
                fields["MemberName"] = name
            try:
                await self.ami.action("QueueAdd", fields, idempotent=False)
            except AmiError as exc:
                if "Already there" not in str(exc):
                    raise AcdError(f"connexion de l'agent impossible : {exc}", 503) from exc
        self._record(actor, "connexion_agent", interface, ",".join(queues))

    async def logout(self, interface: str, actor: str, queues: Sequence[str] = ()) -> None:
        interface = self._agent_interface(interface)
        agent = self.board.agents.get(interface)
        chosen = list(queues) or (list(agent.queues) if agent else list(self.settings.queues))
        for queue in self._queues(chosen):
            await self._run("QueueRemove", {"Queue": queue, "Interface": interface},
                            "déconnexion de l'agent")  # fmt: skip
        self._record(actor, "deconnexion_agent", interface)

    async def pause(self, interface: str, reason: str, actor: str) -> None:
        interface = self._agent_interface(interface)
        reason = reason.strip()
        if not PAUSE_REASON.fullmatch(reason):
            raise AcdError("motif de pause invalide (1 à 40 lettres, chiffres ou espaces)")
        await self._run("QueuePause", {"Interface": interface, "Paused": "true", "Reason": reason},
                        "mise en pause")  # fmt: skip
        self._record(actor, "pause_agent", interface, reason)

    async def unpause(self, interface: str, actor: str) -> None:
        interface = self._agent_interface(interface)
        await self._run("QueuePause", {"Interface": interface, "Paused": "false"},
                        "fin de pause")  # fmt: skip
        self._record(actor, "reprise_agent", interface)

    async def change_priority(self, uniqueid: str, priority: int, actor: str) -> None:
        caller = self.board.callers.get(uniqueid)
        if caller is None:
            raise AcdError(f"aucun appelant « {uniqueid[:80]} » en attente", 404)
        if not 0 <= priority <= 100:
            raise AcdError("priorité invalide (0 à 100)")
        await self._run(
            "QueueChangePriorityCaller",
            {"Queue": caller.queue, "Caller": caller.channel, "Priority": str(priority),
             "Immediate": "yes"},
            "changement de priorité",
        )  # fmt: skip
        self.tracker.mark(uniqueid, priority, caller.vip)
        self._record(actor, "priorite_appelant", uniqueid, str(priority))

    async def switch_overflow_rule(self, name: str, enabled: bool, actor: str) -> None:
        if name not in self.switches:
            raise AcdError(f"règle de débordement inconnue « {name[:80]} »", 404)
        self.switches[name] = enabled
        self.board.touch()
        self._record(actor, "regle_debordement", name, "active" if enabled else "desactivee")
