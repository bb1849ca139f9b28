"""Audit writes that nobody waits for: synchronous code (the ACD desk) hands a change over and
goes on; the row is written by a task of its own.

Writes are made one after the other, in the order they were handed over (rows of one instant
keep their order). A write that fails is logged with everything it should have written (never
silently lost); ``flush()`` waits for the writes in flight, before the engine is closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.audit.store import AuditDomain, record

log = logging.getLogger(__name__)


@dataclass
class BackgroundRecorder:
    engine: AsyncEngine
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    failures: int = 0  # writes lost (each one logged)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # FIFO: one write at a time

    def submit(
        self, actor: str, domain: AuditDomain, action: str, subject: str, detail: str = "",
        at: datetime | None = None,
    ) -> None:  # fmt: skip
        """Schedule the write and return at once (needs a running event loop)."""
        moment = at or self.clock()
        what = (actor, domain, action, subject, detail, moment)
        try:
            task = asyncio.get_running_loop().create_task(self._write(what))
        except RuntimeError:  # no event loop running: nothing can write it
            self.failures += 1
            log.exception("journal d'audit : écriture impossible hors boucle asyncio : %s", what)
            return
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(done, what))

    async def _write(self, what: tuple[Any, ...]) -> None:
        actor, domain, action, subject, detail, moment = what
        async with self._turn:
            await record(self.engine, actor, domain, action, subject, detail, at=moment)

    def _finished(self, task: asyncio.Task[None], what: tuple[object, ...]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            self.failures += 1
            log.error("journal d'audit : écriture annulée, perdue : %s", what)
        elif (error := task.exception()) is not None:
            self.failures += 1
            log.error("journal d'audit : écriture impossible (%s) : %s", error, what,
                      exc_info=error)  # fmt: skip

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def flush(self) -> None:
        """Wait for every write in flight (failures are already logged by then)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
