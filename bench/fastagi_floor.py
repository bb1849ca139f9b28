"""The least a FastAGI server can do (not the service, not a test): send the first prompt as
soon as the caller's number is in, then hand the call back to the dialplan.

``bench/calls.py`` runs it next to the service: what it adds to the first prompt is what the
AGI exchange itself costs on the machine (Asterisk's connection and header lines, one Python
process woken up), the floor under which no FastAGI service can go.

Run: python bench/fastagi_floor.py PORT SOUND
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sound: str) -> None:
    try:
        while (line := await reader.readline()) and not line.startswith(b"agi_callerid:"):
            pass
        writer.write(f'GET OPTION {sound} "0123456789*#" 3000\n'.encode())
        sock = writer.get_extra_info("socket")
        with contextlib.suppress(OSError, AttributeError):  # as the service does (ivr.fastagi)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        # The rest of the headers, then the prompt's reply.
        while (line := await reader.readline()) and not line.startswith(b"200"):
            pass
    finally:
        writer.close()


async def main(port: int, sound: str) -> None:
    server = await asyncio.start_server(
        lambda reader, writer: serve(reader, writer, sound), "127.0.0.1", port
    )
    print("prêt", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
