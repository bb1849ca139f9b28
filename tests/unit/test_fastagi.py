"""The FastAGI server against a scripted peer speaking Asterisk's side of the protocol.

Edge cases that a real Asterisk produces only by accident: a peer that closes before the
headers end, a HANGUP notice in the middle of a command, 511 on a dead channel, a peer that
never answers. The normal flow is exercised end to end with a real Asterisk in tests/e2e.
"""

from __future__ import annotations

import asyncio

import pytest

from svi_acd.ivr.agi import AgiSession, call_info, parse_reply
from svi_acd.ivr.fastagi import FastAgiServer
from svi_acd.ivr.session import CallerHungUp

HEADERS = b"agi_request: agi://127.0.0.1/svi\nagi_uniqueid: 1700.1\nagi_callerid: 0145678912\n\n"


async def serve(handler) -> tuple[FastAgiServer, int]:  # type: ignore[no-untyped-def]
    server = FastAgiServer(handler, media_deadline_s=2.0)
    port = await server.start("127.0.0.1", 0)
    return server, port


async def test_session_sends_commands_and_reads_digits() -> None:
    seen: dict[str, object] = {}

    async def handler(session: AgiSession) -> None:
        seen["info"] = session.info
        seen["digit"] = await session.ask_digit(["svi/accueil"], 5)
        await session.set_variable("SVI_QUEUE", "support")

    server, port = await serve(handler)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    command = await reader.readline()
    writer.write(b"200 result=49 endpos=1200\n")
    second = await reader.readline()
    writer.write(b"200 result=1\n")
    await writer.drain()
    assert await reader.read() == b""  # the server closes once the handler is done
    await server.stop()
    assert command == b'GET OPTION svi/accueil "0123456789*#" 5000\n'
    assert second == b'SET VARIABLE SVI_QUEUE "support"\n'
    assert seen["digit"] == "1"
    assert seen["info"].uniqueid == "1700.1"  # type: ignore[attr-defined]


async def test_peer_closing_before_the_end_of_headers_does_not_spin() -> None:
    called = asyncio.Event()

    async def handler(session: AgiSession) -> None:
        called.set()

    server, port = await serve(handler)
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"agi_request: agi://127.0.0.1/svi\n")
    writer.close()
    await asyncio.sleep(0)  # let the server read EOF
    for _ in range(100):
        if server.active_calls == 0:
            break
        await asyncio.sleep(0.01)
    assert server.active_calls == 0
    assert not called.is_set()
    await server.stop()


async def test_hangup_notice_then_dead_channel_raises_caller_hung_up() -> None:
    outcome: dict[str, BaseException] = {}

    async def handler(session: AgiSession) -> None:
        try:
            await session.play(["svi/accueil"])
            await session.set_variable("X", "1")
        except CallerHungUp as exc:
            outcome["error"] = exc
            raise

    server, port = await serve(handler)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    await reader.readline()
    writer.write(b"HANGUP\n200 result=0 endpos=300\n")
    await writer.drain()
    assert await reader.read() == b""  # no further command is sent after the notice
    await server.stop()
    assert isinstance(outcome["error"], CallerHungUp)


async def test_a_peer_that_never_answers_hits_the_deadline() -> None:
    outcome: dict[str, BaseException] = {}

    async def handler(session: AgiSession) -> None:
        try:
            await session.command("ANSWER", deadline_s=0.2)
        except TimeoutError as exc:
            outcome["error"] = exc
            raise

    server, port = await serve(handler)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS)
    assert await reader.readline() == b"ANSWER\n"
    assert await reader.read() == b""  # the server gave up and closed
    await server.stop()
    assert isinstance(outcome["error"], TimeoutError)


def test_replies_are_parsed_and_dead_channels_detected() -> None:
    reply = parse_reply("200 result=1234 (timeout)")
    assert (reply.number, reply.timed_out) == (1234, True)
    assert parse_reply("200 result=-1 endpos=0").number == -1
    with pytest.raises(CallerHungUp):
        parse_reply("511 Command Not Permitted on a dead channel or intercept routine")


async def test_answer_is_skipped_only_when_the_dialplan_says_it_answered() -> None:
    sent: list[str] = []

    async def send(line: str, deadline_s: float) -> str:
        sent.append(line)
        return "200 result=0"

    answered = call_info({"agi_uniqueid": "1.1", "agi_arg_1": "repondu"})
    await AgiSession(answered, send, 5.0).answer()
    assert sent == []
    await AgiSession(call_info({"agi_uniqueid": "1.2"}), send, 5.0).answer()
    assert sent == ["ANSWER"]


# Asterisk 22's order; it writes one line per write() and the flow needs only the first ones.
FIRST_LINES = b"agi_network: yes\nagi_network_script: svi?repondu\n" \
    b"agi_request: agi://127.0.0.1:4573/svi?repondu\nagi_channel: PJSIP/appelants-00000001\n" \
    b"agi_language: fr\nagi_type: PJSIP\nagi_uniqueid: 1700.7\nagi_version: 22.5.2\n" \
    b"agi_callerid: 0145678912\n"  # fmt: skip
LAST_LINES = b"agi_calleridname: 0145678912\nagi_context: appelants\nagi_extension: 3000\n" \
    b"agi_priority: 9\nagi_threadid: 1402\nagi_arg_1: repondu\n\n"  # fmt: skip


async def test_an_answered_call_starts_before_the_rest_of_the_headers() -> None:
    seen: dict[str, object] = {}

    async def handler(session: AgiSession) -> None:
        seen["info"] = session.info
        await session.answer()
        seen["digit"] = await session.ask_digit(["svi/accueil"], 5)

    server, port = await serve(handler)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(FIRST_LINES)  # and not a byte more for now
    async with asyncio.timeout(5):
        command = await reader.readline()
    # The rest of the headers, then the reply: the reply is not mistaken for a header.
    writer.write(LAST_LINES + b"200 result=50 endpos=800\n")
    await writer.drain()
    assert await reader.read() == b""
    await server.stop()
    assert command == b'GET OPTION svi/accueil "0123456789*#" 5000\n'  # no ANSWER first
    assert seen["digit"] == "2"
    assert seen["info"].caller_number == "0145678912"  # type: ignore[attr-defined]


async def test_without_the_mark_in_the_url_the_whole_header_block_is_read_first() -> None:
    seen: dict[str, object] = {}

    async def handler(session: AgiSession) -> None:
        seen["info"] = session.info
        await session.answer()
        await session.play(["svi/accueil"])

    server, port = await serve(handler)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(FIRST_LINES.replace(b"?repondu", b""))
    writer.write(LAST_LINES)  # the mark comes only as the last argument
    # Started early, the flow would not know the channel is up and would send ANSWER.
    assert await reader.readline() == b'STREAM FILE svi/accueil "0123456789*#"\n'
    writer.write(b"200 result=0 endpos=800\n")
    await writer.drain()
    assert await reader.read() == b""
    await server.stop()
    assert seen["info"].answered is True  # type: ignore[attr-defined]
