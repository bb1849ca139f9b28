"""The running service: everything ``svi-acd serve`` wires together, in one place.

``start_service`` builds the graph (database, VIP directory, router, prompt catalogue, FastAGI
server) from settings and returns a handle that stops it; tests build the same graph with other
settings, a chosen clock and a chosen sound folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.cli_options import open_database
from svi_acd.clock import Clock, system_clock
from svi_acd.config.model import Settings
from svi_acd.db.base import data_dir
from svi_acd.directory.store import load_directory
from svi_acd.ivr.agi import AgiSession
from svi_acd.ivr.engine import FlowResult, FlowServices, run_flow
from svi_acd.ivr.fastagi import FastAgiServer
from svi_acd.prompts.catalog import PromptCatalog, SoundFolder
from svi_acd.routing.decision import Router
from svi_acd.routing.directory import VipDirectory

log = logging.getLogger(__name__)

DIRECTORY_REFRESH_S = 30.0
RECENT_CALLS = 500  # kept in memory for support and tests; caller numbers stay out of them


@dataclass
class CallRecord:
    """What the service did for one call (AGI commands and replies, outcome)."""

    uniqueid: str
    trace: list[tuple[str, str]]
    result: FlowResult | None = None
    error: str | None = None

    def commands(self, verb: str = "") -> list[str]:
        return [command for command, _ in self.trace if command.startswith(verb)]


def default_sound_folder(settings: Settings) -> SoundFolder:
    host = Path(settings.service.sounds_dir) if settings.service.sounds_dir else data_dir() / "sons"
    return SoundFolder(host, settings.service.asterisk_sounds_dir or str(host))


@dataclass
class ServiceOptions:
    database_url: str
    clock: Clock = system_clock
    sound_folder: SoundFolder | None = None
    agi_port: int | None = None  # None: the configured port; 0: any free port


@dataclass
class RunningService:
    settings: Settings
    engine: AsyncEngine
    flow: FlowServices
    agi: FastAgiServer
    agi_port: int
    directory: VipDirectory = field(default_factory=VipDirectory)
    recent_calls: OrderedDict[str, CallRecord] = field(default_factory=OrderedDict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def refresh_directory(self) -> None:
        self.directory = await load_directory(self.engine)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(DIRECTORY_REFRESH_S)
            try:
                await self.refresh_directory()
            except Exception:
                # Keep answering with the last known directory.
                log.exception("relecture de l'annuaire VIP impossible")

    async def handle_call(self, session: AgiSession) -> None:
        record = CallRecord(session.info.uniqueid, session.trace)
        self.recent_calls[record.uniqueid] = record
        while len(self.recent_calls) > RECENT_CALLS:
            self.recent_calls.popitem(last=False)
        try:
            record.result = await run_flow(self.flow, session)
        except BaseException as exc:
            record.error = repr(exc)
            raise

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.agi.stop()
        await self.engine.dispose()


async def start_service(settings: Settings, options: ServiceOptions) -> RunningService:
    engine = await open_database(options.database_url)
    folder = options.sound_folder or default_sound_folder(settings)
    prompts = await PromptCatalog.build(settings, folder)
    router = Router(settings)
    media_deadline = settings.crisis.max_duration_s + 30.0
    service: RunningService
    flow = FlowServices(
        settings=settings,
        router=router,
        prompts=prompts,
        clock=options.clock,
        directory=lambda: service.directory,
    )
    agi = FastAgiServer(lambda session: service.handle_call(session), media_deadline)
    port = settings.service.agi.port if options.agi_port is None else options.agi_port
    service = RunningService(settings, engine, flow, agi, agi_port=0)
    await service.refresh_directory()
    service.agi_port = await agi.start(settings.service.agi.host, port)
    service._tasks.append(asyncio.create_task(service._refresh_forever()))
    log.info("SVI prêt : FastAGI sur %s:%s", settings.service.agi.host, service.agi_port)
    return service
