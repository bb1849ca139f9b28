"""The crisis capability as the service runs it: live state, messages, surge monitor, and the
flow engine's crisis source, with their background tasks.

``start_crisis`` loads the snapshot from the database (the source of truth) before the first
call, starts the live-state backend, re-reads the database every ``crise.relecture_s``
seconds (changes made with the CLI, or missed while Redis was down) and runs the surge
monitor. The service hands ``source`` to the flow engine and ``note_arrival`` to its call
handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.config.model import Settings
from svi_acd.live import LiveState, open_live_state
from svi_acd.live.crisis_source import LiveCrisisSource
from svi_acd.prompts.catalog import SoundFolder
from svi_acd.prompts.crisis import CrisisMessages
from svi_acd.prompts.crisis_files import CrisisSoundFiles
from svi_acd.prompts.crisis_store import load_snapshot
from svi_acd.prompts.surge import SurgeMonitor

log = logging.getLogger(__name__)


@dataclass
class CrisisRuntime:
    live: LiveState
    messages: CrisisMessages
    surge: SurgeMonitor
    source: LiveCrisisSource
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def note_arrival(self) -> None:
        self.surge.note_arrival()

    def health(self) -> dict[str, Any]:
        return {
            "etat_partage": self.live.status().as_json(),
            "afflux": self.surge.status.alert,
        }

    async def _refresh_forever(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                if await self.messages.refresh():
                    log.info("état de crise relu dans la base (révision %s)",
                             self.live.snapshot().revision)  # fmt: skip
            except Exception:
                log.exception("relecture de l'état de crise impossible ; dernier état conservé")

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.live.stop()


async def start_crisis(
    settings: Settings, engine: AsyncEngine, folder: SoundFolder, clock: Callable[[], datetime],
    redis_url: str | None = None, surge_tick_s: float = 1.0,
) -> CrisisRuntime:  # fmt: skip
    files = CrisisSoundFiles(folder, settings.crisis.kept_versions)
    live = open_live_state(settings, lambda: load_snapshot(engine), redis_url)
    await live.start(await load_snapshot(engine))
    messages = CrisisMessages(settings, engine, live, files, clock)
    surge = SurgeMonitor(settings.crisis.surge, live, messages, tick_s=surge_tick_s)
    runtime = CrisisRuntime(live, messages, surge, LiveCrisisSource(live, files.sound_name))
    runtime.tasks += [
        asyncio.create_task(runtime._refresh_forever(settings.crisis.refresh_s)),
        asyncio.create_task(surge.run_forever()),
    ]
    status = live.status()
    log.info("état de crise chargé (révision %s, %s)", status.revision, status.detail)
    return runtime
