"""The running service: everything ``svi-acd serve`` wires together, in one place.

``start_service`` builds the graph (database, VIP directory, router, prompt catalogue, FastAGI
server) from settings and returns a handle that stops it; tests build the same graph with other
settings, a chosen clock and a chosen sound folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import OrderedDict
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.acd import tracker as acd_events
from svi_acd.acd.audit_trail import DeskAuditTrail
from svi_acd.acd.desk import Desk
from svi_acd.asterisk.ami import AmiConnection, AmiCredentials, AmiOptions
from svi_acd.cli_options import open_database
from svi_acd.clock import Clock, system_clock
from svi_acd.config.model import Settings
from svi_acd.db.base import data_dir
from svi_acd.directory.store import load_directory
from svi_acd.ivr.agi import AgiSession
from svi_acd.ivr.asyncagi import EVENT_CLASSES as ASYNCAGI_EVENT_CLASSES
from svi_acd.ivr.asyncagi import EVENT_NAMES as ASYNCAGI_EVENT_NAMES
from svi_acd.ivr.asyncagi import AsyncAgiRuntime
from svi_acd.ivr.engine import FlowResult, FlowServices, run_flow
from svi_acd.ivr.fastagi import FastAgiServer
from svi_acd.prompts.catalog import PromptCatalog, SoundFolder
from svi_acd.prompts.crisis_runtime import CrisisRuntime, start_crisis
from svi_acd.routing.caller import identify
from svi_acd.routing.decision import Router
from svi_acd.routing.directory import VipDirectory
from svi_acd.stats.journal import follow
from svi_acd.stats.measures import Thresholds
from svi_acd.stats.retention import forget_numbers_forever
from svi_acd.web.app import WebResources
from svi_acd.web.server import WebServer, start_web

log = logging.getLogger(__name__)

DIRECTORY_REFRESH_S = 30.0
OVERFLOW_LEASE_S = 3.0  # renewed every second by the instance that sweeps overflow rules
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
    ami_credentials: AmiCredentials | None = None  # None: $SVI_ACD_AMI_USER / $SVI_ACD_AMI_SECRET
    web_port: int | None = None  # None: the configured port; 0: any free port; -1: no web
    redis_url: str | None = None  # None: service.redis from the settings
    surge_tick_s: float = 1.0
    queue_log: str | None = None  # None: statistiques.journal_asterisk from the settings


class ServiceError(Exception):
    """The service cannot start as configured; the message says what to do, in French."""


@dataclass
class RunningService:
    settings: Settings
    engine: AsyncEngine
    flow: FlowServices
    agi: FastAgiServer | None  # None with the AsyncAGI runtime
    agi_port: int
    ami: AmiConnection | None = None  # None when no AMI credentials are set (FastAGI only)
    async_agi: AsyncAgiRuntime | None = None
    desk: Desk | None = None  # the ACD; None without AMI
    crisis: CrisisRuntime | None = None
    web: WebServer | None = None
    directory: VipDirectory = field(default_factory=VipDirectory)
    recent_calls: OrderedDict[str, CallRecord] = field(default_factory=OrderedDict)
    # Every part registers its own teardown as it is built: stop() undoes them in reverse.
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def refresh_directory(self) -> None:
        self.directory = await load_directory(self.engine)
        if self.desk is not None and self.desk.board.callers:
            # Someone listed while waiting (import, a P0 period that began) moves up now.
            await self.desk.reprioritize(self.priority_of)

    def priority_of(self, number: str) -> int:
        """The queue priority a caller's number is entitled to today (VIP/P0 directory)."""
        today = self.flow.clock().date()
        status = self.directory.lookup(identify(number).e164, today)
        return self.settings.vip.priority_for(status.priority is not None)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(DIRECTORY_REFRESH_S)
            try:
                await self.refresh_directory()
            except Exception:
                # Keep answering with the last known directory.
                log.exception("relecture de l'annuaire VIP impossible")

    async def handle_call(self, session: AgiSession) -> None:
        if self.crisis is not None:
            self.crisis.note_arrival()
        record = CallRecord(session.info.uniqueid, session.trace)
        self.recent_calls[record.uniqueid] = record
        while len(self.recent_calls) > RECENT_CALLS:
            self.recent_calls.popitem(last=False)
        try:
            record.result = await run_flow(self.flow, session)
        except BaseException as exc:
            record.error = repr(exc)
            raise

    def describe(self) -> str:
        """Where Asterisk reaches the service, for people (logs, serve)."""
        ami = self.settings.service.ami
        link = f"AMI {ami.host}:{ami.port} ({self.ami.status.text})" if self.ami else "sans AMI"
        web = f", API web {self.web.url}/api/" if self.web else ""
        if self.async_agi is not None:
            return f"AsyncAGI par l'{link}{web}"
        return f"FastAGI sur {self.settings.service.agi.host}:{self.agi_port}, {link}{web}"

    def health(self) -> dict[str, object]:
        """The state of the service's links, for /api/etat and supervision."""
        state: dict[str, object] = {"ami": self.ami.status.text if self.ami else "non configurée"}
        if self.crisis is not None:
            state.update(self.crisis.health())
        return state

    async def stop(self) -> None:
        """Stop taking calls, then the web, the ACD, crisis propagation, AMI, the database:
        the reverse of the order they were built in (``start_service``)."""
        await self._stack.aclose()


