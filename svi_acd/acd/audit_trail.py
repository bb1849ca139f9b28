"""``Desk.on_journal`` for the service and the CLI: each supervisor's action on the ACD (agent
login, logout, pause, resume, caller priority, overflow switch) goes to the audit journal.

``Desk._record`` calls the hook synchronously in the middle of a request: the row is written
in the background (``BackgroundRecorder``), the request never waits for the database, and a
write that fails is logged. A caller is named by the call's uniqueid, never by their number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.acd.desk import AcdJournalEntry
from svi_acd.audit.background import BackgroundRecorder


@dataclass
class DeskAuditTrail:
    recorder: BackgroundRecorder

    @classmethod
    def on(cls, engine: AsyncEngine) -> DeskAuditTrail:
        return cls(BackgroundRecorder(engine))

    def __call__(self, entry: AcdJournalEntry) -> None:
        at = datetime.fromtimestamp(entry.at, UTC)
        self.recorder.submit(entry.actor, "acd", entry.action, entry.subject, entry.detail, at)

    async def flush(self) -> None:
        await self.recorder.flush()
