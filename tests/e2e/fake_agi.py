"""Scripted FastAGI peers standing in for the service, to test the dialplan's contract."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_environment(reader: asyncio.StreamReader) -> dict[str, str]:
    """The ``agi_*: value`` lines Asterisk sends first, up to the blank line."""
    environment: dict[str, str] = {}
    while line := (await reader.readline()).decode().strip():
        key, _, value = line.partition(": ")
        environment[key] = value
    return environment


async def command(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, text: str) -> str:
    writer.write(f"{text}\n".encode())
    await writer.drain()
    return (await asyncio.wait_for(reader.readline(), 5)).decode().strip()


@asynccontextmanager
async def fake_agi(port: int, handler: Handler) -> AsyncIterator[list[dict[str, str]]]:
    """A FastAGI server on 127.0.0.1:``port``; yields the environments of the calls it took."""
    calls: list[dict[str, str]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        calls.append(await read_environment(reader))
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        yield calls
    finally:
        server.close()
        await server.wait_closed()


async def crash_after_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The service dies mid-call: one command, then the connection drops."""
    await command(reader, writer, "ANSWER")
    writer.transport.abort()


async def finish_flow_to_queue(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """What the flow engine does at the end of a flow: leave the queue, mark the flow done."""
    for line in ('SET VARIABLE SVI_QUEUE "support"', 'SET VARIABLE QUEUE_PRIO "10"',
                 'SET VARIABLE SVI_FLOW_DONE "1"'):  # fmt: skip
        assert (await command(reader, writer, line)).startswith("200")


async def silent_until_hangup(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A stuck service: answers nothing, and closes only when Asterisk says HANGUP."""
    while line := await reader.readline():
        if line.startswith(b"HANGUP"):
            return