async def start_service(settings: Settings, options: ServiceOptions) -> RunningService:
    """Build the whole service; if any part fails, what was built is torn down again."""
    stack = AsyncExitStack()
    try:
        return await _build(stack, settings, options)
    except BaseException:
        await stack.aclose()
        raise


async def _build(
    stack: AsyncExitStack, settings: Settings, options: ServiceOptions
) -> RunningService:
    ami = ami_connection(settings, options)
    engine = await open_database(options.database_url)
    stack.push_async_callback(engine.dispose)
    folder = options.sound_folder or default_sound_folder(settings)
    prompts = await PromptCatalog.build(settings, folder)
    router = Router(settings)
    router.warm_up(options.clock())
    media_deadline = settings.crisis.max_duration_s + 30.0
    service: RunningService
    flow = FlowServices(
        settings=settings,
        router=router,
        prompts=prompts,
        clock=options.clock,
        directory=lambda: service.directory,
    )
    service = RunningService(settings, engine, flow, None, agi_port=0, ami=ami, _stack=stack)
    if ami is not None:
        stack.push_async_callback(ami.close)  # after everything that talks over it
    flow.journal = ami
    await service.refresh_directory()
    service.crisis = await start_crisis(
        settings, engine, folder, options.clock, options.redis_url, options.surge_tick_s
    )
    stack.push_async_callback(service.crisis.stop)
    flow.crisis = service.crisis.source
    if ami is not None:
        service.desk = _start_desk(stack, settings, ami, prompts, engine, service.crisis)
        flow.acd = service.desk
    if options.web_port != -1:
        service.web = await _start_web(stack, settings, options, service)
    if settings.service.agi_runtime == "asyncagi":
        assert ami is not None
        service.async_agi = AsyncAgiRuntime(ami, service.handle_call, media_deadline)
        service.async_agi.start()
        stack.push_async_callback(service.async_agi.stop)
    else:
        service.agi = FastAgiServer(lambda session: service.handle_call(session), media_deadline)
        service.agi_port = await _listen_agi(settings, options, service.agi)
        stack.push_async_callback(service.agi.stop)
    if ami is not None:
        ami.start()  # connects and reconnects in the background; ami.status tells where it is
    background = [
        service._refresh_forever(),
        # Caller numbers are personal data: erased after their retention period.
        forget_numbers_forever(engine, settings, options.clock),
    ]
    queue_log = options.queue_log or settings.statistics.queue_log
    if queue_log:
        # Statistics stay current while the service runs; calls handled while it was down are
        # caught up at the next start (the import resumes from its checkpoint).
        thresholds = Thresholds(
            settings.statistics.short_abandon_s, settings.statistics.service_level_s
        )
        background.append(follow(queue_log, engine, thresholds))
    tasks = [asyncio.create_task(work) for work in background]
    stack.push_async_callback(_cancel, tasks)
    log.info("SVI prêt : %s", service.describe())
    return service


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks, return_exceptions=True)


