"""The ``svi-acd`` command: the composition root that wires settings, stores and services.

Each capability adds its sub-commands through a ``register(subparsers)`` function; a command
is a function ``(args) -> int`` (the exit code). Exit codes: 0 success, 1 operation failed,
2 bad input or configuration.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from svi_acd.config.environment import load_env_file
from svi_acd.config.errors import ConfigError

Command = Callable[[argparse.Namespace], int]

# Each command, the module that builds it (``register(subparsers)``) and its one-line help,
# in the order shown by --help. Only the module of the command typed is imported: the others
# pull in SQLAlchemy, aiohttp, pydantic models… and `svi-acd --help` must answer at once.
COMMANDS: dict[str, tuple[str, str]] = {
    "config": ("svi_acd.config.commands", "vérifier ou afficher la configuration"),
    "route": (
        "svi_acd.routing.commands",
        "décision de routage pour un appelant à un instant donné",
    ),
    "vip": ("svi_acd.directory.commands", "annuaire VIP / P0"),
    "db": ("svi_acd.db.commands", "base de données"),
    "stats": ("svi_acd.stats.commands", "statistiques : import du queue_log, rapports"),
    "crise": ("svi_acd.prompts.commands", "messages de crise et de dissuasion"),
    "user": ("svi_acd.accounts.commands", "comptes des pages web et de l'API"),
    "serve": ("svi_acd.serve", "lancer le service (FastAGI, API web)"),
    "acd": ("svi_acd.acd.commands", "agents, files d'attente et débordement (par l'AMI)"),
}

# Sub-commands from outside the product (the lab's `svi-acd lab …`): entry points of this
# group, so that the product never imports them. A plugin whose package cannot load is left
# out; its package's ``COMMAND_HELP`` is its line in --help (the package only: light).
PLUGIN_GROUP = "svi_acd.commands"


def _typed_command(argv: Sequence[str]) -> str | None:
    """The command named on the line (its first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The whole parser for the command in ``argv``; the others are only listed."""
    parser = argparse.ArgumentParser(
        prog="svi-acd",
        description="Numéro unique du centre de services : SVI, ACD et statistiques.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMANDE", required=True)
    typed = _typed_command(argv)
    for name, (module, help_text) in COMMANDS.items():
        if name == typed:
            importlib.import_module(module).register(subparsers, help_text)
        else:
            subparsers.add_parser(name, help=help_text)
    for plugin in entry_points(group=PLUGIN_GROUP):
        if plugin.name in COMMANDS:
            continue
        try:
            package = importlib.import_module(plugin.module.split(".")[0])
        except ImportError:
            continue
        help_text = getattr(package, "COMMAND_HELP", "")
        if plugin.name == typed:
            plugin.load()(subparsers, help_text)
        else:
            subparsers.add_parser(plugin.name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Before the parser: option defaults come from the environment (see config.environment).
    load_env_file()
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(words).parse_args(words)
    handler: Command = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
