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
from svi_acd.config.loader import ConfigError

Command = Callable[[argparse.Namespace], int]

# Modules that contribute sub-commands, in the order shown by --help.
COMMAND_MODULES: tuple[str, ...] = (
    "svi_acd.config.commands",
    "svi_acd.routing.commands",
    "svi_acd.directory.commands",
    "svi_acd.db.commands",
    "svi_acd.stats.commands",
    "svi_acd.prompts.commands",
    "svi_acd.accounts.commands",
    "svi_acd.serve",
    "svi_acd.acd.commands",
)


# Sub-commands from outside the product (the lab's `svi-acd lab …`): entry points of this
# group, so that the product never imports them. A plugin that cannot load is left out.
PLUGIN_GROUP = "svi_acd.commands"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="svi-acd",
        description="Numéro unique du centre de services : SVI, ACD et statistiques.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMANDE", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for plugin in entry_points(group=PLUGIN_GROUP):
        try:
            register = plugin.load()
        except ImportError:
            continue
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Before the parser: option defaults come from the environment (see config.environment).
    load_env_file()
    parser = build_parser()
    args = parser.parse_args(argv)
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
