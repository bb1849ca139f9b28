"""Call-rate ramp through the full flow (service over FastAGI) and through the same menu in pure
dialplan, on the same lab Asterisk (not a test: prints two tables).

Run (root, Debian): .venv/bin/python bench/calls.py [--rates 2,5,10] [--seconds 15]

For each rate and each path, SIPp callers (sending audio, as real callers do) dial the number,
press 1 during the welcome prompt and wait; SIPp agents answer after 0.2 s and talk 0.5 s. The
first table gives calls placed, calls that reached an agent (CONNECT in queue_log), abandons,
the time to the start of the first prompt, and the service process's CPU and RSS during the
step. Times come from Asterisk's own timestamps on AMI events: from the channel's creation
(``Newchannel``), and from the end of ``Answer()`` (the next ``Newexten``), to the first prompt
(``AGIExecStart`` of the first prompt command, or ``Newexten`` of ``Background()``).

Both paths run the same ``Answer()`` first, and it waits for the caller's first audio frame:
SIPp's timing, not ours. What the flow adds is therefore measured after the answer, and in a
second table where both paths take calls at the same time (half the rate each), so that they
meet the same load: on a 2-core machine, steps run one after the other do not.
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

from lab.queue_log import read_queue_log
from lab.runner import Lab, LabState
from lab.sipp import Call, CallerScript, agents_answering, run_callers
from svi_acd.asterisk.contract import CALLER_CONTEXT
from svi_acd.asterisk.link import SECRET_ENV, USER_ENV
from svi_acd.config.loader import load_settings
from svi_acd.config.model import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


OPEN = datetime(2026, 7, 8, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
AGENTS = 10
PROMPT_COMMANDS = ("GET OPTION", "STREAM FILE")
MEASURED_EVENTS = ("Newchannel", "Newexten", "AGIExecStart")


# -- a minimal AMI event reader (the bench must not depend on the code it measures) --------------
@dataclass
class EventLog:
    created: dict[str, tuple[float, str]] = field(default_factory=dict)  # uid -> (time, exten)
    answered: dict[str, float] = field(default_factory=dict)  # uid -> end of Answer()
    first_prompt: dict[str, float] = field(default_factory=dict)
    answering: set[str] = field(default_factory=set)
    extens: frozenset[str] = frozenset()  # the numbers measured

    def take(self, frame: dict[str, str]) -> None:
        event, uniqueid = frame.get("Event"), frame.get("Uniqueid", "")
        stamp = float(frame.get("Timestamp", "0") or 0)
        if event == "Newchannel" and frame.get("Exten") in self.extens:
            self.created.setdefault(uniqueid, (stamp, frame.get("Exten", "")))
            return
        if uniqueid not in self.created or uniqueid in self.first_prompt:
            return
        application = frame.get("Application", "")
        if event == "Newexten":
            if uniqueid in self.answering:  # the step after Answer(): it has returned
                self.answering.discard(uniqueid)
                self.answered[uniqueid] = stamp
            if application == "Answer":
                self.answering.add(uniqueid)
        prompt = (
            event == "AGIExecStart" and frame.get("Command", "").startswith(PROMPT_COMMANDS)
        ) or (event == "Newexten" and application.lower() == "background")
        if prompt:
            self.first_prompt[uniqueid] = stamp

    def delays(self, uniqueids: list[str], after_answer: bool) -> list[float]:
        """Milliseconds to the first prompt, from the channel's creation or from the answer."""
        starts = self.answered if after_answer else {u: c[0] for u, c in self.created.items()}
        return [
            (self.first_prompt[uid] - starts[uid]) * 1000
            for uid in uniqueids
            if uid in self.first_prompt and uid in starts
        ]


