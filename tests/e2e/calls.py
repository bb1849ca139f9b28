"""What the end-to-end tests share: the test clock, placing a call, reading what happened.

A call is checked from three sides: Asterisk's queue_log, the AGI commands the service sent
(its ``recent_calls`` trace) and the channel variables it left for the dialplan.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from lab.queue_log import QueueLogEntry, wait_for_queue_log
from lab.runner import Lab, LabState
from lab.sipp import Call, CallerScript, SippResult, run_callers
from svi_acd.config.model import Settings
from svi_acd.service import CallRecord, RunningService

PARIS = ZoneInfo("Europe/Paris")
OPEN = datetime(2026, 7, 8, 10, 0, tzinfo=PARIS)  # a Wednesday morning
VIP_NUMBER = "0612345678"
# Short prompts keep each call to a few seconds; the flow is the shipped one.
SHORT_TEXTS = {
    "accueil": "Menu. Tapez 1, 2, 3 ou 4.",
    "choix_invalide": "Choix invalide.",
    "sans_reponse": "Pas de choix.",
    "saisie_ticket": "Numéro de ticket.",
    "ticket_invalide": "Ticket invalide.",
    "ticket_sans_reponse": "Pas de ticket.",
    "ferme": "Fermé.",
    "territoire_ferme": "Territoire fermé.",
    "prochaine_ouverture": "Ouverture",
}


class SettableClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def calls_from(entries: list[QueueLogEntry], uniqueid: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(entry.event, entry.data) for entry in entries if entry.call_id == uniqueid]


async def place_call(
    lab_state: LabState,
    tmp_path: Path,
    caller: str,
    digits: str = "",
    exten: str = "",
    **script: float,
) -> asyncio.Task[SippResult]:
    """One SIPp caller dialling the support number (or ``exten``) in the background."""
    calls = (Call(caller, digits),)
    options = {"wait_s": 1.0, "hold_s": 30.0, **script}
    plan = CallerScript(calls=calls, exten=exten or lab_state.support_exten, **options)
    return asyncio.create_task(run_callers(plan, lab_state.sip_port, tmp_path / "caller"))


async def record_for(service: RunningService, caller: str, timeout_s: float = 10) -> CallRecord:
    """The service's record of the (single) call it received, once the flow has ended."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        for record in service.recent_calls.values():
            if record.result is not None or record.error is not None:
                return record
        await asyncio.sleep(0.05)
    raise TimeoutError(f"le service n'a pas terminé l'appel de {caller}")


async def journal_until(
    lab: Lab, uniqueid: str, event: str, timeout_s: float = 30
) -> list[tuple[str, tuple[str, ...]]]:
    def seen(entries: list[QueueLogEntry]) -> bool:
        return any(e.call_id == uniqueid and e.event == event for e in entries)

    return calls_from(await wait_for_queue_log(lab.queue_log, seen, timeout_s), uniqueid)


def sound_of(service: RunningService, prompt_id: str) -> str:
    return service.flow.prompts.sound(prompt_id)


def played(record: CallRecord) -> list[tuple[str, str]]:
    """(sound, Asterisk's reply) for every prompt the caller was played, in order."""
    return [
        (command.split()[2], reply)
        for command, reply in record.trace
        if command.startswith(("STREAM FILE", "GET OPTION"))
    ]


def crisis_sound(service: RunningService, message_id: int) -> str:
    """The sound Asterisk plays for crisis message ``message_id`` (as the live state has it)."""
    assert service.crisis is not None
    stored = service.crisis.live.snapshot().messages
    [live] = [m for m in stored if m.id == message_id]
    return service.crisis.source.sound_name(live.sound)


def events(journal: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    return [event for event, _ in journal]


def no_missing_sound_warnings(lab: Lab) -> list[str]:
    text = lab.messages_log.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if "does not exist" in line and "sons" in line]


def serve_process(
    settings: Settings, tmp_path: Path, at: datetime = OPEN, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``svi-acd serve`` in its own process (so that a test can kill it), clock set to ``at``."""
    settings_file = tmp_path / "svi.yaml"
    settings_file.write_text(yaml.safe_dump(settings.model_dump(mode="json", by_alias=True)))
    environment = {**os.environ, "SVI_ACD_DATA": str(tmp_path / "data"), **(env or {})}
    database = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    command = [sys.executable, "-m", "svi_acd", "serve", "--config", str(settings_file),
               "--clock", at.isoformat(), "--db", database]  # fmt: skip
    return subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def wait_ready(process: subprocess.Popen[bytes]) -> str:
    """Wait for the service's « Service prêt » line and return it."""
    assert process.stderr is not None
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, process.stderr.readline)
        if not line:
            raise RuntimeError(f"le service s'est arrêté au démarrage (code {process.wait()})")
        text = line.decode("utf-8", errors="replace")
        if "Service prêt" in text:
            return text


async def first_new_call(lab: Lab, event: str, known: int, timeout_s: float = 15) -> str:
    """The uniqueid of the first ``event`` logged after the first ``known`` queue_log lines."""
    entries = await wait_for_queue_log(
        lab.queue_log, lambda found: any(e.event == event for e in found[known:]), timeout_s
    )
    return next(e.call_id for e in entries[known:] if e.event == event)
