"""AsyncAGI never leaves a caller in silence: real Asterisk, real SIPp, the real service.

With ``AGI(agi:async)`` and nobody driving the call, Asterisk would wait until the caller gives
up. Each test takes the service away in a different way (never there, stopped cleanly, AMI
link cut mid-call, process killed mid-menu and restarted, killed for good) and checks in the
queue_log that the caller still reached the queue, and how fast. The flow itself is tested on
both runtimes by test_call_flow.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lab.queue_log import QueueLogEntry, read_queue_log, wait_for_queue_log
from lab.runner import Lab, LabState
from lab.sipp import SippProcess
from svi_acd.asterisk.confgen.dialplan import ASYNC_LEASE_S, flow_guard_s
from svi_acd.asterisk.contract import HEARTBEAT_VARIABLE
from svi_acd.config.model import Endpoint, Settings
from svi_acd.service import ServiceOptions
from tests.e2e.calls import OPEN, SettableClock, events, place_call, serve_process, wait_ready
from tests.e2e.runtimes import (
    lab_ami_credentials,
    lab_runtime,
    service_with,
    set_lease,
    settings_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def asyncagi_lab(lab: Lab, lab_state: LabState) -> AsyncIterator[Lab]:
    """The lab's support number on AsyncAGI for the test (FastAGI again afterwards)."""
    async with lab_runtime(lab, lab_state, "asyncagi"):
        yield lab


@pytest.fixture
def async_settings(flow_settings: Settings, lab_state: LabState) -> Settings:
    return settings_for(flow_settings, "asyncagi", lab_state)


def options(tmp_path: Path) -> ServiceOptions:
    return ServiceOptions(f"sqlite:///{tmp_path / 'svi.sqlite3'}", clock=SettableClock(OPEN))


def call_start(uniqueid: str) -> float:
    return float(uniqueid.split(".")[0])  # Asterisk's uniqueid starts with the epoch


async def new_call(lab: Lab, known: int, event: str, timeout_s: float = 15) -> QueueLogEntry:
    """The first ``event`` logged after the first ``known`` queue_log lines."""
    entries = await wait_for_queue_log(
        lab.queue_log, lambda found: any(e.event == event for e in found[known:]), timeout_s
    )
    return next(e for e in entries[known:] if e.event == event)


def entry(journal: list[QueueLogEntry], uniqueid: str, event: str) -> QueueLogEntry:
    return next(e for e in journal if e.call_id == uniqueid and e.event == event)


async def queue_log_until(lab: Lab, uniqueid: str, event: str) -> list[QueueLogEntry]:
    def seen(found: list[QueueLogEntry]) -> bool:
        return any(e.call_id == uniqueid and e.event == event for e in found)

    return await wait_for_queue_log(lab.queue_log, seen, 40)


# -- the service is not there --------------------------------------------------------------------
async def test_without_a_fresh_heartbeat_callers_go_straight_to_the_queue(
    asyncagi_lab: Lab, lab_state: LabState, agents: list[SippProcess], tmp_path: Path
) -> None:
    lab = asyncagi_lab
    await lab.arx(f"dialplan set global {HEARTBEAT_VARIABLE} {int(time.time()) - 60}")
    known = len(read_queue_log(lab.queue_log))
    sipp = await place_call(lab_state, tmp_path, "0140000301")
    fallback = await new_call(lab, known, "SVI_FALLBACK")
    journal = await queue_log_until(lab, fallback.call_id, "CONNECT")
    assert (await sipp).failed == 0
    assert fallback.data == ("NOSERVICE",)
    assert [e.event for e in journal if e.call_id == fallback.call_id][:2] == [
        "SVI_FALLBACK", "ENTERQUEUE",
    ]  # fmt: skip
    # At once: not after the lease (30 s) nor the flow guard (minutes).
    assert entry(journal, fallback.call_id, "ENTERQUEUE").time - call_start(fallback.call_id) <= 3


