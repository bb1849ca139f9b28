"""``svi-acd acd …``: agents and queues from the command line, straight over AMI.

Each command opens its own AMI connection (``SVI_ACD_AMI_USER`` / ``SVI_ACD_AMI_SECRET``,
``service.ami`` from the configuration), reads app_queue's state, acts, and closes: it works
whether or not the service runs. Overflow switches live in the running service: use the API
(``PATCH /api/debordement/{nom}``) for them; ``debordement`` here lists the configured rules.

Actions (``connecter``, ``deconnecter``, ``pause``, ``reprise``, ``priorite``) are written to the
audit journal in the name of ``cli:<compte Unix>``: they open the database (``--db``) before
acting, and refuse to act without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.acd.audit_trail import DeskAuditTrail
from svi_acd.acd.board import AGENT_STATE_LABELS, AcdSnapshot, mask_number, snapshot_json
from svi_acd.acd.control import AcdError
from svi_acd.acd.desk import Desk
from svi_acd.acd.overflow import rule_json
from svi_acd.acd.tracker import EVENT_CLASSES
from svi_acd.asterisk.ami import AmiConnection
from svi_acd.asterisk.link import SECRET_ENV, USER_ENV, AmiCredentials, AmiError, AmiOptions
from svi_acd.cli_options import (
    add_config_option,
    add_db_option,
    cli_actor,
    database_url,
    open_database,
    settings_from,
)
from svi_acd.config.model import Settings

CONNECT_TIMEOUT_S = 5.0


def register(subparsers: argparse._SubParsersAction, help_text: str) -> None:
    acd = subparsers.add_parser("acd", help=help_text)
    actions = acd.add_subparsers(dest="action", metavar="ACTION", required=True)

    state = actions.add_parser("etat", help="agents par état et appelants en attente")
    state.add_argument("--json", action="store_true", help="sortie JSON (celle de /api/acd)")
    state.add_argument("--numeros-complets", action="store_true",
                       help="numéros des appelants en clair (données personnelles)")  # fmt: skip
    state.set_defaults(handler=state_command)

    login = actions.add_parser("connecter", help="connecter un agent aux files")
    login.add_argument("interface", help="ex. PJSIP/agent1")
    login.add_argument("--file", action="append", default=[], help="file (défaut : toutes)")
    login.add_argument("--nom", help="nom affiché de l'agent")

    logout = actions.add_parser("deconnecter", help="déconnecter un agent")
    logout.add_argument("interface")

    pause = actions.add_parser("pause", help="mettre un agent en pause, avec un motif")
    pause.add_argument("interface")
    pause.add_argument("--motif", required=True, help="ex. ticket, pause, formation")

    resume = actions.add_parser("reprise", help="fin de pause d'un agent")
    resume.add_argument("interface")

    priority = actions.add_parser("priorite", help="changer la priorité d'un appelant en attente")
    priority.add_argument("uniqueid")
    priority.add_argument("priorite", type=int, help="0 (normal) à 100 ; plus haut passe devant")
    for parser in (login, logout, pause, resume, priority):
        parser.set_defaults(handler=act_command)
        add_db_option(parser)

    rules = actions.add_parser("debordement", help="règles de débordement configurées")
    rules.add_argument("--json", action="store_true", help="sortie JSON")
    rules.set_defaults(handler=rules_command)

    for parser in (state, login, logout, pause, resume, priority, rules):
        add_config_option(parser)


async def _journal_database(url: str) -> AsyncEngine:
    try:
        return await open_database(url)
    except (SQLAlchemyError, OSError) as exc:
        raise AcdError(
            f"base de données inaccessible ({type(exc).__name__}) : rien n'a été fait, car "
            "chaque action est écrite au journal d'audit. Vérifiez --db.",
            1,
        ) from exc


async def _with_desk(
    settings: Settings, work: Callable[[Desk], Awaitable[Any]], journal_url: str | None = None
) -> Any:
    """Run ``work`` on a desk over a fresh AMI link; with ``journal_url``, the desk's actions
    go to the audit journal of that database (written before this returns)."""
    credentials = AmiCredentials.from_env()
    if credentials is None:
        raise AcdError(f"identifiants AMI absents : définissez {USER_ENV} et {SECRET_ENV}.", 2)
    engine = await _journal_database(journal_url) if journal_url else None
    trail = DeskAuditTrail.on(engine) if engine is not None else None
    endpoint = settings.service.ami
    ami = AmiConnection(
        AmiOptions(endpoint.host, endpoint.port, credentials, event_classes=EVENT_CLASSES)
    )
    desk = Desk(settings, ami, lambda prompt: prompt)
    desk.on_journal = trail
    ami.start()
    try:
        await ami.wait_connected(CONNECT_TIMEOUT_S)
        await desk.resync()
        return await work(desk)
    except AmiError as exc:
        raise AcdError(f"Asterisk injoignable par l'AMI : {exc}", 1) from exc
    finally:
        await ami.close()
        if trail is not None:
            await trail.flush()
        if engine is not None:
            await engine.dispose()
        if trail is not None and trail.recorder.failures:
            print("Attention : l'action n'a pas pu être écrite au journal d'audit (voir "
                  "ci-dessus).", file=sys.stderr)  # fmt: skip


def _run(
    args: argparse.Namespace, work: Callable[[Desk], Awaitable[Any]], journaled: bool = False
) -> Any:
    settings = settings_from(args)
    journal_url = database_url(args, settings) if journaled else None
    return asyncio.run(_with_desk(settings, work, journal_url))


def _request(args: argparse.Namespace, desk: Desk, actor: str) -> tuple[Awaitable[None], str]:
    """The desk's coroutine for the chosen action, and what to say once it is done."""
    if args.action == "connecter":
        return desk.login(args.interface, actor, args.file, args.nom), f"{args.interface} connecté"
    if args.action == "deconnecter":
        return desk.logout(args.interface, actor), f"{args.interface} déconnecté"
    if args.action == "pause":
        return desk.pause(args.interface, args.motif, actor), f"{args.interface} en pause"
    if args.action == "reprise":
        return desk.unpause(args.interface, actor), f"{args.interface} disponible"
    return (
        desk.change_priority(args.uniqueid, args.priorite, actor),
        f"priorité {args.priorite} pour {args.uniqueid}",
    )


