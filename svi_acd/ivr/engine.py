"""The flow engine: walks the configured SVI graph for one call over a ``CallSession``.

Decisions come from ``routing`` (pure); the engine only sequences prompts, digits and
variables, and journals every decision that keeps a call from the queue or moves it as a
custom queue_log event, so that statistics explain every call. It ends by leaving
``SVI_QUEUE`` / ``QUEUE_PRIO`` for the dialplan and setting ``SVI_FLOW_DONE=1`` last: if
anything fails before that, the dialplan's fallback queues the caller anyway.

Journal lines go over the service's AMI link in the background when it is up, so that no
caller waits for them (``SVI_CALL`` is written before the first prompt); the walk waits for
them only before handing the call back to the dialplan, whose own lines come next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from svi_acd.acd.overflow import Overflow
from svi_acd.asterisk.contract import (
    EVENT_BRANCH,
    EVENT_CALL,
    EVENT_CALLBACK,
    EVENT_CLOSED,
    EVENT_DETERRED,
    EVENT_OVERFLOW,
    EVENT_TERRITORY_CLOSED,
    EVENT_TICKET,
    EVENT_VIP,
    FLOW_DONE,
    NO_QUEUE,
    OVERFLOW_MAILBOX_VARIABLE,
    OVERFLOW_SOUND_VARIABLE,
    OVERFLOW_VARIABLE,
    QUEUE_PRIORITY_VARIABLE,
    QUEUE_VARIABLE,
)
from svi_acd.asterisk.queue_log import queue_log_data
from svi_acd.config.flow import (
    ClosedNode,
    CrisisNode,
    HangupNode,
    MenuNode,
    PlayNode,
    QueueNode,
    ReadDigitsNode,
    RoutingNode,
    SetVariableNode,
)
from svi_acd.config.model import Settings
from svi_acd.ivr.session import CallSession
from svi_acd.routing.decision import Decision, Router
from svi_acd.routing.directory import VipDirectory

log = logging.getLogger(__name__)

MAX_STEPS = 200  # a configuration loop must not hold a caller forever
TICKET_VARIABLE = "ticket"  # a "saisie" into this variable is journaled as SVI_TICKET
BRANCH_VARIABLE = "branche"
# Digits read beyond a "saisie"'s maximum: an over-long entry is heard whole and refused,
# instead of being cut at the maximum and accepted (a wrong ticket), and its tail does not
# spill into the next prompt.
OVERLONG_DIGITS = 32
# A line the AMI link has not written by then goes through the call's channel instead.
JOURNAL_AHEAD_DEADLINE_S = 1.0


class FlowError(Exception):
    """The flow cannot go on (configuration loop, missing sound…): the fallback takes over."""


@dataclass(frozen=True, slots=True)
class CrisisPlayback:
    """A live crisis message as the engine needs it."""

    message_id: str
    sound: str
    mode: Literal["information", "dissuasion"]


class CrisisSource(Protocol):
    def current(
        self, scope: str | None, territory: str | None, branch: str | None, at: datetime
    ) -> Sequence[CrisisPlayback]:
        """The messages this caller must hear now at this point of the flow, in order.

        ``scope`` is the node's ``portee``, ``branch`` the menu branch chosen so far (None
        before the menu). Called on the call path: it must not do network I/O.
        """
        ...


class NoCrisis:
    def current(
        self, scope: str | None, territory: str | None, branch: str | None, at: datetime
    ) -> Sequence[CrisisPlayback]:
        return ()


class QueueGate(Protocol):
    """The ACD as the flow sees it at queue entry (``acd.desk.Desk``)."""

    def at_entry(self, queue: str, caller_number: str) -> Overflow | None:
        """The overflow rule that keeps this caller out of ``queue`` now, if any (no I/O)."""
        ...

    def note_enqueued(self, uniqueid: str, priority: int, vip: bool) -> None: ...

    async def request_callback(
        self, uniqueid: str, queue: str, caller_number: str, priority: int, position: int = 0
    ) -> bool:
        """Keep a place in ``queue`` that calls the caller back; False if impossible."""
        ...


class JournalLink(Protocol):
    """A way to write queue_log lines besides the call's own channel (the service's AMI link)."""

    @property
    def connected(self) -> bool: ...

    async def queue_log(
        self, queue: str, uniqueid: str, event: str, message: str = "",
        *, deadline_s: float | None = None,
    ) -> None: ...  # fmt: skip


class PromptSounds(Protocol):
    def sound(self, prompt_id: str) -> str:
        """The Asterisk sound name of a configured prompt."""
        ...


@dataclass
class FlowServices:
    settings: Settings
    router: Router
    prompts: PromptSounds
    clock: Callable[[], datetime]
    directory: Callable[[], VipDirectory] = VipDirectory
    crisis: CrisisSource = field(default_factory=NoCrisis)
    acd: QueueGate | None = None  # None: no AMI link, no overflow at entry
    journal: JournalLink | None = None  # None: every line goes through the call's channel


@dataclass
class FlowResult:
    action: Literal["queue", "hangup", "overflow"]
    queue: str | None = None
    priority: int = 0
    path: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    decision: Decision | None = None


class _Walk:
    """The state of one call's walk through the graph."""

    def __init__(self, services: FlowServices, session: CallSession) -> None:
        self.services = services
        self.session = session
        self.settings = services.settings
        self.result = FlowResult(action="hangup")
        self.decision: Decision | None = None
        self.heard: list[str] = []  # crisis messages already played in this call
        self.typed_ahead: str | None = None  # a digit that cut an information message short
        # queue_log lines on their way over the AMI link: (write, queue, event, data).
        self.ahead: list[tuple[asyncio.Task[None], str, str, tuple[str, ...]]] = []

    def sounds(self, *prompt_ids: str | None) -> list[str]:
        return [self.services.prompts.sound(pid) for pid in prompt_ids if pid]

    async def journal(self, event: str, *data: str, queue: str = NO_QUEUE) -> None:
        link = self.services.journal
        if link is not None and link.connected:
            # Written by the AMI link in the background: the caller never waits for the
            # journal (over AGI, SVI_CALL alone cost a round trip before the first prompt).
            uniqueid = self.session.info.uniqueid
            write = link.queue_log(
                queue, uniqueid, event, queue_log_data(*data), deadline_s=JOURNAL_AHEAD_DEADLINE_S
            )
            self.ahead.append((asyncio.create_task(write), queue, event, data))
            return
        await self.settle_journal()  # keeps the lines in order
        await self.session.queue_log(queue, event, *data)

    async def settle_journal(self, failing: bool = False) -> None:
        """Wait for the lines sent ahead; those the AMI link could not write go through the
        call's channel (a line written twice is harmless: the import keeps one record per
        call). ``failing``: the walk broke, the channel may be gone; nothing more is raised."""
        ahead, self.ahead = self.ahead, []
        for task, queue, event, data in ahead:
            try:
                await task
                continue
            except Exception as exc:
                log.warning("ligne %s non écrite par l'AMI (%s) : écrite par l'AGI", event, exc,
                            extra={"uniqueid": self.session.info.uniqueid})  # fmt: skip
            try:
                await self.session.queue_log(queue, event, *data)
            except Exception:
                if not failing:
                    raise
                log.exception("ligne %s perdue pour le journal des files", event,
                              extra={"uniqueid": self.session.info.uniqueid})  # fmt: skip

    async def run(self) -> FlowResult:
        await self.session.answer()
        name: str | None = self.settings.flow.entry
        while name is not None:
            if len(self.result.path) >= MAX_STEPS:
                raise FlowError(f"plus de {MAX_STEPS} étapes : boucle dans le graphe du SVI")
            self.result.path.append(name)
            node = self.settings.flow.nodes[name]
            log.debug(
                "nœud %s (%s)", name, node.type, extra={"uniqueid": self.session.info.uniqueid}
            )
            name = await self.step(node)
        return self.result

    async def step(self, node: object) -> str | None:
        match node:
            case RoutingNode():
                return await self.routing(node)
            case CrisisNode():
                return await self.crisis(node)
            case PlayNode():
                await self.session.play(self.sounds(node.prompt), escape="")
                return node.next
            case MenuNode():
                return await self.menu(node)
            case ReadDigitsNode():
                return await self.read_digits(node)
            case SetVariableNode():
                await self.set_variable(node.name, node.value)
                return node.next
            case QueueNode():
                await self.enqueue(node)
                return None
            case ClosedNode():
                await self.closed(node)
                return None
            case HangupNode():
                if node.prompt:
                    await self.session.play(self.sounds(node.prompt), escape="")
                return None
        raise FlowError(f"type de nœud non pris en charge : {node!r}")

    async def routing(self, node: RoutingNode) -> str:
        info = self.session.info
        decision = self.services.router.decide(
            info.caller_number, self.services.clock(), self.services.directory()
        )
        self.decision = self.result.decision = decision
        await self.set_variable("TERRITOIRE", decision.territory or "")
        await self.set_variable("PRIORITE", decision.priority or "")
        await self.journal(EVENT_CALL, decision.territory or "", decision.priority or "")
        if decision.reason in ("desk_hours", "desk_holiday"):
            await self.journal(EVENT_CLOSED, decision.reason, decision.holiday or "")
            return node.closed
        if not decision.open:
            await self.journal(EVENT_TERRITORY_CLOSED, decision.reason, decision.territory or "")
            return node.territory_closed
        if decision.priority:
            await self.journal(EVENT_VIP, "VIP" if decision.vip else "P0")
            if node.priority and self.settings.vip.skip_menu:
                return node.priority
        return node.open

    async def crisis(self, node: CrisisNode) -> str | None:
        territory = self.decision.territory if self.decision else None
        branch = self.result.variables.get(BRANCH_VARIABLE)
        messages = self.services.crisis.current(
            node.scope, territory, branch, self.services.clock()
        )
        for message in messages:
            if message.message_id in self.heard:
                continue
            self.heard.append(message.message_id)
            await self.set_variable("CRISE", ",".join(self.heard))
            if message.mode == "information":
                # A caller who knows the menu may press their choice during the message: it
                # ends the messages and answers the next menu.
                self.typed_ahead = await self.session.play([message.sound])
                if self.typed_ahead:
                    break
                continue
            await self.session.play([message.sound], escape="")
            await self.journal(EVENT_DETERRED, message.message_id)
            return None
        return node.next

    async def menu(self, node: MenuNode) -> str:
        sounds = self.sounds(node.prompt)
        for _ in range(node.attempts):
            digit, self.typed_ahead = self.typed_ahead, None
            if digit is None:
                digit = await self.session.ask_digit(sounds, node.timeout_s)
            if digit in node.choices:
                return node.choices[digit]
            retry = node.invalid_prompt if digit else node.no_input_prompt
            sounds = self.sounds(retry, node.prompt)
        return node.on_failure

    async def read_digits(self, node: ReadDigitsNode) -> str:
        sounds = self.sounds(node.prompt)
        read_cap = node.max_digits + OVERLONG_DIGITS
        for _ in range(node.attempts):
            digits = await self.session.read_digits(sounds, read_cap, node.timeout_s)
            if digits.isdigit() and node.min_digits <= len(digits) <= node.max_digits:
                await self.set_variable(node.variable, digits)
                if node.variable == TICKET_VARIABLE:
                    await self.journal(EVENT_TICKET, digits, "")
                return node.next
            retry = node.invalid_prompt if digits else node.no_input_prompt or node.invalid_prompt
            sounds = self.sounds(retry, node.prompt)
        return node.on_failure

    async def set_variable(self, name: str, value: str) -> None:
        # Kept until the caller is queued: only the agent's side reads them, and every AGI
        # round trip before the first prompt is time the caller spends in silence.
        self.result.variables[name] = value

    async def enqueue(self, node: QueueNode) -> None:
        vip = bool(self.decision and self.decision.priority)
        priority = self.settings.vip.priority_for(vip)
        queue: str | None = node.queue
        branch = node.branch or self.result.variables.get(BRANCH_VARIABLE)
        if branch:
            await self.journal(EVENT_BRANCH, branch, queue=node.queue)
        for name, value in self.result.variables.items():
            await self.session.set_variable(f"SVI_{name.upper()}", value)
        gate = self.services.acd
        overflow = gate.at_entry(node.queue, self.session.info.caller_number) if gate else None
        if overflow is not None:
            queue = await self.overflow(overflow, node.queue, priority)
            if queue is None:
                return
        assert queue is not None
        if gate is not None:
            gate.note_enqueued(self.session.info.uniqueid, priority, vip)
        await self.session.set_variable(QUEUE_PRIORITY_VARIABLE, str(priority))
        await self.session.set_variable(QUEUE_VARIABLE, queue)
        self.result.action, self.result.queue, self.result.priority = "queue", queue, priority

    async def overflow(self, overflow: Overflow, queue: str, priority: int) -> str | None:
        """Send the caller where the rule says; the queue to join instead, or None."""
        rule, target = overflow.rule, overflow.rule.destination
        await self.journal(EVENT_OVERFLOW, rule.name, overflow.destination, queue=queue)
        if target.type == "file":
            return target.queue
        info = self.session.info
        if target.type == "rappel":
            assert self.services.acd is not None
            placed = await self.services.acd.request_callback(
                info.uniqueid, queue, info.caller_number, priority
            )
            if not placed:
                return queue  # no way to call back: the caller waits like the others
            await self.journal(EVENT_CALLBACK, queue=queue)
            prompt = self.settings.callback.prompt
        elif target.type == "message":
            prompt = target.prompt or ""
        else:
            prompt = "messagerie"
            await self.session.set_variable(OVERFLOW_MAILBOX_VARIABLE, target.mailbox or "")
        # The dialplan plays it (OVERFLOW_CONTEXT): the service's work ends here.
        sound = self.services.prompts.sound(prompt)
        await self.session.set_variable(OVERFLOW_SOUND_VARIABLE, sound)
        await self.session.set_variable(OVERFLOW_VARIABLE, target.type)
        self.result.action, self.result.queue = "overflow", queue
        return None

    async def closed(self, node: ClosedNode) -> None:
        await self.session.play(self.sounds(node.prompt), escape="")
        decision = self.decision
        if node.reopening_prompt and decision and decision.next_open_local:
            await self.session.play(self.sounds(node.reopening_prompt), escape="")
            zone = self.services.router.local_zone(decision.territory)
            await self.session.say_moment(decision.next_open_local, zone.key)


async def run_flow(services: FlowServices, session: CallSession) -> FlowResult:
    """Walk the whole flow, then mark it done (last, so that a failure leaves the fallback)."""
    walk = _Walk(services, session)
    try:
        result = await walk.run()
    except BaseException:
        await walk.settle_journal(failing=True)
        raise
    # The dialplan takes the call back next (queue, fallback): its lines come after ours.
    await walk.settle_journal()
    await session.set_variable(FLOW_DONE, "1")
    return result
