"""Run SIPp callers and agents against the lab, always on 127.0.0.1.

The scenarios (``lab/sipp/*.xml``) take their parameters as keywords (``-key``) and, per call,
from an injection file (caller number, digits). Each SIPp instance gets its own SIP port and a
media port whose +2 neighbour is free too (SIPp binds both).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lab.system import LabError

DEFAULT_SCENARIOS = Path(__file__).resolve().parent / "sipp"
AUDIO_PCAP = "/usr/share/sip-tester/g711a.pcap"
MEDIA_PORT_RANGE = (7000, 9990)  # below Asterisk's RTP range (10000-19998)
STOP_TIMEOUT_S = 5.0

_taken_media_ports: set[int] = set()


def scenarios_dir() -> Path:
    """``$SVI_ACD_SIPP_SCENARIOS``, else the repository's ``lab/sipp``."""
    configured = os.environ.get("SVI_ACD_SIPP_SCENARIOS")
    return Path(configured) if configured else DEFAULT_SCENARIOS


def sipp_binary() -> str:
    found = shutil.which("sipp")
    if not found:
        raise LabError("sipp introuvable : installez le paquet Debian sip-tester (svi-acd lab up).")
    return found


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_sip_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def allocate_media_port() -> int:
    """A media port p with p..p+3 free and not handed out yet in this process."""
    start, end = MEDIA_PORT_RANGE
    for port in range(start, end, 4):
        if port in _taken_media_ports:
            continue
        if all(_udp_free(port + offset) for offset in range(4)):
            _taken_media_ports.add(port)
            return port
    raise LabError(f"aucun port média libre entre {start} et {end} sur 127.0.0.1.")


def release_media_port(port: int) -> None:
    _taken_media_ports.discard(port)


@dataclass(frozen=True)
class Call:
    """One scripted call: who calls and which digits they press ("" for none)."""

    caller: str
    digits: str = ""


@dataclass(frozen=True)
class CallerScript:
    """A set of calls placed by one SIPp instance, one after the other at ``rate`` per second."""

    calls: tuple[Call, ...]
    exten: str = "3000"
    rate: float = 1.0
    wait_s: float = 2.0  # answer -> first digit
    hold_s: float = 10.0  # after the digits -> the caller hangs up (unless the far end did)
    audio: bool = False
    speak_after_s: float = 0.0  # > 0: the caller speaks again that long after the digits

    def duration_bound_s(self) -> float:
        """An upper bound of how long the whole run can take (for SIPp's global timeout)."""
        return len(self.calls) / self.rate + self.wait_s + self.speak_after_s + self.hold_s + 30


@dataclass
class SippResult:
    returncode: int
    successful: int
    failed: int
    output: str = field(repr=False)


_STAT = re.compile(r"^\s*(Successful|Failed) call\s*\|.*\|\s*(\d+)\s*$", re.MULTILINE)


def parse_counts(output: str) -> tuple[int, int]:
    """(successful, failed) from the last statistics screen SIPp printed."""
    counts = {"Successful": 0, "Failed": 0}
    for kind, value in _STAT.findall(output):
        counts[kind] = int(value)
    return counts["Successful"], counts["Failed"]


