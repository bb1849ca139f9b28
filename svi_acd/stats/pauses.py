"""Agents' pauses: queue_log PAUSE / UNPAUSE / REMOVEMEMBER folded into intervals.

A pause is kept per (agent, queue), as Asterisk pauses a member queue by queue: it starts at
PAUSE and ends at the next UNPAUSE or REMOVEMEMBER of the same member in the same queue.
Pausing an agent in all their queues (QueuePause without a queue, what the ACD does) writes
one PAUSE per queue: those pauses share their start instant (a line written in the next
second still takes the first one's), so the report counts them as one pause of the agent.

- a PAUSE while the member is already paused for the same reason changes nothing; with
  another reason it ends the current pause and starts a new one (the reason changed);
- an UNPAUSE or REMOVEMEMBER without an open pause changes nothing;
- QUEUESTART (Asterisk restarted: members come back unpaused, the generated queues.conf
  having ``persistentmembers = no``) ends every open pause;
- a pause whose end is not in the journal yet is stored open (no end) and closed by the
  import that reads its end: ``write_pauses`` runs in the batch's transaction, with its
  checkpoint, so a batch is counted once whatever happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from svi_acd.stats.events import MemberEvent
from svi_acd.stats.outcome import hour_periods
from svi_acd.stats.tables import StatsAgentPause

Member = tuple[str, str]  # (agent, queue)
SAME_PAUSE_S = 1  # a PAUSE this close to an open one of the agent (same reason) joins it


@dataclass(eq=False, slots=True)
class Pause:
    agent: str
    queue: str
    reason: str
    start: int
    end: int | None = None
    stored_id: int | None = None  # the row of a pause stored open by an earlier batch

    def row(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "queue": self.queue,
            "reason": self.reason,
            "start_epoch": self.start,
            "end_epoch": self.end,
            "duration_s": self.duration,
            "day": hour_periods(self.start - self.start % 3600)[0],
        }

    @property
    def duration(self) -> int | None:
        return None if self.end is None else self.end - self.start


def fold_pauses(events: Sequence[MemberEvent], open_pauses: dict[Member, Pause]) -> list[Pause]:
    """Apply ``events`` (in journal order) to the open pauses; returns the pauses changed.

    ``open_pauses`` is updated in place: afterwards it holds the pauses still open.
    """
    changed: dict[Pause, None] = {}
    for event in events:
        if event.event == "QUEUESTART":
            for pause in open_pauses.values():
                pause.end = max(event.epoch, pause.start)
                changed[pause] = None
            open_pauses.clear()
            continue
        member = (event.agent, event.queue)
        current = open_pauses.get(member)
        if event.event == "PAUSE":
            if current is not None:
                if current.reason == event.reason:
                    continue
                current.end = max(event.epoch, current.start)
                changed[current] = None
            start = _joined_start(open_pauses, event)
            started = Pause(event.agent, event.queue, event.reason, start)
            open_pauses[member] = started
            changed[started] = None
        elif current is not None:  # UNPAUSE or REMOVEMEMBER
            current.end = max(event.epoch, current.start)
            del open_pauses[member]
            changed[current] = None
    return list(changed)


def _joined_start(open_pauses: dict[Member, Pause], event: MemberEvent) -> int:
    """The start of the agent's pause in another queue begun a moment ago, else the event's."""
    for (agent, _queue), pause in open_pauses.items():
        if (
            agent == event.agent
            and pause.reason == event.reason
            and 0 <= event.epoch - pause.start <= SAME_PAUSE_S
        ):
            return pause.start
    return event.epoch


async def _open_pauses(connection: AsyncConnection) -> dict[Member, Pause]:
    p = StatsAgentPause
    query = (
        select(p.id, p.agent, p.queue, p.reason, p.start_epoch)
        .where(p.end_epoch.is_(None))
        .order_by(p.start_epoch, p.id)
    )
    pauses: dict[Member, Pause] = {}
    for row in await connection.execute(query):
        pauses[(row.agent, row.queue)] = Pause(
            row.agent, row.queue, row.reason, row.start_epoch, stored_id=row.id
        )  # the latest open one wins if there were ever two
    return pauses


async def write_pauses(connection: AsyncConnection, events: Sequence[MemberEvent]) -> int:
    """Fold one batch's member events into ``stats_agent_pauses``; returns pauses written."""
    if not events:
        return 0
    changed = fold_pauses(events, await _open_pauses(connection))
    new_rows = [pause.row() for pause in changed if pause.stored_id is None]
    closed = [
        {"b_id": pause.stored_id, "b_end": pause.end, "b_duration": pause.duration}
        for pause in changed
        if pause.stored_id is not None
    ]
    if new_rows:
        await connection.execute(insert(StatsAgentPause), new_rows)
    if closed:
        await connection.execute(
            update(StatsAgentPause)
            .where(StatsAgentPause.id == bindparam("b_id"))
            .values(end_epoch=bindparam("b_end"), duration_s=bindparam("b_duration")),
            closed,
        )
    return len(changed)
