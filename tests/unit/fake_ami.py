"""A scripted AMI server on 127.0.0.1, for the cases a real Asterisk will not produce on demand.

It greets, answers Login/Ping/Filter/Setvar/Getvar/Logoff like Asterisk, records every action
it receives (with the connection number), and lets a test answer an action its own way
(``on``), stay silent, push raw bytes, or drop the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Action = dict[str, str]
Responder = Callable[["FakeAmi", Action], Awaitable[None] | None]
GREETING = b"Asterisk Call Manager/11.0.0\r\n"


def frame(**fields: str | int) -> bytes:
    """An AMI message; keys like ``Action_ID`` are not needed: pass ``ActionID=...``."""
    return ("".join(f"{key}: {value}\r\n" for key, value in fields.items()) + "\r\n").encode()


@dataclass
class Received:
    connection: int
    action: Action
    at: float = field(default_factory=time.monotonic)


class FakeAmi:
    def __init__(self, *, secret: str = "secret", asterisk_time: float = 1_800_000_000.25) -> None:
        self.secret = secret
        self.asterisk_time = asterisk_time
        self.received: list[Received] = []
        self.connected_at: list[float] = []
        self.responders: dict[str, Responder] = {}
        self.answer_pings = True
        self.variables: dict[str, str] = {}
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._changed = asyncio.Event()

    # -- control ------------------------------------------------------------------------------
    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        await self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def connections(self) -> int:
        return len(self.connected_at)

    def on(self, action: str, responder: Responder) -> None:
        self.responders[action.lower()] = responder

    def silent(self, action: str) -> None:
        self.on(action, lambda fake, received: None)

    async def send(self, *chunks: bytes, pause_s: float = 0.0) -> None:
        """Write ``chunks`` one by one; with a pause, each reaches the client in its own read."""
        assert self._writer is not None, "aucun client connecté"
        for chunk in chunks:
            self._writer.write(chunk)
            await self._writer.drain()
            if pause_s:
                await asyncio.sleep(pause_s)

    async def reply(self, received: Action, **fields: str | int) -> None:
        await self.send(frame(Response="Success", ActionID=received["ActionID"], **fields))

    async def drop(self) -> None:
        if self._writer is not None:
            self._writer.transport.abort()
            self._writer = None

    def actions(self, name: str) -> list[Received]:
        return [r for r in self.received if r.action.get("Action", "").lower() == name.lower()]

    async def wait_for(self, condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
        async with asyncio.timeout(timeout_s):
            while True:
                self._changed.clear()
                if condition():
                    return
                await self._changed.wait()

    async def wait_action(self, name: str, count: int = 1, timeout_s: float = 5.0) -> Action:
        await self.wait_for(lambda: len(self.actions(name)) >= count, timeout_s)
        return self.actions(name)[count - 1].action

    def _notify(self) -> None:
        self._changed.set()

    # -- serving ------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.connected_at.append(time.monotonic())
        number = self.connections
        self._notify()
        writer.write(GREETING)
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action: Action = {}
                for line in raw.decode().split("\r\n"):
                    key, _, value = line.partition(": ")
                    if key:
                        action[key] = value
                self.received.append(Received(number, action))
                self._notify()
                if self._writer is writer:
                    await self._answer(action)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._notify()

    async def _answer(self, action: Action) -> None:
        name = action.get("Action", "").lower()
        responder = self.responders.get(name)
        if responder is not None:
            result = responder(self, action)
            if result is not None:
                await result
            return
        if name == "login":
            if action.get("Secret") == self.secret:
                await self.reply(action, Message="Authentication accepted")
            else:
                await self.send(frame(Response="Error", ActionID=action["ActionID"],
                                      Message="Authentication failed"))  # fmt: skip
        elif name == "ping":
            if self.answer_pings:
                await self.reply(action, Ping="Pong", Timestamp=f"{self.asterisk_time:.6f}")
        elif name == "setvar":
            self.variables[action["Variable"]] = action.get("Value", "")
            await self.reply(action, Message="Variable Set")
        elif name == "getvar":
            value = self.variables.get(action["Variable"], "")
            await self.reply(action, Variable=action["Variable"], Value=value)
        elif name == "logoff":
            await self.send(frame(Response="Goodbye", ActionID=action["ActionID"]))
            await self.drop()
        else:
            await self.reply(action)
