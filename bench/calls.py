"""Call-rate ramp through the full flow (service over FastAGI) and through the same menu in pure
dialplan, on the same lab Asterisk (not a test: prints a table).

Run (root, Debian): .venv/bin/python bench/calls.py [--rates 2,5,10] [--seconds 15]

For each rate and each path, SIPp callers (sending audio, as real callers do) dial the number,
press 1 during the welcome prompt and wait; SIPp agents answer after 0.2 s and talk 0.5 s. The
table gives calls placed, calls that reached an agent (CONNECT in queue_log), abandons, the
time from the channel's creation to the start of the first prompt (AMI events with Asterisk's
own timestamps: AGIExecStart of the first prompt command, or Newexten of Background()), and
the service process's CPU and RSS during the step.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from svi_acd.config.loader import load_settings
from svi_acd.config.model import Settings
from svi_acd.lab.queue_log import read_queue_log
from svi_acd.lab.runner import Lab, LabState
from svi_acd.lab.sipp import Call, CallerScript, agents_answering, run_callers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


OPEN = datetime(2026, 7, 8, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
AGENTS = 10
PROMPT_COMMANDS = ("GET OPTION", "STREAM FILE")


# -- a minimal AMI event reader (the bench must not depend on the code it measures) --------------
@dataclass
class EventLog:
    created: dict[str, float] = field(default_factory=dict)  # uniqueid -> Newchannel time
    first_prompt: dict[str, float] = field(default_factory=dict)

    def take(self, frame: dict[str, str]) -> None:
        event, uniqueid = frame.get("Event"), frame.get("Uniqueid", "")
        stamp = float(frame.get("Timestamp", "0") or 0)
        if event == "Newchannel" and frame.get("Exten") in {"3000", "3001"}:
            self.created.setdefault(uniqueid, stamp)
        elif uniqueid in self.created and uniqueid not in self.first_prompt:
            prompt = (
                event == "AGIExecStart" and frame.get("Command", "").startswith(PROMPT_COMMANDS)
            ) or (event == "Newexten" and frame.get("Application", "").lower() == "background")
            if prompt:
                self.first_prompt[uniqueid] = stamp


async def read_events(
    port: int, user: str, secret: str, log: EventLog, ready: asyncio.Event
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    login = f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n"
    writer.write(f"{login}Events: call,agi,dialplan\r\n\r\n".encode())
    await writer.drain()
    ready.set()
    try:
        while True:
            block = await reader.readuntil(b"\r\n\r\n")
            frame = dict(
                line.split(": ", 1)
                for line in block.decode(errors="replace").split("\r\n")
                if ": " in line
            )
            log.take(frame)
    finally:
        writer.close()


# -- the service process ---------------------------------------------------------------------------
def service_settings(settings: Settings, lab: Lab) -> Settings:
    data = settings.model_dump(by_alias=True)
    host, port = lab.agi_endpoint
    data["service"]["agi"] = {"hote": host, "port": port}
    data["service"]["dossier_sons"] = str(lab.sounds_dir)
    data["service"]["dossier_sons_asterisk"] = lab.paths.sounds
    return Settings.model_validate(data)


def start_service(settings: Settings, workdir: Path) -> subprocess.Popen[bytes]:
    config = workdir / "svi.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json", by_alias=True)))
    command = [
        sys.executable,
        "-m",
        "svi_acd",
        "serve",
        "--config",
        str(config),
        "--clock",
        OPEN.isoformat(),
        "--db",
        f"sqlite:///{workdir / 'svi.sqlite3'}",
        "--log-level",
        "WARNING",
    ]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, env={**os.environ, "SVI_ACD_DATA": str(workdir)}
    )
    assert process.stderr is not None
    while b"Service pr" not in (line := process.stderr.readline()):
        if not line:
            raise SystemExit("le service ne démarre pas")
    return process


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- one step of the ramp --------------------------------------------------------------------------
@dataclass
class Step:
    path: str
    rate: float
    placed: int
    connected: int
    abandoned: int
    sip_failed: int
    p50_ms: float | None
    p99_ms: float | None
    cpu_pct: float | None
    rss_mb: float | None


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run_step(
    lab: Lab, state: LabState, events: EventLog, path: str, exten: str, rate: float, seconds: float,
    service_pid: int, workdir: Path,
) -> Step:  # fmt: skip
    count = max(1, round(rate * seconds))
    known = set(events.created)
    calls = tuple(Call(f"0140{index:06d}", "1") for index in range(count))
    script = CallerScript(calls=calls, exten=exten, rate=rate, wait_s=1.0, hold_s=20.0, audio=True)
    cpu_before, wall_before = cpu_seconds(service_pid), time.monotonic()
    result = await run_callers(script, state.sip_port, workdir / f"{path}-{rate:g}")
    cpu = (cpu_seconds(service_pid) - cpu_before) / (time.monotonic() - wall_before) * 100
    mine = [uid for uid in events.created if uid not in known]
    entries = read_queue_log(lab.queue_log)
    connected = {e.call_id for e in entries if e.event == "CONNECT"}
    abandoned = {e.call_id for e in entries if e.event == "ABANDON"}
    delays = [
        (events.first_prompt[uid] - events.created[uid]) * 1000
        for uid in mine
        if uid in events.first_prompt
    ]
    flow = path == "SVI complet"  # the service works only on that path
    return Step(
        path, rate, count, len(connected.intersection(mine)), len(abandoned.intersection(mine)),
        result.failed, percentile(delays, 0.5), percentile(delays, 0.99),
        cpu if flow else None, rss_mb(service_pid) if flow else None,
    )  # fmt: skip


def show(value: float | None, pattern: str) -> str:
    return "—" if value is None else format(value, pattern)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rates", default="2,5,10", help="appels par seconde, séparés par des virgules"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="durée de chaque palier")
    args = parser.parse_args()
    rates = [float(rate) for rate in args.rates.split(",")]
    base = load_settings()
    queues = {name: queue.model_copy(update={"wrapup_s": 0}) for name, queue in base.queues.items()}
    settings = base.model_copy(update={"queues": queues})
    workdir = Path(tempfile.mkdtemp(prefix="svi-bench-calls-"))
    ports = {"sip_port": free_port(), "ami_port": free_port(), "agi_port": free_port()}
    lab = Lab(settings, workdir / "lab", agent_count=AGENTS, agent_base_port=5300, **ports)
    state, _ = lab.start(progress=print)
    try:
        service = start_service(service_settings(settings, lab), workdir)
    except BaseException:
        lab.stop()  # nothing left running when the service cannot start
        raise
    events, ready = EventLog(), asyncio.Event()
    reader = asyncio.create_task(read_events(state.ami_port, *lab.ami_credentials(), events, ready))
    steps: list[Step] = []
    try:
        await ready.wait()
        async with agents_answering(state.agents, workdir / "agents", 0.2, 0.5):
            for rate in rates:
                for path, exten in (
                    ("SVI complet", state.support_exten),
                    ("pur dialplan", state.menu_exten),
                ):
                    steps.append(await run_step(lab, state, events, path, exten, rate, args.seconds,
                                                service.pid, workdir))  # fmt: skip
                    print(f"  palier {rate:g} appels/s, {path} : fait", file=sys.stderr)
    finally:
        reader.cancel()
        service.terminate()
        service.wait()
        lab.stop()
    widths = (13, 8, 6, 6, 8, 10, 15, 8, 8, 8)
    header = ("chemin", "appels/s", "placés", "agent", "abandons", "échecs SIP",
              "1re annonce p50", "p99 (ms)", "CPU svc", "RSS (Mo)")  # fmt: skip
    rows = [
        (s.path, f"{s.rate:g}", s.placed, s.connected, s.abandoned, s.sip_failed,
         show(s.p50_ms, ".1f"), show(s.p99_ms, ".1f"), show(s.cpu_pct, ".1f") + " %",
         show(s.rss_mb, ".0f"))
        for s in steps
    ]  # fmt: skip
    for row in [header, *rows]:
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(cell).rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        print(" ".join(cells))


if __name__ == "__main__":
    asyncio.run(main())
