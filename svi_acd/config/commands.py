"""``svi-acd config check [FICHIER]`` and ``svi-acd config show``."""

from __future__ import annotations

import argparse
import json

from svi_acd.config.loader import default_config_text, load_settings


def register(subparsers: argparse._SubParsersAction, help_text: str) -> None:
    config = subparsers.add_parser("config", help=help_text)
    actions = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="valider un fichier de configuration")
    check.add_argument("file", nargs="?", metavar="FICHIER", help="défaut : configuration livrée")
    check.set_defaults(handler=check_command)
    show = actions.add_parser("show", help="afficher la configuration effective")
    show.add_argument("file", nargs="?", metavar="FICHIER")
    show.add_argument(
        "--default", action="store_true", help="le fichier livré, commentaires inclus"
    )
    show.set_defaults(handler=show_command)


def check_command(args: argparse.Namespace) -> int:
    settings = load_settings(args.file)
    source = args.file or "configuration livrée"
    print(
        f"Configuration valide ({source}) : {len(settings.territories)} territoires, "
        f"{len(settings.flow.nodes)} nœuds de SVI, {len(settings.queues)} file(s), "
        f"{len(settings.overflow)} règle(s) de débordement."
    )
    return 0


def show_command(args: argparse.Namespace) -> int:
    if args.default:
        print(default_config_text(), end="")
        return 0
    settings = load_settings(args.file)
    print(json.dumps(settings.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2))
    return 0