async def read_events(
    port: int, user: str, secret: str, log: EventLog, ready: asyncio.Event
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    login = f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n"
    writer.write(f"{login}Events: call,agi,dialplan\r\n\r\n".encode())
    # Only the events measured: the bench must not load the machine it measures (the
    # dialplan class alone carries a VarSet per variable of every call).
    names = "|".join(MEASURED_EVENTS)
    writer.write(f"Action: Filter\r\nOperation: Add\r\nFilter: Event: ({names})\r\n\r\n".encode())
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
    data["service"]["ami"] = {"hote": "127.0.0.1", "port": lab.ami_port}
    data["service"]["dossier_sons"] = str(lab.sounds_dir)
    data["service"]["dossier_sons_asterisk"] = lab.paths.sounds
    return Settings.model_validate(data)


def start_service(settings: Settings, lab: Lab, workdir: Path) -> subprocess.Popen[bytes]:
    """The service as in production: FastAGI for the calls, the AMI for the ACD and journal."""
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
        "--web-port",
        "0",
    ]
    user, secret = lab.ami_credentials()
    env = {**os.environ, "SVI_ACD_DATA": str(workdir), USER_ENV: user, SECRET_ENV: secret}
    # Its log goes to a file: a pipe nobody reads would stall the service once full.
    log_path = workdir / "service.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, stderr=log_file, env=env)
    with log_path.open("rb") as log:
        while b"Service pr" not in (line := log.readline()):
            if process.poll() is not None:
                raise SystemExit(f"le service ne démarre pas (voir {log_path})")
            if not line:
                time.sleep(0.1)
    return process


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the floor: the least a FastAGI server can do, on its own number ------------------------------
FLOOR_EXTEN = "3002"


async def start_floor(lab: Lab, workdir: Path) -> asyncio.subprocess.Process:
    """bench/fastagi_floor.py on a free port, and a number that answers then hands it the call
    the way the support number hands it to the service; the floor's callers then queue."""
    port = free_port()
    floor = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("fastagi_floor.py")), str(port), "vm-options",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert floor.stdout is not None
    await floor.stdout.readline()  # "prêt"
    steps = ("Answer()", f"AGI(agi://127.0.0.1:{port}/plancher?repondu)",
             f"Queue({lab.settings.default_queue})", "Hangup()")  # fmt: skip
    for priority, step in enumerate(steps, start=1):
        line = f"{FLOOR_EXTEN},{priority},{step}"
        await lab.arx(f"dialplan add extension {line} into {CALLER_CONTEXT}")
    return floor


# -- one step of the ramp --------------------------------------------------------------------------
FULL, PURE, FLOOR = "SVI complet", "pur dialplan", "plancher FastAGI"


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
    answered_p50_ms: float | None
    answered_p99_ms: float | None
    cpu_pct: float | None
    rss_mb: float | None


@dataclass
class MixedStep:
    rate: float
    calls: dict[str, int]
    p50_ms: dict[str, float | None]
    p99_ms: dict[str, float | None]


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def script_for(exten: str, rate: float, seconds: float, first: int = 0) -> CallerScript:
    count = max(1, round(rate * seconds))
    calls = tuple(Call(f"0140{first + index:06d}", "1") for index in range(count))
    return CallerScript(calls=calls, exten=exten, rate=rate, wait_s=1.0, hold_s=20.0, audio=True)


async def run_step(
    lab: Lab, state: LabState, events: EventLog, path: str, exten: str, rate: float, seconds: float,
    service_pid: int, workdir: Path,
) -> Step:  # fmt: skip
    script = script_for(exten, rate, seconds)
    known = set(events.created)
    cpu_before, wall_before = cpu_seconds(service_pid), time.monotonic()
    result = await run_callers(script, state.sip_port, workdir / f"{path}-{rate:g}")
    cpu = (cpu_seconds(service_pid) - cpu_before) / (time.monotonic() - wall_before) * 100
    mine = [uid for uid in events.created if uid not in known]
    entries = read_queue_log(lab.queue_log)
    connected = {e.call_id for e in entries if e.event == "CONNECT"}
    abandoned = {e.call_id for e in entries if e.event == "ABANDON"}
    total, after = events.delays(mine, after_answer=False), events.delays(mine, after_answer=True)
    flow = path == FULL  # the service works only on that path
    return Step(
        path, rate, len(script.calls), len(connected.intersection(mine)),
        len(abandoned.intersection(mine)), result.failed,
        percentile(total, 0.5), percentile(total, 0.99),
        percentile(after, 0.5), percentile(after, 0.99),
        cpu if flow else None, rss_mb(service_pid) if flow else None,
    )  # fmt: skip


