"""``svi-acd vip import FICHIER`` and ``svi-acd vip list``: the VIP/P0 directory.

An import is written to the audit journal in the name of ``cli:<compte Unix>``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.audit.store import record_change
from svi_acd.cli_options import (
    add_config_option,
    add_db_option,
    cli_actor,
    database_url,
    run_on_database,
    settings_from,
)
from svi_acd.directory.audit import directory_imported
from svi_acd.directory.csv_import import MAX_BYTES, parse_directory_csv
from svi_acd.directory.store import list_entries, replace_directory


def register(subparsers: argparse._SubParsersAction, help_text: str) -> None:
    vip = subparsers.add_parser("vip", help=help_text)
    actions = vip.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="remplacer l'annuaire par un fichier CSV (numero;nom;entite;site;niveau;debut;fin)",
    )
    imp.add_argument("file", metavar="FICHIER")
    add_config_option(imp)
    add_db_option(imp)
    imp.set_defaults(handler=import_command)
    show = actions.add_parser("list", help="lister l'annuaire")
    show.add_argument("--search", metavar="TEXTE", help="filtrer par nom, entité ou numéro")
    show.add_argument("--json", action="store_true", help="sortie JSON")
    add_config_option(show)
    add_db_option(show)
    show.set_defaults(handler=list_command)


def import_command(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        if path.stat().st_size > MAX_BYTES:
            print(
                f"Erreur : {path} dépasse {MAX_BYTES // 1024} Kio, rien n'a été importé.",
                file=sys.stderr,
            )
            return 2
        data = path.read_bytes()
    except OSError as exc:
        print(f"Erreur : lecture de {path} impossible ({exc.strerror}).", file=sys.stderr)
        return 2
    result = parse_directory_csv(data)
    if not result.ok:
        print(
            f"Import refusé : {len(result.errors)} ligne(s) en erreur, rien n'a été importé.",
            file=sys.stderr,
        )
        for error in result.errors:
            print(f"  {error}", file=sys.stderr)
        return 2

    async def replace(engine: AsyncEngine) -> None:
        await replace_directory(
            engine, result.entries, source=path.name, imported_by=getpass.getuser()
        )
        await record_change(engine, cli_actor(), directory_imported(path.name, result.entries))

    run_on_database(database_url(args, settings_from(args)), replace)
    total = len(result.entries)
    vip = sum(1 for entry in result.entries if entry.level == "VIP")
    print(f"Annuaire importé : {total} entrée(s) ({vip} VIP, {total - vip} P0).")
    return 0


def list_command(args: argparse.Namespace) -> int:
    entries = run_on_database(
        database_url(args, settings_from(args)),
        lambda engine: list_entries(engine, args.search),
    )
    if args.json:
        rows = [
            {
                "numero": e.number,
                "nom": e.name,
                "entite": e.entity,
                "site": e.site,
                "niveau": e.level,
                "debut": e.start.isoformat() if e.start else None,
                "fin": e.end.isoformat() if e.end else None,
            }
            for e in entries
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print("Annuaire vide.")
        return 0
    for e in entries:
        period = ""
        if e.start or e.end:
            period = f" du {e.start:%d/%m/%Y}" if e.start else ""
            period += f" au {e.end:%d/%m/%Y}" if e.end else ""
        print(f"{e.level:<3}  {e.number:<16} {e.name} — {e.entity} — {e.site}{period}")
    print(f"{len(entries)} entrée(s).")
    return 0
