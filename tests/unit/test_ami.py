"""The AMI connection against a scripted server: framing, decoding, deadlines, reconnection.

These are the cases a real Asterisk will not produce on demand (a message split inside an
accent, a silent peer, a link cut while an Originate waits for its answer); the lab's Asterisk
covers the rest in tests/e2e/test_ami.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from svi_acd.asterisk.ami import (
    AmiActionError,
    AmiConnection,
    AmiConnectionLost,
    AmiCredentials,
    AmiError,
    AmiOptions,
    AmiStatus,
    AmiTimeout,
)
from svi_acd.asterisk.frames import AmiMessage, format_action, parse_message
from tests.unit.fake_ami import FakeAmi, frame

FAST = {"backoff_initial_s": 0.05, "backoff_max_s": 0.4, "connect_deadline_s": 2.0}


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    server.port = await server.start()  # type: ignore[attr-defined]
    yield server
    await server.stop()


def connection(fake: FakeAmi, secret: str = "secret", **options: object) -> AmiConnection:
    merged = {**FAST, **options}
    return AmiConnection(
        AmiOptions("127.0.0.1", fake.port, AmiCredentials("svi", secret), **merged)  # type: ignore[attr-defined,arg-type]
    )


@pytest.fixture
async def ami(fake: FakeAmi) -> AsyncIterator[AmiConnection]:
    client = connection(fake)
    client.start()
    await client.wait_connected(5)
    yield client
    await client.close()


# -- the wire format -------------------------------------------------------------------------
def test_repeated_headers_are_kept_and_names_are_case_insensitive() -> None:
    message = parse_message("Response: Success\r\nactionid: 7\r\nOutput: a\r\nOutput: b: c")
    assert message is not None
    assert message.action_id == "7" and message.get("ACTIONID") == "7"
    assert message.all("output") == ("a", "b: c")


def test_a_message_without_event_or_response_is_not_a_message() -> None:
    assert parse_message("hello\r\nworld") is None
    assert parse_message("Foo: bar") is None


def test_a_header_value_cannot_inject_a_second_action() -> None:
    raw = format_action("Setvar", "1", {"Variable": "X", "Value": "a\r\n\r\nAction: Hangup"})
    assert raw.count(b"\r\n\r\n") == 1
    assert b"Value: a Action: Hangup\r\n" in raw


def test_list_values_repeat_their_header() -> None:
    raw = format_action("Originate", "2", {"Variable": ["A=1", "B=2"]})
    assert b"Variable: A=1\r\nVariable: B=2\r\n" in raw


def test_status_says_when_the_next_attempt_comes() -> None:
    status = AmiStatus("reconnexion", retry_in_s=3.6, last_error="connexion refusée")
    assert status.text == "reconnexion dans 4 s (connexion refusée)"
    assert AmiStatus("arrêté").text == "arrêté"


# -- decoding --------------------------------------------------------------------------------
async def test_accent_split_across_two_tcp_reads_arrives_intact(
    fake: FakeAmi, ami: AmiConnection
) -> None:
    received: list[AmiMessage] = []
    ami.on_event("UserEvent", received.append)
    message = frame(Event="UserEvent", Texte="Fermé à Noël, réouverture lundi")
    cut = message.index("é".encode()) + 1  # inside the two bytes of "é"
    # The pause makes each half reach the client in its own read (panoramisk 1.4 drops the "é").
    await fake.send(message[:cut], message[cut:], pause_s=0.05)
    await ami.ping()  # answered after the event: the event has been handled by then
    assert [event.get("Texte") for event in received] == ["Fermé à Noël, réouverture lundi"]


async def test_unreadable_frames_are_skipped_and_the_link_stays_up(
    fake: FakeAmi, ami: AmiConnection
) -> None:
    received: list[AmiMessage] = []
    ami.on_event("*", received.append)
    await fake.send(b"garbage without headers\r\n\r\n", b"\xff\xfe\r\n\r\n",
                    frame(Event="Hangup", Channel="PJSIP/x-1"))  # fmt: skip
    await ami.ping()
    assert [event.event for event in received] == ["Hangup"]
    assert fake.connections == 1 and ami.connected


async def test_an_oversized_message_resets_the_link_then_it_comes_back(
    fake: FakeAmi, ami: AmiConnection
) -> None:
    await fake.send(b"Event: Flood\r\nData: " + b"x" * (1024 * 1024 + 10))
    await fake.wait_for(lambda: fake.connections == 2)
    await ami.wait_connected(5)
    assert ami.logins == 2


# -- login -----------------------------------------------------------------------------------
async def test_connected_only_once_the_login_is_answered(fake: FakeAmi) -> None:
    release = asyncio.Event()

    async def slow_login(fake: FakeAmi, action: dict[str, str]) -> None:
        await release.wait()
        await fake.reply(action, Message="Authentication accepted")

    fake.on("Login", slow_login)
    ami = connection(fake)
    ami.start()
    try:
        await fake.wait_action("Login")
        assert not ami.connected and ami.status.state == "connexion"
        with pytest.raises(AmiTimeout, match="AMI non connectée"):
            await ami.wait_connected(0.2)
        release.set()
        await ami.wait_connected(5)
        assert ami.connected and ami.status.text.startswith("connecté depuis ")
    finally:
        await ami.close()


async def test_login_asks_for_the_event_classes_and_filters_event_names(fake: FakeAmi) -> None:
    ami = connection(fake, event_classes=("agi", "call"), event_names=("AsyncAGIStart", "Hangup"))
    ami.start()
    try:
        await ami.wait_connected(5)
        assert fake.actions("Login")[0].action["Events"] == "agi,call"
        [event_filter] = fake.actions("Filter")
        assert event_filter.action["Operation"] == "Add"
        assert event_filter.action["Filter"] == "Event: (AsyncAGIStart|Hangup)[[:space:]]"
    finally:
        await ami.close()


async def test_no_event_classes_means_no_events(fake: FakeAmi, ami: AmiConnection) -> None:
    assert fake.actions("Login")[0].action["Events"] == "off"
    assert fake.actions("Filter") == []


async def test_refused_credentials_are_retried_with_growing_delays(fake: FakeAmi) -> None:
    ami = connection(fake, secret="wrong")
    ami.start()
    try:
        await fake.wait_for(lambda: fake.connections >= 4)
        gaps = [b - a for a, b in zip(fake.connected_at, fake.connected_at[1:], strict=False)]
        assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2  # 0.05, 0.1, 0.2 s…
        assert not ami.connected
        assert "identifiants AMI refusés pour « svi »" in (ami.status.last_error or "")
    finally:
        await ami.close()
    assert ami.status.text == "arrêté"


# -- deadlines -------------------------------------------------------------------------------
async def test_an_unanswered_action_fails_at_its_deadline(
    fake: FakeAmi, ami: AmiConnection
) -> None:
    fake.silent("QueueStatus")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(AmiTimeout, match=r"« QueueStatus » en 0\.3 s"):
        await ami.action("QueueStatus", deadline_s=0.3)
    assert 0.3 <= loop.time() - started < 1.5
    assert ami.connected  # one slow answer does not condemn the link


async def test_a_peer_that_stops_answering_pings_is_dropped_and_redialled(fake: FakeAmi) -> None:
    ami = connection(fake, ping_interval_s=0.1, action_deadline_s=0.3)
    ami.start()
    try:
        await ami.wait_connected(5)
        fake.answer_pings = False
        await fake.wait_for(lambda: fake.connections == 2)
        assert "ne répond plus au Ping" in (ami.status.last_error or "")
        fake.answer_pings = True
        await ami.wait_connected(5)
        assert ami.logins == 2
    finally:
        await ami.close()


async def test_an_error_response_raises_with_asterisk_message(
    fake: FakeAmi, ami: AmiConnection
) -> None:
    async def refuse(fake: FakeAmi, action: dict[str, str]) -> None:
        await fake.send(frame(Response="Error", ActionID=action["ActionID"],
                              Message="Channel PJSIP/x does not exist."))  # fmt: skip

    fake.on("Redirect", refuse)
    with pytest.raises(AmiActionError, match="does not exist") as raised:
        await ami.redirect("PJSIP/x", "svi-secours", "s")
    assert raised.value.response.is_error


# -- reconnection without blind replay ---------------------------------------------------------
async def test_an_originate_in_flight_when_the_link_breaks_is_not_sent_again(
    fake: FakeAmi, ami: AmiConnection
) -> None:
    fake.silent("Originate")
    originate = asyncio.create_task(ami.originate({"Channel": "PJSIP/agent1", "Exten": "1"}))
    await fake.wait_action("Originate")
    await fake.drop()
    with pytest.raises(AmiConnectionLost, match="n'est pas renvoyée"):
        await originate
    await fake.wait_for(lambda: fake.connections == 2)
    await ami.wait_connected(5)
    await ami.ping()
    assert len(fake.actions("Originate")) == 1
    assert fake.actions("Originate")[0].action["Async"] == "true"


async def test_an_idempotent_action_in_flight_is_sent_again_after_reconnection(
    fake: FakeAmi, ami: AmiConnection
) -> None:
    async def answer_on_second_link(fake: FakeAmi, action: dict[str, str]) -> None:
        if fake.connections >= 2:
            await fake.reply(action, EventList="start", Message="Channels will follow")
            await fake.send(
                frame(Event="CoreShowChannel", ActionID=action["ActionID"], Channel="PJSIP/a-1",
                      Application="AGI", ApplicationData="agi:async"),
                frame(Event="CoreShowChannelsComplete", ActionID=action["ActionID"],
                      EventList="Complete", ListItems=1),
            )  # fmt: skip

    fake.on("CoreShowChannels", answer_on_second_link)
    listing = asyncio.create_task(ami.core_show_channels())
    await fake.wait_action("CoreShowChannels")
    await fake.drop()
    channels = await asyncio.wait_for(listing, 5)
    assert [c.get("Channel") for c in channels] == ["PJSIP/a-1"]
    assert [r.connection for r in fake.actions("CoreShowChannels")] == [1, 2]


async def test_an_action_asked_while_disconnected_waits_for_the_next_login(
    fake: FakeAmi, ami: AmiConnection
) -> None:
    lost: list[str] = []
    ami.on_disconnect(lost.append)
    await fake.drop()
    await fake.wait_for(lambda: bool(lost))
    assert not ami.connected
    await ami.setvar("SVI_HEARTBEAT", "42")  # sent once the link is back
    assert fake.variables["SVI_HEARTBEAT"] == "42"
    assert fake.actions("Setvar")[0].connection == 2


async def test_login_hooks_run_after_every_login(fake: FakeAmi) -> None:
    logins: asyncio.Queue[int] = asyncio.Queue()
    ami = connection(fake)

    async def hook() -> None:
        logins.put_nowait(fake.connections)

    ami.on_login(hook)
    ami.start()
    try:
        assert await asyncio.wait_for(logins.get(), 5) == 1
        await fake.drop()
        assert await asyncio.wait_for(logins.get(), 5) == 2
    finally:
        await ami.close()


async def test_close_logs_off_fails_waiters_and_stops_redialling(fake: FakeAmi) -> None:
    ami = connection(fake)
    ami.start()
    await ami.wait_connected(5)
    fake.silent("QueueStatus")
    waiting = asyncio.create_task(ami.action("QueueStatus", deadline_s=5))
    await fake.wait_action("QueueStatus")
    await ami.close()
    with pytest.raises(AmiError, match="arrêt du service"):
        await waiting
    assert len(fake.actions("Logoff")) == 1
    assert fake.connections == 1 and ami.status.text == "arrêté"


# -- clock -----------------------------------------------------------------------------------
async def test_asterisk_clock_comes_from_the_pong_timestamp(
    fake: FakeAmi, ami: AmiConnection
) -> None:
    stamp = await ami.ping()
    assert fake.asterisk_time <= stamp < fake.asterisk_time + 1


async def test_queue_add_resolves_on_its_single_response(fake: FakeAmi, ami: AmiConnection) -> None:
    # panoramisk 1.4 reads "Added … to queue" as the start of a list and waits forever.
    fake.on("QueueAdd", lambda fake, action: fake.reply(action, Message="Added interface to queue"))
    await asyncio.wait_for(ami.queue_add("support", "PJSIP/agent1", "agent1"), 2)
    [added] = fake.actions("QueueAdd")
    assert (added.action["Queue"], added.action["Interface"], added.action["Paused"]) == (
        "support", "PJSIP/agent1", "false",
    )  # fmt: skip