async def run_mixed_step(
    state: LabState, events: EventLog, rate: float, seconds: float, workdir: Path
) -> MixedStep:
    """The paths at once, an equal share of the rate each: the same load for all."""
    known = set(events.created)
    paths = {FULL: state.support_exten, PURE: state.menu_exten, FLOOR: FLOOR_EXTEN}
    scripts = {
        path: script_for(exten, rate / len(paths), seconds, first=index * 100_000)
        for index, (path, exten) in enumerate(paths.items())
    }
    await asyncio.gather(*(
        run_callers(script, state.sip_port, workdir / f"mixed-{path}-{rate:g}")
        for path, script in scripts.items()
    ))  # fmt: skip
    calls: dict[str, int] = {}
    p50: dict[str, float | None] = {}
    p99: dict[str, float | None] = {}
    for path, exten in paths.items():
        mine = [uid for uid, (_, e) in events.created.items() if uid not in known and e == exten]
        after = events.delays(mine, after_answer=True)
        calls[path] = len(after)
        p50[path], p99[path] = percentile(after, 0.5), percentile(after, 0.99)
    return MixedStep(rate, calls, p50, p99)


def show(value: float | None, pattern: str) -> str:
    return "—" if value is None else format(value, pattern)


def difference(first: float | None, second: float | None) -> str:
    return "—" if first is None or second is None else f"{first - second:+.1f}"


def print_table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(cell).rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        print(" ".join(cells))


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
        service = start_service(service_settings(settings, lab), lab, workdir)
    except BaseException:
        lab.stop()  # nothing left running when the service cannot start
        raise
    events = EventLog(extens=frozenset({state.support_exten, state.menu_exten, FLOOR_EXTEN}))
    ready = asyncio.Event()
    reader = asyncio.create_task(read_events(state.ami_port, *lab.ami_credentials(), events, ready))
    steps: list[Step] = []
    mixed: list[MixedStep] = []
    floor: asyncio.subprocess.Process | None = None
    try:
        await ready.wait()
        floor = await start_floor(lab, workdir)
        async with agents_answering(state.agents, workdir / "agents", 0.2, 0.5):
            for rate in rates:
                for path, exten in ((FULL, state.support_exten), (PURE, state.menu_exten)):
                    steps.append(await run_step(lab, state, events, path, exten, rate, args.seconds,
                                                service.pid, workdir))  # fmt: skip
                    print(f"  palier {rate:g} appels/s, {path} : fait", file=sys.stderr)
            for rate in rates:
                mixed.append(await run_mixed_step(state, events, rate, args.seconds, workdir))
                print(f"  palier mêlé {rate:g} appels/s : fait", file=sys.stderr)
    finally:
        reader.cancel()
        if floor is not None:
            floor.terminate()
            await floor.wait()
        service.terminate()
        service.wait()
        lab.stop()
    print_table(
        ("chemin", "appels/s", "placés", "agent", "abandons", "échecs SIP", "1re annonce p50",
         "p99", "après décroché p50", "p99", "CPU svc", "RSS (Mo)"),
        [(s.path, f"{s.rate:g}", s.placed, s.connected, s.abandoned, s.sip_failed,
          show(s.p50_ms, ".1f"), show(s.p99_ms, ".1f"), show(s.answered_p50_ms, ".1f"),
          show(s.answered_p99_ms, ".1f"), show(s.cpu_pct, ".1f") + " %", show(s.rss_mb, ".0f"))
         for s in steps],
    )  # fmt: skip
    print()
    print("Appels mêlés (un tiers du débit par chemin), fin du décroché -> 1re annonce (ms) ;")
    print("« ajouté » : par rapport au pur dialplan.")
    print_table(
        ("appels/s", "appels", "SVI p50", "p99", "dialplan p50", "p99", "plancher p50", "p99",
         "SVI ajouté p50", "p99", "plancher ajouté p50", "p99"),
        [(f"{m.rate:g}", "/".join(str(m.calls[path]) for path in (FULL, PURE, FLOOR)),
          *(show(value, ".1f") for path in (FULL, PURE, FLOOR)
            for value in (m.p50_ms[path], m.p99_ms[path])),
          *(difference(values[path], values[PURE]) for path in (FULL, FLOOR)
            for values in (m.p50_ms, m.p99_ms)))
         for m in mixed],
    )  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
