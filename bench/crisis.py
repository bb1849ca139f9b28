"""Time from the API call that changes a crisis message to the moment the next call's flow uses
it, with two service instances over Redis (not a test: prints a table).

Run (root, Debian): .venv/bin/python bench/crisis.py [--changes 50] [--calls 10]

Set-up, all on 127.0.0.1: the lab Asterisk, a redis-server, instance A (in this process; the
lab's support number reaches it over FastAGI) and instance B (``svi-acd serve`` in its own
process, its web API on a free port, no calls). Both share the database and the sound folder.
Every change is a PATCH on **B**'s API with a new 300-character text, so each one includes the
speech synthesis (espeak-ng + ffmpeg), the atomic file publication, the database commit and
the Redis publication. Measured:

1. for ``--changes`` changes: the API's response time, and the time until A's local snapshot
   (what A's call flow reads) holds the new version;
2. for ``--calls`` changes: a SIPp call to A placed as soon as the API has answered, and the
   time until A's flow asks for the crisis messages and gets the new version (a call that got
   the old one would count as a miss). Most of that time is the call's own arrival (starting
   SIPp, SIP set-up, Asterisk, FastAGI, routing), shown on its own line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.runner import Lab
from lab.sipp import Call, CallerScript, run_callers
from svi_acd.clock import shifted_clock
from svi_acd.config.loader import load_settings
from svi_acd.config.model import Settings
from svi_acd.ivr.engine import CrisisPlayback
from svi_acd.service import ServiceOptions, start_service
from tests.servers import free_port, redis_server

OPEN = datetime(2026, 7, 8, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
TEXT_CHARS = 300


def message_text(index: int) -> str:
    """A French text of exactly 300 characters, different for each change."""
    head = (
        f"Message numéro {index}. Un incident majeur touche actuellement la messagerie et "
        "l'agenda partagés du ministère. Nos équipes techniques sont mobilisées pour rétablir "
        "le service au plus vite. Inutile de signaler à nouveau cet incident : vous pouvez "
        "suivre son évolution sur le portail d'assistance. Merci de votre patience"
    )
    return (head + "." * TEXT_CHARS)[:TEXT_CHARS]


class FlowUse:
    """A's crisis source, recording when each call's flow asked and which sounds it got."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.uses: list[tuple[float, tuple[str, ...]]] = []

    def current(
        self, scope: str | None, territory: str | None, branch: str | None, at: datetime
    ) -> Sequence[CrisisPlayback]:
        found = self.inner.current(scope, territory, branch, at)  # type: ignore[attr-defined]
        self.uses.append((time.perf_counter(), tuple(playback.sound for playback in found)))
        return found


def instance_b(settings: Settings, workdir: Path, db_url: str, web_port: int) -> subprocess.Popen:
    config = workdir / "b.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json", by_alias=True)))
    command = [sys.executable, "-m", "svi_acd", "serve", "--config", str(config), "--clock",
               OPEN.isoformat(), "--db", db_url, "--agi-port", "0", "--web-port", str(web_port),
               "--log-level", "WARNING"]  # fmt: skip
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, env={**os.environ, "SVI_ACD_DATA": str(workdir)}
    )
    assert process.stderr is not None
    while b"Service pr" not in (line := process.stderr.readline()):
        if not line:
            raise SystemExit("l'instance B ne démarre pas")
    # Keep reading its logs so that a full pipe never blocks it.
    threading.Thread(target=process.stderr.read, daemon=True).start()
    return process


