"""Fixtures of the browser tests (headless Chromium driven by Playwright, see harness.py).

- ``web_server``: the app on 127.0.0.1 with a fresh SQLite database, the shipped settings and
  the crisis service (no Asterisk). To give it more resources, override the fixture
  ``customize_resources`` in a test module (an ``async (resources, stack) -> resources``
  run on the server's loop), or call ``web_server_factory(customize=…)``.
- ``accounts``: one account per role (``accounts["superviseur"].login`` / ``.password``).
- ``page``: a Playwright page in a fresh browser context whose base URL is the server:
  ``page.goto("/connexion")``; ``page_errors`` lists its JavaScript and console errors.
- ``login(page, role)``, ``screenshot(page, name)``, ``assert_accessible(page)``.

Browser tests are plain (synchronous) functions using Playwright's sync API; work on the
server's loop goes through ``web_server.run(coroutine)``. No async test or async fixture in a
browser test module: while its Chromium is open, the thread's event loop is Playwright's.

Without Chromium the tests are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from svi_acd.config.loader import load_settings
from svi_acd.config.model import Settings
from tests.browser.harness import (
    Credentials,
    Customize,
    WebServer,
    browser_page,
    check_accessible,
    chromium,
    create_role_accounts,
    log_in,
    save_screenshot,
    start_web_server,
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Not per session: while Playwright's synchronous API is
    open it marks the thread's event loop as running, which the asyncio tests of the other
    folders cannot bear; closed at the end of each module, it leaves them a clean thread."""
    with chromium() as opened:
        yield opened


@pytest.fixture
def web_settings() -> Settings:
    """The shipped default settings (override in a module for other ones)."""
    return load_settings()


@pytest.fixture
def customize_resources() -> Customize | None:
    return None


@pytest.fixture
def web_server_factory(
    web_settings: Settings, tmp_path: Path
) -> Iterator[Callable[..., WebServer]]:
    started: list[WebServer] = []

    def start(customize: Customize | None = None, settings: Settings | None = None) -> WebServer:
        folder = tmp_path / f"web{len(started)}"
        folder.mkdir()
        server = start_web_server(settings or web_settings, folder, customize)
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def web_server(
    web_server_factory: Callable[..., WebServer], customize_resources: Customize | None
) -> WebServer:
    return web_server_factory(customize=customize_resources)


@pytest.fixture
def accounts(web_server: WebServer) -> dict[str, Credentials]:
    return create_role_accounts(web_server)


@pytest.fixture
def page_errors() -> list[str]:
    """JavaScript errors and console errors of ``page`` (a CSP refusal shows up here)."""
    return []


@pytest.fixture
def page(browser: Any, web_server: WebServer, page_errors: list[str]) -> Iterator[Any]:
    with browser_page(browser, web_server.url, page_errors) as opened:
        yield opened


@pytest.fixture
def login(accounts: dict[str, Credentials]) -> Callable[[Any, str], Credentials]:
    def log_in_as(page: Any, role: str) -> Credentials:
        credentials = accounts[role]
        log_in(page, credentials)
        return credentials

    return log_in_as


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    return save_screenshot


@pytest.fixture
def assert_accessible() -> Callable[[Any], None]:
    return check_accessible
