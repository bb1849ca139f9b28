"""``svi-acd db upgrade``: bring the database schema to the latest version."""

from __future__ import annotations

import argparse
import asyncio

from svi_acd.cli_options import add_config_option, add_db_option, database_url, settings_from
from svi_acd.db.base import create_engine
from svi_acd.db.migrate import upgrade


def register(subparsers: argparse._SubParsersAction, help_text: str) -> None:
    db = subparsers.add_parser("db", help=help_text)
    actions = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="mettre le schéma à jour (migrations Alembic)")
    add_config_option(up)
    add_db_option(up)
    up.set_defaults(handler=upgrade_command)


def upgrade_command(args: argparse.Namespace) -> int:
    url = database_url(args, settings_from(args))

    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print("Schéma de la base à jour.")
    return 0