async def test_a_service_stopped_cleanly_hands_its_caller_back_and_turns_the_guard_on(
    asyncagi_lab: Lab, lab_state: LabState, agents: list[SippProcess], async_settings: Settings,
    tmp_path: Path,
) -> None:  # fmt: skip
    lab = asyncagi_lab
    async with service_with(async_settings, options(tmp_path), lab) as service:
        assert service.ami is not None and service.ami.status.text.startswith("connecté")
        known = len(read_queue_log(lab.queue_log))
        in_menu = await place_call(lab_state, tmp_path / "1", "0140000302", hold_s=40)
        uniqueid = (await new_call(lab, known, "SVI_CALL")).call_id
    stopped_at = time.time()
    journal = await queue_log_until(lab, uniqueid, "ENTERQUEUE")
    assert [e.event for e in journal if e.call_id == uniqueid][:3] == [
        "SVI_CALL", "SVI_FALLBACK", "ENTERQUEUE",
    ]  # fmt: skip
    assert entry(journal, uniqueid, "ENTERQUEUE").time - stopped_at < 4  # not after the lease
    # Its last heartbeat is seconds old, but the stop set it to 0: no new caller waits for it.
    known = len(read_queue_log(lab.queue_log))
    after_stop = await place_call(lab_state, tmp_path / "2", "0140000306")
    fallback = await new_call(lab, known, "SVI_FALLBACK")
    assert fallback.data == ("NOSERVICE",)
    await queue_log_until(lab, fallback.call_id, "CONNECT")
    assert (await in_menu).failed == 0 and (await after_stop).failed == 0


