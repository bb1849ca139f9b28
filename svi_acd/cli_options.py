"""Options shared by several sub-commands (--config, --db) and the objects they lead to."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.config.loader import load_settings
from svi_acd.config.model import Settings
from svi_acd.db.base import create_engine, default_database_url
from svi_acd.db.migrate import upgrade


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FICHIER",
        default=os.environ.get("SVI_ACD_CONFIG"),
        help="fichier de configuration YAML "
        "(défaut : $SVI_ACD_CONFIG, sinon la configuration livrée)",
    )


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help="base de données, ex. sqlite:///chemin.db ou postgresql://hôte/base "
        "(défaut : $SVI_ACD_DB_URL, sinon la configuration, sinon SQLite dans $SVI_ACD_DATA)",
    )


def cli_actor() -> str:
    """Who acts from the command line, as journals name them: ``cli:<compte Unix>``."""
    return f"cli:{getpass.getuser()}"


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings a command was given (read once per command, however often asked)."""
    settings: Settings | None = getattr(args, "_settings", None)
    if settings is None:
        settings = load_settings(getattr(args, "config", None))
        args._settings = settings
    return settings


def database_url(args: argparse.Namespace, settings: Settings) -> str:
    return (
        getattr(args, "db", None)
        or os.environ.get("SVI_ACD_DB_URL")
        or settings.service.database_url
        or default_database_url()
    )


async def open_database(url: str) -> AsyncEngine:
    """An engine on ``url`` with the schema brought up to date (embedded use needs no step)."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return engine


T = TypeVar("T")


def run_on_database(url: str, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``work`` on an up-to-date database from a command, and close it afterwards."""

    async def run() -> T:
        engine = await open_database(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())
