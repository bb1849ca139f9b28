"""The service is built by one builder that undoes what it built: on a failed start and on
stop, nothing it started keeps running (tasks, listening sockets)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from lab.runner import port_taken
from svi_acd.config.model import Settings
from svi_acd.service import ServiceError, ServiceOptions, start_service
from tests.e2e.conftest import free_tcp_port


def other_tasks() -> set[asyncio.Task[object]]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


async def test_a_start_that_fails_on_the_agi_port_leaves_nothing_running(
    settings: Settings, tmp_path: Path
) -> None:
    web_port = free_tcp_port()
    before = other_tasks()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        options = ServiceOptions(
            f"sqlite:///{tmp_path / 'svi.sqlite3'}", agi_port=taken.getsockname()[1],
            web_port=web_port, sound_folder=None,
        )  # fmt: skip
        data = settings.model_copy(
            update={"service": settings.service.model_copy(update={"sounds_dir": str(tmp_path)})}
        )
        with pytest.raises(ServiceError, match="FastAGI ne peut pas écouter"):
            await start_service(data, options)
    assert not port_taken(web_port, socket.SOCK_STREAM), (
        "the web server built before the failure is stopped"
    )
    await asyncio.sleep(0)  # let cancelled tasks finish
    assert other_tasks() - before == set()


async def test_stop_ends_every_task_the_service_started(settings: Settings, tmp_path: Path) -> None:
    before = other_tasks()
    data = settings.model_copy(
        update={"service": settings.service.model_copy(update={"sounds_dir": str(tmp_path)})}
    )
    service = await start_service(
        data, ServiceOptions(f"sqlite:///{tmp_path / 'svi.sqlite3'}", agi_port=0, web_port=0)
    )
    assert other_tasks() - before, "the service runs background work"
    await service.stop()
    await asyncio.sleep(0)
    assert other_tasks() - before == set()
