"""What the ACD's end-to-end tests share: the service with its AMI link, the board, queue_log.

The service runs in-process with its AMI link to the lab (the ACD needs it). Agents are paused
through the service (``Desk.pause``) to hold callers in the queue, then unpaused to let the
queue serve them; what happened is read in queue_log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from lab.queue_log import QueueLogEntry, read_queue_log, wait_for_queue_log
from lab.runner import Lab, LabState
from svi_acd.acd.board import AcdSnapshot
from svi_acd.acd.desk import Desk
from svi_acd.config.model import OverflowRule, Settings
from svi_acd.directory.store import replace_directory
from svi_acd.routing.directory import DirectoryEntry
from svi_acd.service import RunningService, ServiceOptions
from tests.e2e.calls import SettableClock
from tests.e2e.conftest import MAILBOX
from tests.e2e.runtimes import lab_ami_credentials, service_with, settings_for

QUEUE = "support"
ACTOR = "test"
SATURE = {"type": "message", "annonce": "sature"}


def voicemail_messages(lab: Lab) -> set[Path]:
    """The messages in the lab's overflow mailbox (MAILBOX), as files of their headers."""
    inbox = lab.asterisk_dir / "spool" / "voicemail" / "default" / MAILBOX / "INBOX"
    return set(inbox.glob("msg*.txt"))


def rule(name: str, condition: str, threshold: float, destination: dict[str, str]) -> OverflowRule:
    return OverflowRule.model_validate(
        {"nom": name, "file": QUEUE, "condition": condition, "seuil": threshold,
         "destination": destination}
    )  # fmt: skip


def with_acd(settings: Settings, rules: tuple[OverflowRule, ...], callback_port: int = 0):
    callback = settings.callback.model_copy(
        update={"dial": f"PJSIP/appelants/sip:{{numero}}@127.0.0.1:{callback_port or 9}",
                "ring_s": 10}
    )  # fmt: skip
    return settings.model_copy(update={"overflow": rules, "callback": callback})


@asynccontextmanager
async def acd_service(
    lab: Lab, lab_state: LabState, settings: Settings, clock: SettableClock, tmp_path: Path
) -> AsyncIterator[tuple[RunningService, Desk]]:
    options = ServiceOptions(
        f"sqlite:///{tmp_path / 'svi.sqlite3'}", clock=clock, web_port=-1,
        ami_credentials=lab_ami_credentials(lab),
    )  # fmt: skip
    # Calls of earlier tests in the session may share a number: look only at what follows.
    _seen_before[lab.queue_log] = (
        len(read_queue_log(lab.queue_log)) if lab.queue_log.exists() else 0
    )
    async with service_with(settings_for(settings, "fastagi", lab_state), options, lab) as running:
        vip = DirectoryEntry("+33612345678", "Marie Dupont", "DG", "Paris", "VIP")
        await replace_directory(running.engine, [vip], source="test", imported_by="test")
        await running.refresh_directory()
        desk = running.desk
        assert desk is not None, "avec l'AMI, le service a un ACD"
        await board_until(desk, lambda snap: snap.connected and len(snap.agents) == 2)
        try:
            yield running, desk
        finally:
            for agent in list(desk.board.agents):
                await desk.unpause(agent, ACTOR)
            # No call of this test may outlive it (the lab serves the whole session).
            await lab.arx("channel request hangup all")


async def board_until(
    desk: Desk, condition: Callable[[AcdSnapshot], bool], timeout_s: float = 15
) -> AcdSnapshot:
    """Wait for the board to satisfy ``condition`` (woken by each change, no sleeping)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    version = -1
    while True:
        snapshot = desk.snapshot()
        if condition(snapshot):
            return snapshot
        if loop.time() > deadline:
            raise TimeoutError(f"tableau ACD : condition non atteinte ; état : {snapshot}")
        version = await desk.wait_change(version if version >= 0 else desk.board.version, 1.0)


async def pause_all(desk: Desk) -> None:
    for interface in list(desk.board.agents):
        await desk.pause(interface, "formation", ACTOR)
    await board_until(desk, lambda snap: all(state == "pause" for _, state in snap.agents))


_seen_before: dict[Path, int] = {}  # queue_log -> lines written before the current service


def _recent(lab: Lab, entries: list[QueueLogEntry]) -> list[QueueLogEntry]:
    return entries[_seen_before.get(lab.queue_log, 0) :]


async def entered(lab: Lab, number: str, timeout_s: float = 20) -> str:
    """The uniqueid of the call from ``number`` once it is in the queue (this test's calls)."""

    def matches(entries: list[QueueLogEntry]) -> list[str]:
        return [e.call_id for e in _recent(lab, entries)
                if e.event == "ENTERQUEUE" and number in e.data[1:2]]  # fmt: skip

    entries = await wait_for_queue_log(lab.queue_log, lambda found: bool(matches(found)), timeout_s)
    return matches(entries)[0]


async def logged(lab: Lab, call_id: str, event: str, timeout_s: float = 30) -> QueueLogEntry:
    def found(entries: list[QueueLogEntry]) -> bool:
        return any(e.call_id == call_id and e.event == event for e in entries)

    entries = await wait_for_queue_log(lab.queue_log, found, timeout_s)
    return next(e for e in entries if e.call_id == call_id and e.event == event)


def order_of(lab: Lab, event: str, call_ids: list[str]) -> list[str]:
    return [e.call_id for e in read_queue_log(lab.queue_log)
            if e.event == event and e.call_id in call_ids]  # fmt: skip
