"""The web app for the page tests (crisis, journal, wallboard, VIP directory): an aiohttp test
client logged in through real sessions (cookie + CSRF token, as a browser), a settable clock,
and an ACD board driven by hand.

Not a conftest: the page tests import what they use from here.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.acd.board import AcdSnapshot, Board
from svi_acd.acd.control import AcdControl, AcdError
from svi_acd.config.loader import load_settings
from svi_acd.config.model import Settings
from svi_acd.db.base import create_engine
from svi_acd.db.migrate import upgrade
from svi_acd.live import InProcessLiveState
from svi_acd.prompts.catalog import SoundFolder
from svi_acd.prompts.crisis import CrisisMessages
from svi_acd.prompts.crisis_files import CrisisSoundFiles
from svi_acd.prompts.crisis_store import load_snapshot
from svi_acd.prompts.surge import SurgeMonitor
from svi_acd.web.app import WebResources, create_app
from svi_acd.web.auth import SESSION_COOKIE
from tests.accounts.helpers import PASSWORDS, fast_store

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 7, 8, 10, 0, tzinfo=PARIS)
SESSION_ROLES = ("superviseur", "admin", "consultation")


class SettableClock:
    def __init__(self, moment: datetime = NOW) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def epoch(self) -> float:
        return self.moment.timestamp()


def overflow_rule(
    name: str, condition: str, threshold: float, destination: str, target: str | None = None,
    *, queue: str = "support", enabled: bool = True,
) -> dict[str, object]:  # fmt: skip
    """A rule as ``AcdControl.overflow_rules`` gives it."""
    return {"nom": name, "file": queue, "condition": condition, "seuil": threshold,
            "destination": destination, "cible": target, "actif": enabled}  # fmt: skip


def default_rules() -> list[dict[str, object]]:
    return [
        overflow_rule("attente trop longue", "attente_max_s", 600, "rappel"),
        overflow_rule("aucun agent connecté", "aucun_agent", 0, "message", "sature"),
    ]


@dataclass
class BoardControl:
    """``AcdControl`` over a board built by hand: the wallboard's reads, and the supervisor's
    actions (agents, overflow switches) applied to the board and recorded in ``calls``
    (method, arguments…, actor). ``failure``: raised by the next action instead."""

    board: Board
    now: Any = time.time
    rules: list[dict[str, object]] = field(default_factory=default_rules)
    calls: list[tuple[object, ...]] = field(default_factory=list)
    failure: AcdError | None = None

    def snapshot(self) -> AcdSnapshot:
        return self.board.snapshot(self.now())

    async def wait_change(self, version: int, timeout_s: float) -> int:
        return await self.board.wait_change(version, timeout_s)

    def _act(self, *call: object) -> None:
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure
        self.calls.append(call)

    def _agent(self, interface: str) -> str:
        if interface not in self.board.agents:
            raise AcdError(f"agent inconnu « {interface[:80]} »", 404)
        return interface

    async def login(
        self, interface: str, actor: str, queues: Sequence[str] = (), name: str | None = None
    ) -> None:
        self._act("login", interface, tuple(queues), name, actor)
        self.board.update_agent(interface, logged_in=True, since=self.now())

    async def logout(self, interface: str, actor: str, queues: Sequence[str] = ()) -> None:
        self._act("logout", self._agent(interface), tuple(queues), actor)
        self.board.update_agent(interface, logged_in=False, paused=False, since=self.now())

    async def pause(self, interface: str, reason: str, actor: str) -> None:
        self._act("pause", self._agent(interface), reason, actor)
        self.board.update_agent(interface, paused=True, pause_reason=reason, since=self.now())

    async def unpause(self, interface: str, actor: str) -> None:
        self._act("unpause", self._agent(interface), actor)
        self.board.update_agent(interface, paused=False, pause_reason="", since=self.now())

    async def change_priority(self, uniqueid: str, priority: int, actor: str) -> None:
        self._act("change_priority", uniqueid, priority, actor)

    def overflow_rules(self) -> list[dict[str, object]]:
        return [dict(rule) for rule in self.rules]

    async def switch_overflow_rule(self, name: str, enabled: bool, actor: str) -> None:
        found = [rule for rule in self.rules if rule["nom"] == name]
        if not found:
            raise AcdError(f"règle de débordement inconnue « {name[:80]} »", 404)
        self._act("switch_overflow_rule", name, enabled, actor)
        found[0]["actif"] = enabled
        self.board.touch()


def small_limits(settings: Settings) -> Settings:
    """Small crisis limits, so that refusals are quick to provoke."""
    crisis = settings.crisis.model_copy(update={"max_duration_s": 20, "max_upload_mb": 0.5})
    return settings.model_copy(update={"crisis": crisis})


@dataclass
class Session:
    cookie: str
    csrf: str


@dataclass
class PagesClient:
    client: TestClient
    engine: AsyncEngine
    crisis: CrisisMessages
    clock: SettableClock
    board: Board
    control: BoardControl | None = None
    sessions: dict[str, Session] = field(default_factory=dict)

    def _headers(self, role: str | None) -> dict[str, str]:
        if role is None:
            return {}
        return {"Cookie": f"{SESSION_COOKIE}={self.sessions[role].cookie}"}

    async def get(
        self, path: str, role: str | None = "superviseur", **params: str
    ) -> tuple[int, str]:
        response = await self.client.get(
            path, params=params, headers=self._headers(role), allow_redirects=False
        )
        return response.status, await response.text()

    async def post(
        self, path: str, fields: Sequence[tuple[str, str]] = (), *, role: str = "superviseur",
        files: Sequence[tuple[str, bytes, str]] = (), multipart: bool = False,
        headers: dict[str, str] | None = None,
    ) -> ClientResponse:  # fmt: skip
        """A form as a browser sends it: multipart (token in the query, as ``csrf_action``
        writes it) when there is a file or ``multipart``, else urlencoded with the token."""
        csrf = self.sessions[role].csrf
        all_headers = {**self._headers(role), **(headers or {})}
        if files or multipart:
            form = FormData(default_to_multipart=True)
            for name, value in fields:
                form.add_field(name, value)
            for name, data, filename in files:
                form.add_field(name, data, filename=filename)
            separator = "&" if "?" in path else "?"
            return await self.client.post(
                f"{path}{separator}csrf_token={csrf}", data=form, headers=all_headers,
                allow_redirects=False,
            )  # fmt: skip
        return await self.client.post(
            path, data=[*fields, ("csrf_token", csrf)], headers=all_headers,
            allow_redirects=False,
        )  # fmt: skip


@asynccontextmanager
async def pages_client(
    tmp_path: Path, settings: Settings | None = None, *, with_acd: bool = True,
    database_url: str | None = None,
) -> AsyncIterator[PagesClient]:  # fmt: skip
    settings = settings or small_limits(load_settings())
    engine = create_engine(database_url or f"sqlite:///{tmp_path / 'pages.sqlite3'}")
    await upgrade(engine)
    clock = SettableClock()
    live = InProcessLiveState(settings.crisis.surge.window_s)
    await live.start(await load_snapshot(engine))
    files = CrisisSoundFiles(SoundFolder(tmp_path / "sons", "/sons"), 3)
    crisis = CrisisMessages(settings, engine, live, files, clock)
    surge = SurgeMonitor(settings.crisis.surge, live, crisis)
    board = Board({name: queue.name for name, queue in settings.queues.items()}, connected=True)
    control = BoardControl(board, clock.epoch) if with_acd else None
    store = fast_store(engine)
    sessions = {}
    for role in SESSION_ROLES:
        account = await store.create(f"{role}.test", role, PASSWORDS[role], f"Compte {role}")
        cookie, session = await store.open_session(account)
        sessions[role] = Session(cookie, session.csrf_token)

    @asynccontextmanager
    async def open_resources() -> AsyncIterator[WebResources]:
        yield WebResources(
            crisis, surge, lambda: {"ami": "connecté depuis 09:58:00"}, engine=engine,
            acd=cast(AcdControl, control), accounts=store,
        )  # fmt: skip

    try:
        app = create_app(settings, open_resources)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            yield PagesClient(client, engine, crisis, clock, board, control, sessions)
    finally:
        await live.stop()
        await engine.dispose()


def text_of(html: str) -> str:
    """The page's visible text, on one line (tags removed, entities decoded)."""
    without = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", without)).split())


def field_value(html: str, name: str) -> str | None:
    """The value an ``<input name=…>`` (or the text a ``<textarea>``) shows, decoded."""
    textarea = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    if textarea:
        return unescape(textarea.group(1))
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    if not found:
        return None
    value = re.search(r'value="([^"]*)"', found.group(0))
    return unescape(value.group(1)) if value else ""


def checked_values(html: str, name: str) -> list[str]:
    tags = re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)
    return [
        unescape(re.search(r'value="([^"]*)"', tag).group(1))  # type: ignore[union-attr]
        for tag in tags
        if re.search(r"\schecked\b", tag)
    ]
