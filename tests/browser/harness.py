"""The browser test harness: the web app in a thread on 127.0.0.1, driven by headless Chromium.

The server runs its own event loop in a background thread, so tests use Playwright's
synchronous API and stay plain functions; ``WebServer.run(coroutine)`` runs database or
service work on the server's loop (create data, read what a page did).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.accounts.store import AccountStore
from svi_acd.clock import Clock, system_clock
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
from tests.accounts.helpers import PASSWORDS, fast_store

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SVI_ACD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage"]  # fmt: skip
AXE_DIR = ROOT / "svi_acd" / "web" / "assets" / "node_modules" / "axe-core"
SCREENSHOTS = ROOT / "tests" / "artefacts" / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")
IMPACTS_FR = {"minor": "mineur", "moderate": "modéré", "serious": "grave", "critical": "critique"}

# Open more resources, or replace some, once the base ones exist (on the server's loop):
# ``async def customize(resources: WebResources, stack: AsyncExitStack) -> WebResources``.
Customize = Callable[[WebResources, AsyncExitStack], Awaitable[WebResources]]


def browser_missing_reason() -> str | None:
    if not CHROMIUM.is_file() and shutil.which("chromium") is None:
        return f"Chromium absent ({CHROMIUM}) : apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "paquet Python playwright absent : pip install -e '.[test]'"
    return None


def require_browser() -> None:
    """Skip when there is no browser, except under CI where that is a failure."""
    reason = browser_missing_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"tests navigateur impossibles sous CI : {reason}")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright's synchronous API, closed at the end
    (skipped without a browser, see ``require_browser``).

    While it is open, Playwright marks the calling thread's event loop as running: open it
    from plain (synchronous) tests and fixtures only, and run asyncio work on another thread.
    """
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(browser: Any, base_url: str, errors: list[str]) -> Iterator[Any]:
    """A page in a fresh browser context (French, 15 s per action) whose base URL is
    ``base_url``; its JavaScript errors and console errors are appended to ``errors``."""
    context = browser.new_context(base_url=base_url, locale="fr-FR")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"erreur JavaScript : {error}"))
        page.on(
            "console",
            lambda message: (
                errors.append(f"console : {message.text}") if message.type == "error" else None
            ),
        )
        yield page
    finally:
        context.close()


@dataclass
class Credentials:
    login: str
    password: str
    role: str


@dataclass
class WebServer:
    """The app served on 127.0.0.1 from a background thread, with its resources."""

    url: str
    settings: Settings
    engine: AsyncEngine
    accounts: AccountStore
    resources: WebResources
    loop: asyncio.AbstractEventLoop
    tmp_path: Path
    _stop: Callable[[], None] = field(repr=False, default=lambda: None)

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``work`` on the server's event loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def stop(self) -> None:
        self._stop()


async def base_resources(
    settings: Settings, tmp_path: Path, stack: AsyncExitStack, clock: Clock = system_clock
) -> WebResources:
    """What the pages need, on a fresh SQLite database in ``tmp_path`` (no Asterisk)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'web.sqlite3'}")
    stack.push_async_callback(engine.dispose)
    await upgrade(engine)
    live = InProcessLiveState(settings.crisis.surge.window_s)
    await live.start(await load_snapshot(engine))
    stack.push_async_callback(live.stop)
    files = CrisisSoundFiles(SoundFolder(tmp_path / "sons", "/sons"), 3)
    crisis = CrisisMessages(settings, engine, live, files, clock)
    surge = SurgeMonitor(settings.crisis.surge, live, crisis)
    return WebResources(
        crisis, surge, lambda: {"etat_partage": live.status().as_json()}, engine=engine,
        accounts=fast_store(engine),
    )  # fmt: skip


def start_web_server(
    settings: Settings, tmp_path: Path, customize: Customize | None = None
) -> WebServer:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="serveur-web-test", daemon=True)
    thread.start()
    stack = AsyncExitStack()

    async def start() -> tuple[web.AppRunner, WebResources, int]:
        resources = await base_resources(settings, tmp_path, stack)
        if customize is not None:
            resources = await customize(resources, stack)

        @asynccontextmanager
        async def given() -> AsyncIterator[WebResources]:
            yield resources

        runner = web.AppRunner(create_app(settings, given), access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, resources, int(runner.addresses[0][1])

    try:
        _, resources, port = asyncio.run_coroutine_threadsafe(start(), loop).result(60)
    except BaseException:
        asyncio.run_coroutine_threadsafe(stack.aclose(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        raise

    def stop() -> None:
        try:
            asyncio.run_coroutine_threadsafe(stack.aclose(), loop).result(60)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    assert resources.engine is not None and resources.accounts is not None
    return WebServer(
        f"http://127.0.0.1:{port}", settings, resources.engine, resources.accounts, resources,
        loop, tmp_path, stop,
    )  # fmt: skip


def create_role_accounts(server: WebServer) -> dict[str, Credentials]:
    """One account per role: login ``<role>.test``, password ``PASSWORDS[role]``."""
    found = {}
    for role, password in PASSWORDS.items():
        login = f"{role}.test"
        server.run(server.accounts.create(login, role, password, f"Compte {role}"))
        found[role] = Credentials(login, password, role)
    return found


def log_in(page: Any, credentials: Credentials) -> None:
    """Fill the login form and wait for the page the role lands on."""
    page.goto("/connexion")
    page.locator("#champ-identifiant").fill(credentials.login)
    page.locator("#champ-mot_de_passe").fill(credentials.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    if "/connexion" in page.url:
        raise AssertionError(f"connexion de {credentials.login} refusée : {page.content()[:500]}")


def save_screenshot(page: Any, name: str) -> Path:
    """A full-page PNG under tests/artefacts/screenshots/ (kept as a test artefact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def _describe(violation: dict[str, Any]) -> str:
    targets = ", ".join(
        " ".join(str(part) for part in node.get("target", [])) for node in violation["nodes"][:5]
    )
    more = len(violation["nodes"]) - 5
    others = f" et {more} autre(s)" if more > 0 else ""
    impact = IMPACTS_FR.get(violation.get("impact") or "", violation.get("impact"))
    return (
        f"- [{impact}] {violation['id']} : {violation['help']} "
        f"({len(violation['nodes'])} élément(s) : {targets}{others})"
        f"\n  {violation['helpUrl']}"
    )


def accessibility_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (messages in French)."""
    axe = AXE_DIR / "axe.min.js"
    if not axe.is_file():
        raise AssertionError(
            f"axe-core absent ({axe}) : lancez « npm ci » dans svi_acd/web/assets."
        )
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (no inline script) allows it.
        page.evaluate(axe.read_text(encoding="utf-8"))
        locale = AXE_DIR / "locales" / "fr.json"
        if locale.is_file():
            page.evaluate("(locale) => window.axe.configure({locale})", json.loads(
                locale.read_text(encoding="utf-8")))  # fmt: skip
    result = page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations']})"
    )
    return list(result["violations"])


def check_accessible(page: Any) -> None:
    """Fail on any axe-core violation of impact serious or critical, listed in French."""
    blocking = [v for v in accessibility_violations(page) if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        listed = "\n".join(_describe(v) for v in blocking)
        raise AssertionError(
            f"{len(blocking)} problème(s) d'accessibilité graves ou critiques sur {page.url} :\n"
            f"{listed}"
        )