def api_token(workdir: Path, db_url: str) -> str:
    """A supervisor account and its API token on the shared database (``svi-acd user``)."""
    cli = [sys.executable, "-m", "svi_acd", "user"]
    env = {**os.environ, "SVI_ACD_DATA": str(workdir)}
    subprocess.run(
        [*cli, "add", "banc.essai", "--role", "superviseur", "--password-stdin", "--db", db_url],
        input="mot de passe du banc d'essai\n", text=True, check=True, env=env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    created = subprocess.run(
        [*cli, "token", "banc.essai", "--name", "banc crise", "--db", db_url],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    return created.stdout.strip()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=50, help="changements mesurés (série 1)")
    parser.add_argument("--calls", type=int, default=10, help="appels réels (série 2)")
    args = parser.parse_args()
    base = load_settings()
    workdir = Path(tempfile.mkdtemp(prefix="svi-bench-crisis-"))
    lab = Lab(base, workdir / "lab", sip_port=free_port(), ami_port=free_port(),
              agi_port=free_port(), agent_count=1, agent_base_port=5400)  # fmt: skip
    state, _ = lab.start(progress=print)
    b_process = None
    try:
        with redis_server() as redis:
            data = base.model_dump(by_alias=True)
            host, port = lab.agi_endpoint
            data["service"].update(
                agi={"hote": host, "port": port}, redis=redis.url,
                dossier_sons=str(lab.sounds_dir), dossier_sons_asterisk=lab.paths.sounds,
            )  # fmt: skip
            settings = Settings.model_validate(data)
            db_url = f"sqlite:///{workdir / 'svi.sqlite3'}"
            options = ServiceOptions(db_url, clock=shifted_clock(OPEN), web_port=-1)
            a = await start_service(settings, options)
            assert a.crisis is not None
            use = FlowUse(a.flow.crisis)
            a.flow.crisis = use
            applied: dict[int, float] = {}
            a.crisis.live.on_change(lambda s: applied.setdefault(s.revision, time.perf_counter()))
            web_port = free_port()
            b_process = instance_b(settings, workdir, db_url, web_port)
            api = f"http://127.0.0.1:{web_port}/api/crise/messages"
            token = api_token(workdir, db_url)
            try:
                rows = await measure(a, use, applied, api, token, lab, state, workdir, args)
            finally:
                b_process.terminate()
                b_process.wait()
                await a.stop()
    finally:
        lab.stop()
    print(f"\n{args.changes} changements, {args.calls} appels ; texte de {TEXT_CHARS} caractères")
    print(f"{'mesure':<62} {'n':>3} {'p50 (ms)':>9} {'p99 (ms)':>9} {'max (ms)':>9}")
    for label, values, extra in rows:
        print(f"{label:<62} {len(values):>3} {percentile(values, 0.5):>9.1f} "
              f"{percentile(values, 0.99):>9.1f} {max(values):>9.1f}{extra}")  # fmt: skip


async def measure(a, use, applied, api, token, lab, state, workdir, args):  # type: ignore[no-untyped-def]
    api_ms: list[float] = []
    seen_ms: list[float] = []
    used_ms: list[float] = []
    setup_ms: list[float] = []
    misses = 0
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        created = await http.post(api, json={"texte": message_text(0), "actif": True})
        message = (await created.json())["message"]
        url, version = f"{api}/{message['id']}", message["version"]
        for index in range(1, args.changes + args.calls + 1):
            started = time.perf_counter()
            response = await http.patch(url, json={"texte": message_text(index)})
            body = await response.json()
            answered = time.perf_counter()
            assert response.status == 200, body
            assert body["message"]["version"] == version + 1
            version += 1
            revision = body["revision"]
            if index <= args.changes:
                await a.crisis.live.wait_for_revision(revision, 5)
                api_ms.append((answered - started) * 1000)
                seen_ms.append((applied[revision] - started) * 1000)
                continue
            # A real call placed as soon as the API has answered.
            calls = (Call(f"01400{index:05d}", ""),)
            script = CallerScript(calls, exten=state.support_exten, wait_s=0.3, hold_s=0.5)
            await run_callers(script, state.sip_port, workdir / f"c{index}")
            [current] = a.crisis.live.snapshot().messages
            sound = a.crisis.source.sound_name(current.sound)
            moment, sounds = next((t, found) for t, found in use.uses if t > answered)
            setup_ms.append((moment - answered) * 1000)
            if sound in sounds:
                used_ms.append((moment - started) * 1000)
            else:
                misses += 1
    return [
        ("réponse de l'API de B (synthèse, fichier, base, Redis)", api_ms, ""),
        ("nouvelle version dans l'état local de A (depuis l'appel API)", seen_ms, ""),
        ("utilisée par le flux du prochain appel réel sur A", used_ms, f"  ratés : {misses}"),
        ("  dont arrivée de l'appel (SIPp lancé → le flux de A demande)", setup_ms, ""),
    ]


if __name__ == "__main__":
    asyncio.run(main())
