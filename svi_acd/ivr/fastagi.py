"""FastAGI runtime: Asterisk opens one TCP connection per call to ``agi://host:port/svi``.

A small asyncio server instead of panoramisk's FastAGI application (its header loop spins
forever when the peer closes early, and it has no per-command deadline). Here every read has
a deadline, the header read stops at EOF, a ``HANGUP`` notice from Asterisk ends the walk, and
each call's task is tracked so that stopping the server cancels and awaits them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable

from svi_acd.ivr.agi import AgiSession, call_info, enough_to_start, parse_headers
from svi_acd.ivr.session import CallerHungUp

log = logging.getLogger(__name__)

HEADER_DEADLINE_S = 5.0
MAX_HEADER_LINES = 200
MAX_LINE_BYTES = 64 * 1024

CallHandler = Callable[[AgiSession], Awaitable[object]]


class AgiConnectionClosed(CallerHungUp):
    """Asterisk closed the socket (the channel is gone or the AGI was torn down)."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.hung_up = False
        self.headers_left = False  # the flow started before the end of the headers

    async def read_line(self, deadline_s: float) -> str:
        # asyncio.timeout, not wait_for: no extra task per line on the call's critical path.
        async with asyncio.timeout(deadline_s):
            raw = await self.reader.readline()
        if not raw:
            raise AgiConnectionClosed("connexion AGI fermée par Asterisk")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    async def headers(self) -> dict[str, str]:
        """The agi_* block up to its blank line, or only up to what the flow needs to start.

        Asterisk writes the block one line per write; a dialplan that answered says so in the
        URL (``?repondu``, second line), and then the flow starts once the caller's number is
        in: its first command waits in the socket until Asterisk has written the rest, which
        ``send`` reads before the command's reply. EOF ends the block, never a spin.
        """
        headers: dict[str, str] = {}
        async with asyncio.timeout(HEADER_DEADLINE_S):
            for _ in range(MAX_HEADER_LINES):
                line = await self.read_header_line()
                if not line:
                    return headers
                headers.update(parse_headers([line]))
                if enough_to_start(headers):
                    self.headers_left = True
                    return headers
        raise AgiConnectionClosed("en-têtes AGI trop longs")

    async def read_header_line(self) -> str:
        try:
            raw = await self.reader.readline()
        except ValueError:  # longer than the reader's limit
            raise AgiConnectionClosed("en-têtes AGI trop longs") from None
        if not raw.endswith(b"\n"):
            raise AgiConnectionClosed("connexion AGI fermée avant la fin des en-têtes")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    def ack_at_once(self) -> None:
        # Asterisk writes its headers under Nagle: the last ones wait for our ACK, and it reads
        # our command only after them. Having just sent data, Linux would delay that ACK (up to
        # 40 ms, "interactive" mode): ask for it at once.
        sock = self.writer.get_extra_info("socket")
        if sock is not None and hasattr(socket, "TCP_QUICKACK"):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    async def skip_headers_left(self, deadline_s: float) -> None:
        async with asyncio.timeout(deadline_s):
            while await self.read_header_line():
                pass
        self.headers_left = False

    async def send(self, command: str, deadline_s: float) -> str:
        if self.hung_up:
            raise CallerHungUp("l'appelant a raccroché")
        self.writer.write(command.encode("utf-8") + b"\n")
        await self.writer.drain()
        if self.headers_left:
            self.ack_at_once()
            await self.skip_headers_left(deadline_s)
        while True:
            line = await self.read_line(deadline_s)
            if line.startswith("HANGUP"):
                # Asterisk's notice that the caller left; the command's own reply follows.
                self.hung_up = True
                continue
            if line.startswith("520-"):
                # Multi-line usage message: read to its last line.
                while not line.startswith("520 "):
                    line = await self.read_line(deadline_s)
            return line


class FastAgiServer:
    """Accepts Asterisk's connections and runs ``handler`` for each call."""

    def __init__(self, handler: CallHandler, media_deadline_s: float) -> None:
        self.handler = handler
        self.media_deadline_s = media_deadline_s
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(
            self._accept, host, port, limit=MAX_LINE_BYTES, reuse_address=True
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._calls):
            task.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)  # type: ignore[arg-type]
        try:
            await self._serve(_Connection(reader, writer))
        finally:
            self._calls.discard(task)  # type: ignore[arg-type]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, connection: _Connection) -> None:
        try:
            headers = await connection.headers()
        except (TimeoutError, CallerHungUp, ConnectionError) as exc:
            log.warning("connexion AGI abandonnée avant les en-têtes : %s", exc)
            return
        session = AgiSession(call_info(headers), connection.send, self.media_deadline_s)
        extra = {"uniqueid": session.info.uniqueid}
        try:
            await self.handler(session)
        except CallerHungUp as exc:
            log.info("appelant parti pendant le SVI (%s)", exc, extra=extra)
        except (TimeoutError, ConnectionError) as exc:
            log.warning("Asterisk ne répond plus : %r ; le plan de secours prend l'appel", exc,
                        extra=extra)  # fmt: skip
        except Exception:
            # Whatever breaks inside, the dialplan's fallback still queues the caller.
            log.exception("erreur dans le SVI ; le plan de secours prend l'appel", extra=extra)
