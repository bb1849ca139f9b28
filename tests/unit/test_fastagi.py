"""The FastAGI server against a scripted peer speaking Asterisk's side of the protocol.

Edge cases that a real Asterisk produces only by accident: a peer that closes before the
headers end, a HANGUP notice in the middle of a command, 511 on a dead channel, a peer that
never answers. The normal flow is exercised end to end with a real Asterisk in tests/e2e.
"""

from __future__ import annotations

import asyncio

import pytest

from svi_acd.ivr.agi import AgiError, AgiSession, call_info, parse_reply
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


@pytest.mark.parametrize(
    ("line", "failed", "key", "entry", "timed_out"),
    [
        # STREAM FILE / GET OPTION / WAIT FOR DIGIT: a key's character code, 0 for none.
        ("200 result=49 endpos=1200", False, "1", "49", False),
        ("200 result=35 endpos=800", False, "#", "35", False),
        ("200 result=0 endpos=16000", False, None, "0", False),
        ("200 result=-1 endpos=0", True, None, "", False),  # gone, or a missing sound
        # GET DATA: the digits themselves.
        ("200 result=20261234", False, None, "20261234", False),
        ("200 result=2026 (timeout)", False, None, "2026", True),
        ("200 result= (timeout)", False, None, "", True),  # nothing typed: not a hang-up
        ("200 result=", False, None, "", False),  # "#" alone
        ("200 result=12*4", False, None, "12*4", False),
        ("200 result=-1", True, None, "", False),  # the caller hung up while typing
    ],
)
def test_every_reply_form_is_read_as_asterisk_means_it(
    line: str, failed: bool, key: str | None, entry: str, timed_out: bool
) -> None:
    reply = parse_reply(line)
    assert (reply.failed, reply.key, reply.entry, reply.timed_out) == (
        failed, key, entry, timed_out
    )  # fmt: skip


def test_dead_channels_and_refusals_are_told_apart() -> None:
    with pytest.raises(CallerHungUp):
        parse_reply("511 Command Not Permitted on a dead channel or intercept routine")
    with pytest.raises(AgiError, match="refusée"):
        parse_reply("510 Invalid or unknown command")
    with pytest.raises(AgiError, match="illisible"):
        parse_reply("garbage")


@pytest.mark.parametrize(
    ("replies", "typed", "get_data"),
    [
        (["200 result=0 endpos=100", "200 result= (timeout)"], "", "GET DATA svi/ticket 10000 44"),
        (["200 result=0 endpos=100", "200 result=2026 (timeout)"], "2026",
         "GET DATA svi/ticket 10000 44"),
        # A digit typed during the first prompt starts the entry; GET DATA reads the rest.
        (["200 result=50 endpos=100", "200 result=026"], "2026", "GET DATA silence/1 10000 43"),
        (["200 result=35 endpos=100"], "", None),  # "#" during the first prompt
    ],
)  # fmt: skip
async def test_a_ticket_entry_that_times_out_is_an_entry_not_a_hang_up(
    replies: list[str], typed: str, get_data: str | None
) -> None:
    answers = iter(replies)
    sent: list[str] = []

    async def send(text: str, deadline_s: float) -> str:
        sent.append(text)
        return next(answers)

    session = AgiSession(call_info({"agi_uniqueid": "1.1"}), send, media_deadline_s=2.0)
    assert await session.read_digits(["svi/saisie", "svi/ticket"], 44, 10) == typed
    assert sent[1:] == ([get_data] if get_data else [])


async def test_a_hang_up_while_typing_is_a_hang_up() -> None:
    async def send(text: str, deadline_s: float) -> str:
        return "200 result=-1" if text.startswith("GET DATA") else "200 result=0 endpos=1"

    session = AgiSession(call_info({"agi_uniqueid": "1.1"}), send, media_deadline_s=2.0)
    with pytest.raises(CallerHungUp):
        await session.read_digits(["svi/saisie", "svi/ticket"], 12, 10)


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
