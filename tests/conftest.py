"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.config.loader import load_settings
from svi_acd.config.model import Settings
from svi_acd.db.base import create_engine
from svi_acd.db.migrate import upgrade
from tests.servers import postgres_server

# A demo run in this checkout leaves var/svi-acd.env for later commands: never for the tests.
os.environ["SVI_ACD_ENV"] = ""


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database test runs on SQLite and on a real PostgreSQL (fresh schema each time)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    base: str = request.getfixturevalue("postgres_url")
    return base


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            await connection.exec_driver_sql("CREATE SCHEMA public")
    await upgrade(engine)
    yield engine
    await engine.dispose()
