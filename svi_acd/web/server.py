"""Serve the web application from inside the service (``svi-acd serve``), on loopback by default."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from svi_acd.config.model import Settings
from svi_acd.web.app import WebResources, create_app


@dataclass
class WebServer:
    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_web(settings: Settings, resources: WebResources, host: str, port: int) -> WebServer:
    """Start the app on ``host:port`` (0: any free port) with objects the service already built."""

    @asynccontextmanager
    async def given() -> AsyncIterator[WebResources]:
        yield resources  # the service owns them and closes them itself

    runner = web.AppRunner(create_app(settings, given), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1] if runner.addresses else port
    return WebServer(runner, host, int(bound))
