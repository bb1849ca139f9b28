"""AGI command round trip: FastAGI against AsyncAGI over AMI, callers silent or sending audio.

Run (root, Debian): .venv/bin/python bench/agi_latency.py [--calls 5] [--commands 20]

Starts its own lab on free ports, then for each runtime and each kind of caller places SIPp
calls to the support number; the service side answers and sends ``GET VARIABLE`` commands in
a row, timing each from the send to the reply, then ends the flow (the call hangs up). Not a
test: prints a table. AsyncAGI is expected near 100 ms per command with silent callers
(Asterisk polls its command queue every 100 ms without incoming frames) and near 20 ms with
20 ms RTP frames; FastAGI answers in a few ms.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import time
from pathlib import Path

from lab.runner import Lab
from lab.sipp import Call, CallerScript, run_callers
from svi_acd.asterisk.ami import AmiConnection, AmiCredentials, AmiOptions
from svi_acd.asterisk.contract import ASYNC_AGI_URL
from svi_acd.config.loader import load_settings
from svi_acd.ivr.agi import AgiSession
from svi_acd.ivr.asyncagi import EVENT_CLASSES, EVENT_NAMES, AsyncAgiRuntime
from svi_acd.ivr.fastagi import FastAgiServer


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Probe:
    """The service side: answer, time ``commands`` GET VARIABLE, end the flow."""

    def __init__(self, commands: int) -> None:
        self.commands = commands
        self.samples: list[float] = []

    async def __call__(self, session: AgiSession) -> None:
        await session.answer()
        for _ in range(self.commands):
            started = time.perf_counter()
            await session.command("GET VARIABLE CHANNEL(name)")
            self.samples.append(time.perf_counter() - started)
        await session.set_variable("SVI_QUEUE", "")
        await session.set_variable("SVI_FLOW_DONE", "1")


async def place_calls(lab: Lab, calls: int, audio: bool, workdir: Path) -> None:
    state = lab.status()
    assert state is not None
    script = CallerScript(
        calls=tuple(Call(f"01400{n:05d}") for n in range(calls)),
        exten=state.support_exten, rate=2.0, wait_s=0.5, hold_s=30.0, audio=audio,
    )  # fmt: skip
    await run_callers(script, state.sip_port, workdir)


async def measure(lab: Lab, runtime: str, audio: bool, args: argparse.Namespace) -> list[float]:
    probe = Probe(args.commands)
    workdir = Path(tempfile.mkdtemp(prefix="agi-latency-"))
    if runtime == "fastagi":
        server = FastAgiServer(probe, media_deadline_s=30)
        await server.start("127.0.0.1", lab.agi_port)
        try:
            await place_calls(lab, args.calls, audio, workdir)
        finally:
            await server.stop()
        return probe.samples
    credentials = AmiCredentials(*lab.ami_credentials())
    options = AmiOptions("127.0.0.1", lab.ami_port, credentials, event_classes=EVENT_CLASSES,
                         event_names=EVENT_NAMES)  # fmt: skip
    ami = AmiConnection(options)
    agi = AsyncAgiRuntime(ami, probe, media_deadline_s=30)
    agi.start()
    ami.start()
    await lab.arx(f"dialplan set global SVI_AGI_URL {ASYNC_AGI_URL}")
    try:
        await agi.wait_ready(10)
        await place_calls(lab, args.calls, audio, workdir)
    finally:
        await agi.stop()
        await ami.close()
        state = lab.status()
        assert state is not None
        await lab.arx(f"dialplan set global SVI_AGI_URL {state.agi_url}")
    return probe.samples


def row(runtime: str, audio: bool, samples: list[float]) -> str:
    if len(samples) < 2:
        return f"| {runtime} | {'oui' if audio else 'non'} | {len(samples)} | – | – | – |"
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (f"| {runtime} | {'oui' if audio else 'non'} | {len(ms)} | "
            f"{statistics.median(ms):.1f} | {p95:.1f} | {ms[-1]:.1f} |")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--commands", type=int, default=20)
    args = parser.parse_args()
    settings = load_settings()
    lab = Lab(settings, Path(tempfile.mkdtemp(prefix="agi-latency-lab-")),
              sip_port=free_port(socket.SOCK_DGRAM), ami_port=free_port(),
              agi_port=free_port(), agent_count=1,
              agent_base_port=free_port(socket.SOCK_DGRAM))  # fmt: skip
    await lab.astart()
    lines = ["| moteur | audio appelant | commandes | p50 (ms) | p95 (ms) | max (ms) |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    try:
        for runtime in ("fastagi", "asyncagi"):
            for audio in (False, True):
                lines.append(row(runtime, audio, await measure(lab, runtime, audio, args)))
    finally:
        await lab.astop()
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