def act_command(args: argparse.Namespace) -> int:
    async def work(desk: Desk) -> str:
        action, done = _request(args, desk, cli_actor())
        await action
        return done

    try:
        done = _run(args, work, journaled=True)
    except AcdError as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 2 if exc.status in (2, 404, 422) else 1
    print(done)
    return 0


def state_command(args: argparse.Namespace) -> int:
    async def read(desk: Desk) -> AcdSnapshot:
        return desk.snapshot()

    try:
        snapshot = _run(args, read)
    except AcdError as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 2 if exc.status == 2 else 1
    if args.json:
        data = snapshot_json(snapshot, args.numeros_complets)
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    for queue in snapshot.queues:
        agents = f"{queue.agents_available} agent(s) libre(s) sur {queue.agents_logged_in}"
        waits = f"attente max {queue.longest_wait_s:.0f} s, {queue.vip_waiting} VIP"
        print(f"File {queue.name} ({queue.label}) : {len(queue.waiting)} en attente, {waits}, "
              f"{agents}")  # fmt: skip
        for caller in queue.waiting:
            number = caller.caller if args.numeros_complets else mask_number(caller.caller)
            flags = " VIP" if caller.vip else ""
            flags += " rappel" if caller.callback else ""
            print(f"  {caller.position:>3}. {number or 'numéro masqué':<16} "
                  f"{caller.waited_s(snapshot.at):>5.0f} s  priorité {caller.priority}{flags}"
                  f"  ({caller.uniqueid})")  # fmt: skip
    print("Agents :")
    for agent, state in snapshot.agents:
        reason = f" ({agent.pause_reason})" if state == "pause" and agent.pause_reason else ""
        print(f"  {agent.name:<16} {agent.interface:<20} {AGENT_STATE_LABELS[state]}{reason}")
    return 0


def rules_command(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    rows = [rule_json(rule, rule.enabled) for rule in settings.overflow]  # fmt: skip
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("Aucune règle de débordement configurée.")
    for row in rows:
        state = "active" if row["actif"] else "désactivée"
        target = f" → {row['cible']}" if row["cible"] else ""
        print(f"« {row['nom']} » (file {row['file']}) : {row['condition']} {row['seuil']:g} "
              f"⇒ {row['destination']}{target} [{state}]")  # fmt: skip
    return 0