def _start_desk(
    stack: AsyncExitStack, settings: Settings, ami: AmiConnection, prompts: PromptCatalog,
    engine: AsyncEngine, crisis: CrisisRuntime,
) -> Desk:  # fmt: skip
    live, holder = crisis.live, f"{socket.gethostname()}:{os.getpid()}"
    desk = Desk(settings, ami, prompts.sound)
    # Supervisors' actions on the ACD go to the audit journal, written in the background.
    trail = DeskAuditTrail.on(engine)
    desk.on_journal = trail
    desk.leader = lambda: live.lease("acd-debordement", holder, OVERFLOW_LEASE_S)
    desk.attach()
    desk.start()

    async def stop() -> None:
        await desk.stop()
        await trail.flush()  # supervisors' last actions reach the journal

    stack.push_async_callback(stop)
    return desk


async def _start_web(
    stack: AsyncExitStack, settings: Settings, options: ServiceOptions, service: RunningService
) -> WebServer:
    web = settings.service.web
    port = web.port if options.web_port is None else options.web_port
    assert service.crisis is not None
    resources = WebResources(
        service.crisis.messages, service.crisis.surge, service.health,
        engine=service.engine, acd=service.desk,
    )  # fmt: skip
    try:
        server = await start_web(settings, resources, web.host, port)
    except OSError as exc:
        raise ServiceError(
            f"l'API web ne peut pas écouter sur {web.host}:{port} ({exc.strerror}) : "
            "choisissez un autre port (service.web ou --web-port)."
        ) from exc
    stack.push_async_callback(server.stop)
    return server


async def _listen_agi(settings: Settings, options: ServiceOptions, server: FastAgiServer) -> int:
    agi = settings.service.agi
    port = agi.port if options.agi_port is None else options.agi_port
    try:
        return await server.start(agi.host, port)
    except OSError as exc:
        raise ServiceError(
            f"le serveur FastAGI ne peut pas écouter sur {agi.host}:{port} ({exc.strerror}) : "
            "un autre service tourne-t-il ? (service.agi ou --agi-port)"
        ) from exc


def ami_connection(settings: Settings, options: ServiceOptions) -> AmiConnection | None:
    """The service's AMI link, subscribed to the events its parts need (AsyncAGI, the ACD)."""
    credentials = options.ami_credentials or AmiCredentials.from_env()
    asyncagi = settings.service.agi_runtime == "asyncagi"
    if credentials is None:
        if asyncagi:
            raise ServiceError(
                "le moteur AsyncAGI passe par l'AMI : définissez SVI_ACD_AMI_USER et "
                "SVI_ACD_AMI_SECRET (ou choisissez service.moteur_agi: fastagi)."
            )
        log.info("AMI non configurée (SVI_ACD_AMI_USER / SVI_ACD_AMI_SECRET absents)")
        return None
    endpoint = settings.service.ami
    return AmiConnection(
        AmiOptions(
            endpoint.host,
            endpoint.port,
            credentials,
            event_classes=(
                *(ASYNCAGI_EVENT_CLASSES if asyncagi else ()),
                *acd_events.EVENT_CLASSES,
            ),
            event_names=(*(ASYNCAGI_EVENT_NAMES if asyncagi else ()), *acd_events.EVENT_NAMES),
        )
    )
