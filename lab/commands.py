"""``svi-acd lab up|down|status|call|cli``: the Asterisk lab on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from lab.chroot import find_chroot
from lab.queue_log import QueueLogEntry, read_queue_log
from lab.runner import Lab, LabState, default_run_dir
from lab.sipp import Call, CallerScript, SippResult, agents_answering, run_callers
from lab.system import LabError
from svi_acd.asterisk.ami import AmiConnection
from svi_acd.asterisk.contract import (
    CALLER_CONTEXT,
    EVENT_CLOSED,
    EVENT_DETERRED,
    EVENT_OVERFLOW,
    EVENT_TERRITORY_CLOSED,
)
from svi_acd.asterisk.frames import AmiMessage
from svi_acd.asterisk.link import AmiCredentials, AmiError, AmiOptions
from svi_acd.cli_options import add_config_option, settings_from

# Events that end a caller's stay in a queue (queue_log).
FINAL_EVENTS = ("CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY", "WITHDRAW")


def register(subparsers: argparse._SubParsersAction, help_text: str) -> None:
    lab = subparsers.add_parser("lab", help=help_text)
    lab.add_argument(
        "--run-dir", type=Path, default=None, metavar="DOSSIER",
        help="dossier d'exécution du lab (défaut : $SVI_ACD_LAB_RUN, sinon "
        "~/.cache/svi-acd/lab-run)",
    )  # fmt: skip
    actions = lab.add_subparsers(dest="action", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="démarrer Asterisk (construit le chroot au besoin)")
    add_config_option(up)
    up.add_argument("--sip-port", type=int, default=5060, help="port SIP (défaut : 5060)")
    up.add_argument("--agents", type=int, default=4, help="nombre d'agents (défaut : 4)")
    up.add_argument(
        "--agent-port", type=int, default=5071, help="port SIP du premier agent (défaut : 5071)"
    )
    up.add_argument(
        "--dynamic-members", action="store_true",
        help="files sans membres statiques (le service les ajoute par AMI)",
    )  # fmt: skip
    up.add_argument("--verbose", type=int, default=0, help="niveau de trace d'Asterisk")
    up.set_defaults(handler=up_command)

    down = actions.add_parser("down", help="arrêter Asterisk")
    down.set_defaults(handler=down_command)

    status = actions.add_parser("status", help="état du lab")
    status.add_argument("--json", action="store_true", help="sortie JSON")
    status.set_defaults(handler=status_command)

    call = actions.add_parser("call", help="passer des appels SIPp scriptés")
    call.add_argument("--exten", default=None, help="numéro appelé (défaut : numéro unique)")
    call.add_argument("--caller", default="0612345600", help="numéro du premier appelant")
    call.add_argument("--count", type=int, default=1, help="nombre d'appels (défaut : 1)")
    call.add_argument("--rate", type=float, default=1.0, help="appels par seconde (défaut : 1)")
    call.add_argument("--digits", default="", help="touches tapées, ex. 1 ou 123456#")
    call.add_argument("--wait", type=float, default=2.0, help="s entre décroché et touches")
    call.add_argument("--hold", type=float, default=15.0, help="s avant que l'appelant raccroche")
    call.add_argument("--audio", action="store_true", help="l'appelant envoie de l'audio")
    call.add_argument("--no-agents", action="store_true", help="ne pas lancer d'agents SIPp")
    call.add_argument("--answer", type=float, default=1.0, help="s de sonnerie avant décroché")
    call.add_argument("--talk", type=float, default=5.0, help="s de conversation des agents")
    call.set_defaults(handler=call_command)

    cli = actions.add_parser("cli", help="commande de la console Asterisk (asterisk -rx)")
    cli.add_argument("text", metavar="COMMANDE", help="ex. « queue show »")
    cli.set_defaults(handler=cli_command)


def _lab(args: argparse.Namespace, **options: Any) -> Lab:
    return Lab(settings_from(args), args.run_dir or default_run_dir(), **options)


def _fail(error: LabError) -> int:
    print(f"ERREUR : {error}", file=sys.stderr)
    return 1


def up_command(args: argparse.Namespace) -> int:
    lab = _lab(
        args, sip_port=args.sip_port, agent_count=args.agents, agent_base_port=args.agent_port,
        static_members=not args.dynamic_members, verbose=args.verbose,
    )  # fmt: skip
    try:
        state, started = lab.start(progress=print)
    except LabError as error:
        return _fail(error)
    if not started:
        print(f"Le lab tourne déjà (pid {state.pid}).")
    print(describe(state, lab))
    return 0


def down_command(args: argparse.Namespace) -> int:
    lab = _lab(args)
    try:
        stopped = lab.stop()
    except LabError as error:
        return _fail(error)
    print("Lab arrêté." if stopped else "Le lab n'était pas démarré.")
    return 0


def status_command(args: argparse.Namespace) -> int:
    lab = _lab(args)
    state = lab.status()
    if args.json:
        data = {"running": state is not None, **(asdict(state) if state else {})}
        data["queue_log"] = str(lab.queue_log)
        data["ami_credentials_file"] = str(lab.ami_env_file)
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    if state is None:
        chroot = find_chroot()
        built = f"chroot prêt ({chroot.asterisk_version})" if chroot else "chroot à construire"
        print(f"Lab arrêté ; {built}. Démarrage : svi-acd lab up")
        return 0
    print(describe(state, lab))
    return 0


def describe(state: LabState, lab: Lab) -> str:
    since = datetime.fromtimestamp(state.started_at).strftime("%d/%m/%Y %H:%M:%S")
    agents = ", ".join(f"{name} ({port})" for name, port in state.agents) or "aucun"
    credentials = (
        str(lab.ami_env_file)
        if lab.ami_env_file.exists()
        else "$SVI_ACD_AMI_USER / $SVI_ACD_AMI_SECRET"
    )
    return "\n".join(
        [
            f"Lab démarré : Asterisk pid {state.pid}, depuis le {since} "
            f"(prêt en {state.boot_seconds} s)",
            f"  Version   : {state.asterisk_version}",
            f"  SIP       : 127.0.0.1:{state.sip_port}/udp — numéro unique {state.support_exten}, "
            f"menu en pur dialplan {state.menu_exten}",
            f"  AMI       : 127.0.0.1:{state.ami_port}, utilisateur {state.ami_user} "
            f"(identifiants : {credentials})",
            f"  AGI       : le dialplan appelle {state.agi_url} (sans service : file par défaut)",
            f"  Agents    : {agents}",
            f"  queue_log : {lab.queue_log}",
            f"  Sons      : {lab.sounds_dir} (vu par Asterisk : {lab.paths.sounds})",
            f"  Console   : svi-acd lab cli 'core show channels' ; chroot {state.chroot}",
        ]
    )


def cli_command(args: argparse.Namespace) -> int:
    try:
        print(_lab(args).rx(args.text), end="")
    except LabError as error:
        return _fail(error)
    return 0


_NUMBER_SEPARATORS = re.compile(r"[\s.\-/()\u00a0]")
_DIALLABLE = re.compile(r"\+?[0-9]{2,20}")


def caller_numbers(first: str, count: int) -> list[str]:
    """``count`` numbers counting up from ``first``, keeping its width (leading zero) and its
    ``+``; written as callers write them (spaces, dots, ``00`` or ``+33``), as routing reads."""
    cleaned = _NUMBER_SEPARATORS.sub("", first)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not _DIALLABLE.fullmatch(cleaned):
        raise LabError(
            f"numéro d'appelant invalide « {first} » (ex. 0140000001, 0696 20 12 34, "
            "+596 696 20 12 34)."
        )
    plus, digits = ("+", cleaned[1:]) if cleaned.startswith("+") else ("", cleaned)
    return [f"{plus}{int(digits) + index:0{len(digits)}d}" for index in range(count)]


def call_command(args: argparse.Namespace) -> int:
    lab = _lab(args)
    try:
        state = lab.status()
        if state is None:
            raise LabError("le lab n'est pas démarré (svi-acd lab up).")
        numbers = caller_numbers(args.caller, args.count)
        script = CallerScript(
            calls=tuple(Call(number, args.digits) for number in numbers),
            exten=args.exten or state.support_exten, rate=args.rate, wait_s=args.wait,
            hold_s=args.hold, audio=args.audio,
        )  # fmt: skip
        result, outcomes = asyncio.run(_place_calls(lab, state, script, args))
    except LabError as error:
        return _fail(error)
    print(
        f"{len(numbers)} appel(s) vers le {script.exten} : {result.successful} terminé(s) côté "
        f"SIP, {result.failed} en échec (code SIPp {result.returncode})."
    )
    for number in numbers:
        print(f"  {number} : {outcomes.get(number, 'appel non vu par Asterisk')}")
    return 0 if result.failed == 0 else 1


class CallWatcher:
    """The lab's AMI, told which calls come from the numbers being placed: each call is then
    read in queue_log by its own uniqueid, never confused with an earlier call from the same
    number (the lab's queue_log outlives a run)."""

    def __init__(self, lab: Lab, state: LabState, numbers: list[str]) -> None:
        user, secret = lab.ami_credentials()
        self.ami = AmiConnection(
            AmiOptions("127.0.0.1", state.ami_port, AmiCredentials(user, secret),
                       event_classes=("call",), event_names=("Newchannel", "Hangup"))
        )  # fmt: skip
        self.waiting = set(numbers)
        self.calls: dict[str, str] = {}  # number -> uniqueid
        self.ended: set[str] = set()
        self.changed = asyncio.Event()
        self.ami.on_event("Newchannel", self._new)
        self.ami.on_event("Hangup", self._hangup)

    def _new(self, event: AmiMessage) -> None:
        number = event.get("CallerIDNum")
        if event.get("Context") == CALLER_CONTEXT and number in self.waiting:
            self.waiting.discard(number)
            self.calls[number] = event.get("Uniqueid")

    def _hangup(self, event: AmiMessage) -> None:
        if event.get("Uniqueid") in self.calls.values():
            self.ended.add(event.get("Uniqueid"))
            self.changed.set()

    async def all_ended(self, timeout_s: float) -> None:
        """Until every call seen has hung up (its last queue_log lines are then written)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while not self.ended >= set(self.calls.values()):
                    self.changed.clear()
                    await self.changed.wait()


async def _place_calls(
    lab: Lab, state: LabState, script: CallerScript, args: argparse.Namespace
) -> tuple[SippResult, dict[str, str]]:
    workdir = lab.run_dir / "sipp" / time.strftime("%Y%m%d-%H%M%S")
    numbers = [call.caller for call in script.calls]
    watcher = CallWatcher(lab, state, numbers)
    watcher.ami.start()
    try:
        try:
            await watcher.ami.wait_connected(5)
        except (TimeoutError, AmiError) as exc:
            message = f"AMI du lab injoignable ({exc}) : les appels ne seraient pas suivis."
            raise LabError(message) from exc
        if args.no_agents:
            result = await run_callers(script, state.sip_port, workdir)
        else:
            async with agents_answering(state.agents, workdir, args.answer, args.talk):
                result = await run_callers(script, state.sip_port, workdir)
        await watcher.all_ended(timeout_s=5)
    finally:
        await watcher.ami.close()
    entries = await asyncio.to_thread(read_queue_log, lab.queue_log)
    return result, {
        number: describe_call(uniqueid, [e for e in entries if e.call_id == uniqueid])
        for number, uniqueid in watcher.calls.items()
    }


def describe_call(uniqueid: str, entries: list[QueueLogEntry]) -> str:
    """What happened to one call, from its own queue_log lines."""
    events = {entry.event: entry for entry in entries}
    final = next((entry for entry in entries if entry.event in FINAL_EVENTS), None)
    overflow = events.get(EVENT_OVERFLOW)
    if final is not None and final.event == "WITHDRAW":
        where = overflow.data[1] if overflow and len(overflow.data) > 1 else "?"
        what = f"retiré de la file par le débordement vers {where}"
    elif final is not None:
        agent = f" par {final.agent}" if final.event == "CONNECT" else ""
        what = f"{final.event}{agent} (file {final.queue})"
    elif EVENT_CLOSED in events:
        what = "centre fermé : message de fermeture, raccroché"
    elif EVENT_TERRITORY_CLOSED in events:
        what = "hors de la fenêtre de son territoire : message de fermeture, raccroché"
    elif EVENT_DETERRED in events:
        what = "dissuadé par un message de crise, raccroché"
    elif overflow is not None:
        where = overflow.data[1] if len(overflow.data) > 1 else "?"
        what = f"débordé à l'entrée vers {where}"
    elif "ENTERQUEUE" in events:
        what = "entré en file, issue pas encore écrite"
    elif entries:
        what = "raccroché dans le SVI"
    else:
        what = "raccroché avant le SVI (aucune ligne au journal)"
    return f"{what} (appel {uniqueid})"
