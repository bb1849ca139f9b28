"""The AMI connection against the lab's real Asterisk: login, filters, deadlines, reconnection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from lab.runner import Lab, LabState
from svi_acd.asterisk.ami import (
    AmiConnection,
    AmiCredentials,
    AmiOptions,
    AmiTimeout,
)
from svi_acd.asterisk.frames import AmiMessage
from svi_acd.config.model import Settings
from tests.e2e.conftest import free_tcp_port, free_udp_block, free_udp_port
from tests.e2e.runtimes import lab_ami_credentials

pytestmark = pytest.mark.e2e

TEST_CONTEXT = "essais-ami"


def lab_connection(
    lab_state: LabState, credentials: AmiCredentials, **options: object
) -> AmiConnection:
    return AmiConnection(AmiOptions("127.0.0.1", lab_state.ami_port, credentials, **options))  # type: ignore[arg-type]


@pytest.fixture
async def ami(lab: Lab, lab_state: LabState) -> AsyncIterator[AmiConnection]:
    connection = lab_connection(lab_state, lab_ami_credentials(lab))
    connection.start()
    await connection.wait_connected(10)
    yield connection
    await connection.close()


async def until(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(poll_s)


async def test_login_is_awaited_and_asterisk_answers_with_its_clock(ami: AmiConnection) -> None:
    assert ami.connected and ami.status.text.startswith("connecté depuis ")
    assert abs(await ami.ping() - time.time()) < 2
    assert any("Asterisk 22" in line for line in await ami.command("core show version"))


async def test_refused_credentials_are_reported_in_french_and_retried(
    lab: Lab, lab_state: LabState
) -> None:
    user, _ = lab.ami_credentials()
    connection = lab_connection(lab_state, AmiCredentials(user, "mauvais"), backoff_initial_s=0.1)
    connection.start()
    try:
        await until(lambda: "identifiants AMI refusés" in (connection.status.last_error or ""), 10)
        assert not connection.connected
        assert connection.status.text.startswith("reconnexion dans ")
    finally:
        await connection.close()


async def originate_local_and_collect(ami: AmiConnection, lab: Lab) -> list[AmiMessage]:
    """A Local call into a two-step context (answer, hang up); every event the link got."""
    seen: list[AmiMessage] = []
    ami.on_event("*", seen.append)
    before = len(seen)
    await ami.originate({"Channel": f"Local/1@{TEST_CONTEXT}", "Application": "Wait",
                         "Data": "0.2"})  # fmt: skip
    await until(lambda: sum(e.event == "Hangup" for e in seen[before:]) >= 2, 10)
    return seen[before:]


@pytest.fixture
async def test_context(lab: Lab) -> AsyncIterator[None]:
    await lab.arx(f"dialplan add extension 1,1,Answer into {TEST_CONTEXT} replace")
    await lab.arx(f"dialplan add extension 1,2,Hangup into {TEST_CONTEXT} replace")
    await lab.arx(f"dialplan add extension 2,1,Wait,5 into {TEST_CONTEXT} replace")
    yield


async def test_events_are_filtered_to_the_names_the_service_handles(
    lab: Lab, lab_state: LabState, test_context: None
) -> None:
    credentials = lab_ami_credentials(lab)
    whole_class = lab_connection(lab_state, credentials, event_classes=("call",))
    filtered = lab_connection(
        lab_state, credentials, event_classes=("call",), event_names=("Hangup",)
    )
    for connection in (whole_class, filtered):
        connection.start()
        await connection.wait_connected(10)
    try:
        everything = {event.event for event in await originate_local_and_collect(whole_class, lab)}
        only = {event.event for event in await originate_local_and_collect(filtered, lab)}
    finally:
        await whole_class.close()
        await filtered.close()
    assert {"Newchannel", "Hangup"} <= everything  # the class alone sends much more
    assert only == {"Hangup"}


async def test_originate_is_always_async_a_synchronous_one_blocks_the_whole_link(
    lab: Lab, lab_state: LabState, test_context: None
) -> None:
    ami = lab_connection(lab_state, lab_ami_credentials(lab), ping_interval_s=60)
    ami.start()
    await ami.wait_connected(10)
    # Extension 2 never answers (it waits 5 s, then ends): the Originate fails after 5 s.
    target = {"Channel": f"Local/2@{TEST_CONTEXT}", "Application": "Wait", "Data": "1"}
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        response = await ami.originate(target)  # Async: true, the outcome comes as an event
        assert response.message == "Originate successfully queued"
        assert loop.time() - started < 1
        with pytest.raises(AmiTimeout, match="Originate"):
            await ami.action("Originate", target, deadline_s=1.0, idempotent=False)
        started = loop.time()
        await ami.action("Ping", deadline_s=10)
        # Asterisk runs one link's actions in turn: the Ping waited for the Originate.
        assert loop.time() - started > 2
    finally:
        await ami.close()


async def test_reconnects_with_back_off_when_asterisk_restarts(
    lab_settings: Settings, tmp_path: Path
) -> None:
    # A lab of its own: the session's lab must not be restarted under the other tests.
    other = Lab(lab_settings, tmp_path / "lab", sip_port=free_udp_port(),
                ami_port=free_tcp_port(), agi_port=free_tcp_port(), agent_count=1,
                agent_base_port=free_udp_block(1))  # fmt: skip
    await other.astart()
    state = other.status()
    assert state is not None
    logins: list[float] = []
    lost: list[str] = []
    connection = lab_connection(state, lab_ami_credentials(other), backoff_initial_s=0.2,
                                backoff_max_s=1.0, ping_interval_s=1.0)  # fmt: skip

    async def on_login() -> None:
        logins.append(time.monotonic())

    connection.on_login(on_login)
    connection.on_disconnect(lost.append)
    connection.start()
    try:
        await connection.wait_connected(10)
        await other.astop()
        await until(lambda: bool(lost), 10)
        await until(lambda: connection.status.state == "reconnexion", 10)
        assert connection.status.text.startswith("reconnexion dans ")
        # Asked while Asterisk is down: sent once it is back, within the deadline.
        pinging = asyncio.create_task(connection.action("Ping", deadline_s=30))
        try:
            await other.astart()
            assert (await pinging).get("Ping") == "Pong"
        finally:
            pinging.cancel()
        assert connection.logins == 2
        await until(lambda: len(logins) == 2, 5)
    finally:
        await connection.close()
        await other.astop()
