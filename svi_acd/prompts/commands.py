"""``svi-acd crise …``: crisis and deterrence messages from the command line.

The commands work on the database (the source of truth) and the configured sound folder,
then announce the change: over Redis when ``service.redis`` is set (running instances hear it
at once), else the running service picks it up at its next re-read (``crise.relecture_s``).
The journal records the system user who ran the command.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from svi_acd.cli_options import (
    add_config_option,
    add_db_option,
    database_url,
    open_database,
    settings_from,
)
from svi_acd.config.model import Settings
from svi_acd.live import InProcessLiveState, LiveState
from svi_acd.prompts.crisis import (
    Change,
    CrisisMessages,
    MessageRequest,
    Recording,
)
from svi_acd.prompts.crisis_audio import too_large
from svi_acd.prompts.crisis_errors import CrisisError
from svi_acd.prompts.crisis_files import CrisisSoundFiles
from svi_acd.prompts.crisis_json import journal_json, message_json
from svi_acd.prompts.crisis_store import ACTIONS, JournalFilter, load_snapshot
from svi_acd.routing.commands import parse_instant
from svi_acd.routing.crisis import MODES, SCOPE_KINDS, Scope

T = TypeVar("T")
EXIT_CODES = {"invalide": 2, "audio_refuse": 2, "trop_volumineux": 2, "introuvable": 1,
              "conflit": 1, "indisponible": 1}  # fmt: skip


def register(subparsers: argparse._SubParsersAction, help_text: str) -> None:
    crisis = subparsers.add_parser("crise", help=help_text)
    actions = crisis.add_subparsers(dest="action", metavar="ACTION", required=True)

    show = actions.add_parser("list", help="lister les messages et ce qu'ils deviennent")
    show.add_argument("--json", action="store_true", help="sortie JSON")
    show.set_defaults(handler=list_command)

    create = actions.add_parser("create", help="créer un message (texte lu ou enregistrement)")
    source = create.add_mutually_exclusive_group(required=True)
    source.add_argument("--texte", metavar="TEXTE", help="texte lu par la synthèse vocale")
    source.add_argument("--fichier", metavar="FICHIER", help="enregistrement WAV, MP3, OGG, M4A")
    create.add_argument("--titre", metavar="TITRE", help="titre dans les listes")
    create.add_argument(
        "--mode", choices=MODES, default="information",
        help="information : puis le menu ; dissuasion : puis raccroché (défaut : information)",
    )  # fmt: skip
    create.add_argument("--portee", choices=SCOPE_KINDS, default="ligne", help="défaut : ligne")
    create.add_argument(
        "--valeurs", metavar="A,B", default="",
        help="branches du menu (incident,demande…) ou territoires (FR,GF,MQ…) visés",
    )  # fmt: skip
    create.add_argument("--debut", metavar="ISO8601", help="début de diffusion (heure de Paris)")
    create.add_argument("--fin", metavar="ISO8601", help="fin de diffusion (heure de Paris)")
    create.add_argument("--incident", metavar="REF", help="incident ou ticket lié")
    create.add_argument("--activer", action="store_true", help="diffuser dès la création")
    create.add_argument(
        "--sans-rappel-portail", action="store_true",
        help="ne pas ajouter le rappel du portail après un message de dissuasion",
    )  # fmt: skip
    create.add_argument("--json", action="store_true", help="sortie JSON")
    create.set_defaults(handler=create_command)

    switches = []
    for name, verb, handler in (
        ("activate", "activer (diffuser)", activate_command),
        ("deactivate", "désactiver (retirer)", deactivate_command),
    ):
        switch = actions.add_parser(name, help=f"{verb} un message")
        switch.add_argument("id", type=int, metavar="ID")
        switch.add_argument("--motif", metavar="TEXTE", default="", help="motif, pour le journal")
        switch.set_defaults(handler=handler)
        switches.append(switch)

    journal = actions.add_parser("journal", help="journal des évènements (plus récent d'abord)")
    journal.add_argument("--message", type=int, metavar="ID")
    journal.add_argument("--utilisateur", metavar="NOM")
    journal.add_argument("--action", choices=ACTIONS)
    journal.add_argument("--incident", metavar="REF")
    journal.add_argument("--depuis", metavar="ISO8601")
    journal.add_argument("--jusqu-a", dest="until", metavar="ISO8601")
    journal.add_argument("--limite", type=int, default=50)
    journal.add_argument("--json", action="store_true", help="sortie JSON")
    journal.set_defaults(handler=journal_command)

    for parser in (show, create, journal, *switches):
        add_config_option(parser)
        add_db_option(parser)


@asynccontextmanager
async def crisis_messages(
    settings: Settings, url: str, *, announce: bool
) -> AsyncIterator[CrisisMessages]:
    """The same service object the web API uses, on the configured database and sounds."""
    from svi_acd.service import default_sound_folder

    engine = await open_database(url)
    live: LiveState = InProcessLiveState(settings.crisis.surge.window_s)
    if announce and settings.service.redis_url:
        from svi_acd.live.redis_backend import RedisLiveState

        live = RedisLiveState(settings.service.redis_url, lambda: load_snapshot(engine),
                              settings.crisis.surge.window_s)  # fmt: skip
    files = CrisisSoundFiles(default_sound_folder(settings), settings.crisis.kept_versions)
    try:
        yield CrisisMessages(
            settings, engine, live, files, clock=lambda: datetime.now().astimezone()
        )
    finally:
        await live.stop()
        await engine.dispose()


def _run(
    args: argparse.Namespace, work: Callable[[CrisisMessages], Awaitable[T]], announce: bool = False
) -> T | int:
    settings = settings_from(args)
    url = database_url(args, settings)

    async def go() -> T:
        async with crisis_messages(settings, url, announce=announce) as messages:
            return await work(messages)

    try:
        return asyncio.run(go())
    except CrisisError as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return EXIT_CODES.get(exc.kind, 1)


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _line(data: dict[str, Any]) -> str:
    scope = data["portee"]
    where = "toute la ligne" if scope["type"] == "ligne" else ", ".join(scope["valeurs"])
    period = ""
    if data["debut"] or data["fin"]:
        period = f" [{data['debut'] or '…'} → {data['fin'] or '…'}]"
    return (
        f"{data['id']:>4}  {data['statut_libelle']:<10} {data['mode']:<11} {where:<24} "
        f"v{data['version']}  {data['titre']}{period}"
    )


def list_command(args: argparse.Namespace) -> int:
    async def work(messages: CrisisMessages) -> int:
        now = messages.clock()
        rows = [message_json(m, now) for m in await messages.list_all()]
        if args.json:
            _print_json(rows)
        elif not rows:
            print("Aucun message de crise.")
        else:
            for row in rows:
                print(_line(row))
        return 0

    return _run(args, work)


def _instant(text: str | None, settings: Settings) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text, ZoneInfo(settings.desk.timezone))
    except ValueError as exc:
        raise CrisisError(str(exc)) from exc


def _read_recording(path: Path, max_bytes: int, messages: CrisisMessages) -> Recording:
    try:
        if path.stat().st_size > max_bytes:
            raise too_large(messages.limits)
        return Recording(path.read_bytes(), path.name)
    except OSError as exc:
        raise CrisisError(f"lecture de {path} impossible ({exc.strerror}).") from exc


def _report(change: Change, as_json: bool, verb: str, messages: CrisisMessages) -> int:
    data = message_json(change.message, messages.clock())
    if as_json:
        _print_json(data)
        return 0
    if not change.changed:
        print(f"Message {change.message.id} déjà {verb} : rien à faire.")
        return 0
    print(f"Message {change.message.id} {verb} (révision {change.revision}).")
    print(_line(data))
    every = f"{messages.settings.crisis.refresh_s:g} s"
    later = f"à leur prochaine relecture de la base (au plus {every})"
    if not messages.settings.service.redis_url:
        print(f"Les instances en service le prendront en compte {later}.")
    elif not change.propagated:
        warning = f"Attention : Redis injoignable, les instances le prendront en compte {later}."
        print(warning, file=sys.stderr)
    return 0


def create_command(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def work(messages: CrisisMessages) -> int:
        recording = None
        if args.fichier:
            recording = await asyncio.to_thread(
                _read_recording, Path(args.fichier), messages.limits.max_bytes, messages
            )
        try:
            scope = Scope(
                args.portee, tuple(v.strip() for v in args.valeurs.split(",") if v.strip())
            )
        except ValueError as exc:
            raise CrisisError(f"portée invalide : {exc}.") from exc
        request = MessageRequest(
            text=args.texte,
            recording=recording,
            label=args.titre,
            mode=args.mode,
            scope=scope,
            start=_instant(args.debut, settings),
            end=_instant(args.fin, settings),
            incident=args.incident,
            active=args.activer,
            portal_pointer=False if args.sans_rappel_portail else None,
        )
        change = await messages.create(request, getpass.getuser())
        return _report(change, args.json, "créé", messages)

    return _run(args, work, announce=True)


def _switch(args: argparse.Namespace, active: bool) -> int:
    async def work(messages: CrisisMessages) -> int:
        change = await messages.switch(args.id, active, getpass.getuser(), args.motif)
        return _report(change, False, "activé" if active else "désactivé", messages)

    return _run(args, work, announce=True)


def activate_command(args: argparse.Namespace) -> int:
    return _switch(args, True)


def deactivate_command(args: argparse.Namespace) -> int:
    return _switch(args, False)


def journal_command(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def work(messages: CrisisMessages) -> int:
        where = JournalFilter(
            message_id=args.message, actor=args.utilisateur, action=args.action,
            incident=args.incident, since=_instant(args.depuis, settings),
            until=_instant(args.until, settings), limit=args.limite,
        )  # fmt: skip
        entries = [journal_json(e) for e in await messages.journal(where)]
        if args.json:
            _print_json(entries)
            return 0
        if not entries:
            print("Journal vide pour ces critères.")
        for e in entries:
            zone = ZoneInfo(settings.desk.timezone)
            when = datetime.fromisoformat(e["date"]).astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")
            target = f"message {e['message']} v{e['version']}" if e["message"] else ""
            print(f"{when}  {e['utilisateur']:<12} {e['action']:<13} {target:<16} {e['detail']}")
        return 0

    return _run(args, work)
