"""Run the service with either AGI runtime against the session's lab.

The lab's dialplan serves both runtimes: the support number runs ``${SVI_AGI_URL}``, and the
heartbeat check and lease apply when it is ``agi:async``. A test switches that one global for
its duration and puts it back, so FastAGI tests before and after are untouched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from lab.runner import Lab, LabState
from svi_acd.asterisk.ami import AmiCredentials
from svi_acd.asterisk.contract import ASYNC_AGI_URL, HEARTBEAT_VARIABLE, LEASE_VARIABLE
from svi_acd.config.model import Endpoint, Settings
from svi_acd.service import RunningService, ServiceOptions, start_service

Runtime = Literal["fastagi", "asyncagi"]
RUNTIMES: tuple[Runtime, ...] = ("fastagi", "asyncagi")
READY_TIMEOUT_S = 10.0


def lab_ami_credentials(lab: Lab) -> AmiCredentials:
    user, secret = lab.ami_credentials()
    return AmiCredentials(user, secret)


def settings_for(settings: Settings, runtime: Runtime, lab_state: LabState) -> Settings:
    """``settings`` with the runtime chosen and the AMI pointed at the lab."""
    service = settings.service.model_copy(
        update={"agi_runtime": runtime, "ami": Endpoint(host="127.0.0.1", port=lab_state.ami_port)}
    )
    return settings.model_copy(update={"service": service})


@asynccontextmanager
async def lab_runtime(lab: Lab, lab_state: LabState, runtime: Runtime) -> AsyncIterator[None]:
    """Point the lab's support number at ``runtime`` for the block, then back to FastAGI."""
    if runtime == "asyncagi":
        await lab.arx(f"dialplan set global SVI_AGI_URL {ASYNC_AGI_URL}")
    try:
        yield
    finally:
        await lab.arx(f"dialplan set global SVI_AGI_URL {lab_state.agi_url}")
        await lab.arx(f"dialplan set global {HEARTBEAT_VARIABLE} 0")


async def set_lease(lab: Lab, seconds: int) -> None:
    await lab.arx(f"dialplan set global {LEASE_VARIABLE} {seconds}")


@asynccontextmanager
async def service_with(
    settings: Settings, options: ServiceOptions, lab: Lab
) -> AsyncIterator[RunningService]:
    """The service started with ``settings`` (either runtime), ready for calls, then stopped."""
    if settings.service.agi_runtime == "asyncagi" and options.ami_credentials is None:
        options.ami_credentials = lab_ami_credentials(lab)
    running = await start_service(settings, options)
    try:
        if running.async_agi is not None:
            await running.async_agi.wait_ready(READY_TIMEOUT_S)
        yield running
    finally:
        await running.stop()
