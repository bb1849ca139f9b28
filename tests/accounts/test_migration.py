"""Migration 0004 creates the account tables exactly as the models declare them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.db import models  # noqa: F401 - every table in the metadata
from svi_acd.db.base import Base
from svi_acd.db.migrate import upgrade

TABLES = {"accounts", "web_sessions", "api_tokens", "login_attempts"}


def _table_of(diff: object) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:] if isinstance(item, tuple) else ():
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if isinstance(part, str) and part in TABLES:
            return part
        if name in TABLES:
            return str(name)
    return None


async def test_the_account_tables_match_their_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        diffs = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    mine = [diff for diff in diffs if _table_of(diff) in TABLES]
    assert mine == []


async def test_downgrade_then_upgrade_again(engine: AsyncEngine) -> None:
    from alembic import command

    from svi_acd.db.migrate import alembic_config

    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.downgrade(alembic_config(sync), "0003_crisis")
        )
    await upgrade(engine)