# -- the service goes away during a call --------------------------------------------------------
class CuttableLink:
    """A TCP relay on 127.0.0.1 between the service and Asterisk's AMI that a test can cut."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def cut(self) -> None:
        self.cuts += 1
        for writer in list(self._writers):
            writer.transport.abort()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {writer, up_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        tasks = {asyncio.create_task(pump(reader, up_writer)),
                 asyncio.create_task(pump(up_reader, writer))}  # fmt: skip
        self._tasks |= tasks
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks -= tasks
        self._writers -= {writer, up_writer}


async def test_an_ami_link_cut_mid_call_is_swept_and_the_caller_reaches_the_queue(
    asyncagi_lab: Lab, lab_state: LabState, agents: list[SippProcess], async_settings: Settings,
    tmp_path: Path,
) -> None:  # fmt: skip
    lab = asyncagi_lab
    link = CuttableLink(lab_state.ami_port)
    port = await link.start()
    service_settings = async_settings.model_copy(
        update={"service": async_settings.service.model_copy(
            update={"ami": Endpoint(host="127.0.0.1", port=port)})}
    )  # fmt: skip
    try:
        async with service_with(service_settings, options(tmp_path), lab) as service:
            assert service.async_agi is not None and service.ami is not None
            known = len(read_queue_log(lab.queue_log))
            # The caller presses nothing: the service holds the call in its menu.
            sipp = await place_call(lab_state, tmp_path, "0140000303", hold_s=40)
            uniqueid = (await new_call(lab, known, "SVI_CALL")).call_id
            link.cut()
            cut_at = time.time()
            journal = await queue_log_until(lab, uniqueid, "CONNECT")
            assert (await sipp).failed == 0
            assert service.async_agi.swept == 1
            assert service.ami.logins == 2
            record = service.recent_calls[uniqueid]
            assert record.result is None and record.error is not None  # the walk was abandoned
    finally:
        await link.stop()
    assert [e.event for e in journal if e.call_id == uniqueid][:3] == [
        "SVI_CALL", "SVI_FALLBACK", "ENTERQUEUE",
    ]  # fmt: skip
    # Reconnection (0.5 s), the sweep's grace (1 s), then the fallback's message and queue.
    assert entry(journal, uniqueid, "ENTERQUEUE").time - cut_at < 6


def lab_serve_process(settings: Settings, lab: Lab, tmp_path: Path) -> subprocess.Popen[bytes]:
    credentials = lab_ami_credentials(lab)
    env = {"SVI_ACD_AMI_USER": credentials.username, "SVI_ACD_AMI_SECRET": credentials.secret}
    return serve_process(settings, tmp_path, env=env)


async def wait_asyncagi_ready(process: subprocess.Popen[bytes]) -> None:
    line = await wait_ready(process)
    assert "AsyncAGI" in line and "connecté" in line, line


@contextlib.asynccontextmanager
async def killed_mid_menu(
    lab: Lab, lab_state: LabState, settings: Settings, tmp_path: Path, caller: str
) -> AsyncIterator[tuple[str, float, asyncio.Task[object]]]:
    """A ``svi-acd serve`` process killed (SIGKILL) once the caller is in its menu."""
    process = lab_serve_process(settings, lab, tmp_path)
    try:
        await wait_asyncagi_ready(process)
        known = len(read_queue_log(lab.queue_log))
        sipp = await place_call(lab_state, tmp_path, caller, hold_s=60)
        uniqueid = (await new_call(lab, known, "SVI_CALL")).call_id
        os.kill(process.pid, signal.SIGKILL)
        yield uniqueid, time.time(), sipp  # type: ignore[misc]
    finally:
        if process.poll() is None:
            process.kill()
        await asyncio.get_running_loop().run_in_executor(None, process.wait)


async def test_a_service_killed_mid_menu_and_restarted_sweeps_its_caller_to_the_queue(
    asyncagi_lab: Lab, lab_state: LabState, agents: list[SippProcess], async_settings: Settings,
    tmp_path: Path,
) -> None:  # fmt: skip
    lab = asyncagi_lab
    async with killed_mid_menu(lab, lab_state, async_settings, tmp_path, "0140000304") as (
        uniqueid, killed_at, sipp,
    ):  # fmt: skip
        async with service_with(async_settings, options(tmp_path / "next"), lab) as service:
            journal = await queue_log_until(lab, uniqueid, "CONNECT")
            assert service.async_agi is not None and service.async_agi.swept == 1
        assert (await sipp).failed == 0  # type: ignore[attr-defined]
    assert events([(e.event, e.data) for e in journal if e.call_id == uniqueid])[:3] == [
        "SVI_CALL", "SVI_FALLBACK", "ENTERQUEUE",
    ]  # fmt: skip
    # Well before the caller's lease ends: the new instance's first sweep took the call.
    assert entry(journal, uniqueid, "ENTERQUEUE").time - killed_at < ASYNC_LEASE_S / 2


async def test_a_service_killed_for_good_loses_its_caller_to_the_queue_when_the_lease_ends(
    asyncagi_lab: Lab, lab_state: LabState, agents: list[SippProcess], async_settings: Settings,
    tmp_path: Path,
) -> None:  # fmt: skip
    lab = asyncagi_lab
    lease_s = 4
    await set_lease(lab, lease_s)  # the service reads it at login and renews at a third of it
    try:
        async with killed_mid_menu(lab, lab_state, async_settings, tmp_path, "0140000305") as (
            uniqueid, killed_at, sipp,
        ):  # fmt: skip
            journal = await queue_log_until(lab, uniqueid, "CONNECT")
            assert (await sipp).failed == 0  # type: ignore[attr-defined]
    finally:
        await set_lease(lab, ASYNC_LEASE_S)
    fallback = entry(journal, uniqueid, "SVI_FALLBACK")
    assert fallback.data == ("HANGUP",)  # the lease's T extension, not a service's doing
    enter = entry(journal, uniqueid, "ENTERQUEUE")
    assert enter.time - killed_at <= lease_s + 3
    assert flow_guard_s(lab.settings, lab.dialplan) > 60  # what the caller was spared
