"""The web app on the statistics reference day (tests/stats): a test client, a token, parsing.

Not a conftest: the statistics web tests import what they use from here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.config.model import Settings
from svi_acd.db.base import create_engine
from svi_acd.db.migrate import upgrade
from svi_acd.live import InProcessLiveState
from svi_acd.prompts.catalog import SoundFolder
from svi_acd.prompts.crisis import CrisisMessages
from svi_acd.prompts.crisis_files import CrisisSoundFiles
from svi_acd.prompts.crisis_store import load_snapshot
from svi_acd.stats.csv_imports import MonthFigures
from svi_acd.stats.itsm import Ticket, store_tickets
from svi_acd.stats.monthly import store_history
from svi_acd.web.app import WebResources, create_app
from tests.accounts.helpers import account_with_token, bearer, fast_store
from tests.stats.conftest import load, reference_day

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 10, 14, 12, 0, tzinfo=PARIS)  # the reference day, at noon
HISTORY = [MonthFigures("2026-08", 900, 850, 300), MonthFigures("2026-09", 1000, 930, 320)]
TICKETS = [Ticket("T100", datetime(2026, 10, 14, 9, tzinfo=UTC), "P1"),
           Ticket("T200", datetime(2026, 10, 14, 10, tzinfo=UTC), "P1"),
           Ticket("T300", datetime(2026, 10, 14, 11, tzinfo=UTC))]  # fmt: skip


async def load_reference_data(engine: AsyncEngine, folder: Path) -> None:
    """The reference day's queue_log, two months of history, three ITSM tickets."""
    await load(engine, reference_day().write(folder / "queue_log"))
    await store_history(engine, HISTORY, "historique.csv")
    await store_tickets(engine, TICKETS, "csv")


@dataclass
class StatsClient:
    """A test client with the API token of a ``consultation`` account."""

    client: TestClient
    headers: dict[str, str]
    engine: AsyncEngine

    async def get(self, path: str, **params: str) -> tuple[int, str, dict[str, str]]:
        response = await self.client.get(path, params=params, headers=self.headers)
        return response.status, await response.text(), dict(response.headers)

    async def get_bytes(self, path: str, **params: str) -> tuple[int, bytes]:
        response = await self.client.get(path, params=params, headers=self.headers)
        return response.status, await response.read()


@asynccontextmanager
async def stats_client(
    settings: Settings, folder: Path, database_url: str | None = None, with_data: bool = True
) -> AsyncIterator[StatsClient]:
    engine = create_engine(database_url or f"sqlite:///{folder / 'web.sqlite3'}")
    await upgrade(engine)
    if with_data:
        await load_reference_data(engine, folder)
    token = await account_with_token(engine, "consultation")
    live = InProcessLiveState(300)
    await live.start(await load_snapshot(engine))
    files = CrisisSoundFiles(SoundFolder(folder / "sons", "/sons"), 3)
    crisis = CrisisMessages(settings, engine, live, files, lambda: NOW)

    @asynccontextmanager
    async def open_resources() -> AsyncIterator[WebResources]:
        yield WebResources(crisis, engine=engine, accounts=fast_store(engine))

    try:
        app = create_app(settings, open_resources)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            yield StatsClient(client, bearer(token), engine)
    finally:
        await live.stop()
        await engine.dispose()


class _Tables(HTMLParser):
    """Cell texts of each table in an element ``id="tableau-NAME"``; ``data-mesure`` texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.values: dict[str, str] = {}
        self._container: str | None = None
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._measure: tuple[str, str, list[str]] | None = None  # name, tag, texts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if (found.get("id") or "").startswith("tableau-"):
            self._container = (found["id"] or "").removeprefix("tableau-")
        if tag == "table":
            self._table = self._container
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        if name := found.get("data-mesure"):
            self._measure = (name, tag, [])

    def handle_endtag(self, tag: str) -> None:
        if self._measure is not None and tag == self._measure[1]:
            name, _, texts = self._measure
            self.values[name] = " ".join("".join(texts).split())
            self._measure = None
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables.setdefault(self._table, []).append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._measure is not None:
            self._measure[2].append(data)


@dataclass
class ParsedPage:
    tables: dict[str, list[list[str]]]  # table name → rows (header row first)
    values: dict[str, str]  # indicator name → text shown


def parse_page(html: str) -> ParsedPage:
    parser = _Tables()
    parser.feed(html)
    return ParsedPage(parser.tables, parser.values)


def as_csv(cell: str) -> str:
    """A table cell as the CSV writes it: « — » (no figure) is an empty cell."""
    return "" if cell == "—" else cell


def unit_free(text: str) -> str:
    """An indicator as the CSV writes it: without its unit."""
    return as_csv(text).removesuffix(" %").removesuffix(" s")