def injection_file(calls: Sequence[Call], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"appels-{os.getpid()}-{id(calls)}.csv"
    lines = ["SEQUENTIAL", *(f"{call.caller};{call.digits or '-'}" for call in calls)]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def caller_command(
    script: CallerScript, sip_port: int, media_port: int, local_port: int, inf: Path
) -> list[str]:
    return [
        sipp_binary(), f"127.0.0.1:{sip_port}",
        "-sf", str(scenarios_dir() / "caller.xml"),
        "-inf", str(inf), "-s", script.exten,
        "-m", str(len(script.calls)), "-l", str(len(script.calls)),
        "-r", f"{script.rate:g}", "-rp", "1000",
        "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(local_port), "-mp", str(media_port),
        "-key", "wait_ms", str(round(script.wait_s * 1000)),
        "-key", "hold_ms", str(round(script.hold_s * 1000)),
        "-key", "audio", "1" if script.audio else "0",
        "-key", "audio_pcap", AUDIO_PCAP,
        "-key", "speak_ms", str(round(script.speak_after_s * 1000)),
        "-timeout", f"{round(script.duration_bound_s())}s", "-timeout_error",
        "-nostdin", "-trace_err",
    ]  # fmt: skip


def agent_command(port: int, media_port: int, answer_s: float, talk_s: float) -> list[str]:
    return [
        sipp_binary(), "-sf", str(scenarios_dir() / "agent.xml"),
        "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(port), "-mp", str(media_port),
        "-key", "answer_ms", str(round(answer_s * 1000)),
        "-key", "talk_ms", str(round(talk_s * 1000)),
        "-nostdin", "-trace_err",
    ]  # fmt: skip


class SippProcess:
    """One SIPp process with its own working folder; its screens go to ``<workdir>/sipp.out``.

    (A pipe nobody reads would fill up with SIPp's periodic screens and block it.)
    """

    def __init__(self, command: list[str], workdir: Path, media_port: int) -> None:
        self.command = command
        self.workdir = workdir
        self.media_port = media_port
        self.output_file = workdir / "sipp.out"
        self._process: asyncio.subprocess.Process | None = None

    def _open_output(self) -> BinaryIO:
        self.workdir.mkdir(parents=True, exist_ok=True)
        return open(self.output_file, "wb")  # closed by start() once SIPp holds it

    async def start(self) -> None:
        output = await asyncio.to_thread(self._open_output)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command, cwd=self.workdir, stdin=asyncio.subprocess.DEVNULL,
                stdout=output, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        finally:
            output.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def wait(self, timeout_s: float) -> SippResult:
        assert self._process is not None
        try:
            await asyncio.wait_for(self._process.wait(), timeout_s)
        except TimeoutError:
            await self.stop()
            raise LabError(
                f"SIPp n'a pas fini en {timeout_s:g} s ; sortie : {self.output_file}"
            ) from None
        finally:
            release_media_port(self.media_port)
        output = await asyncio.to_thread(self.output_file.read_text, "utf-8", "replace")
        successful, failed = parse_counts(output)
        return SippResult(self._process.returncode or 0, successful, failed, output)

    async def stop(self) -> None:
        process = self._process
        release_media_port(self.media_port)
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()


async def run_callers(script: CallerScript, sip_port: int, workdir: Path) -> SippResult:
    """Place the scripted calls and wait until SIPp has finished them all."""
    inf = injection_file(script.calls, workdir)
    media_port = allocate_media_port()
    command = caller_command(script, sip_port, media_port, free_sip_port(), inf)
    process = SippProcess(command, workdir, media_port)
    try:
        await process.start()
        return await process.wait(script.duration_bound_s() + 10)
    finally:
        await process.stop()
        inf.unlink(missing_ok=True)


@asynccontextmanager
async def agents_answering(
    agents: Sequence[tuple[str, int]], workdir: Path, answer_s: float = 1.0, talk_s: float = 5.0
) -> AsyncIterator[list[SippProcess]]:
    """An SIPp UAS per agent (name, port) for the duration of the block, stopped at the end."""
    processes: list[SippProcess] = []
    try:
        for name, port in agents:
            media_port = allocate_media_port()
            command = agent_command(port, media_port, answer_s, talk_s)
            process = SippProcess(command, workdir / name, media_port)
            processes.append(process)
            await process.start()
        await _wait_listening([port for _, port in agents])
        yield processes
    finally:
        for process in processes:
            await process.stop()


async def _wait_listening(ports: Sequence[int], timeout_s: float = 5.0) -> None:
    """SIPp binds its port a little after it starts: wait until every port is taken."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while any(_udp_free(port) for port in ports):
        if loop.time() > deadline:
            raise LabError(f"les agents SIPp n'écoutent pas sur {list(ports)} après {timeout_s} s.")
        await asyncio.sleep(0.05)
