"""« Supervision » in a real headless Chromium: the wallboard shows a caller waiting, then
answered, without a reload (server-sent events), from an ACD board driven by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any, cast

import pytest
from playwright.sync_api import expect

from svi_acd.acd.board import Agent, Board, WaitingCaller
from svi_acd.acd.control import AcdControl
from svi_acd.web.app import WebResources
from tests.browser.harness import Credentials, Customize, WebServer
from tests.web.pages_app import BoardControl

Login = Callable[[Any, str], Credentials]


@pytest.fixture
def board() -> Board:
    return Board({"support": "Centre de services"}, connected=True)


@pytest.fixture
def control(board: Board) -> BoardControl:
    return BoardControl(board)


@pytest.fixture
def customize_resources(control: BoardControl) -> Customize:
    async def with_acd(resources: WebResources, stack: AsyncExitStack) -> WebResources:
        return replace(resources, acd=cast(AcdControl, control))

    return with_acd


def on_server(server: WebServer, change: Callable[[], object]) -> None:
    """Change the board on the server's loop (its wake-up event belongs to that loop)."""

    async def apply() -> None:
        change()

    server.run(apply())


def test_the_wallboard_shows_a_caller_waiting_then_answered_without_reload(
    page: Any, web_server: WebServer, board: Board, login: Login, screenshot: Callable,
    assert_accessible: Callable,
) -> None:  # fmt: skip
    alice = Agent("alice", "PJSIP/alice", ("support",), logged_in=True)
    on_server(web_server, lambda: board.put_agent(alice))
    login(page, "superviseur")
    page.goto("/supervision")
    expect(page.locator("#flux-mode")).to_have_text("— mise à jour en direct.")
    page.evaluate("() => { window.pasRecharge = true; }")
    waiting = page.locator('[data-champ="attente.appels"]')
    expect(waiting).to_have_text("0")

    caller = WaitingCaller("1700000000.1", "support", "PJSIP/appelant-1", "0696201234",
                           time.time() - 3, position=1, vip=True, priority=10)  # fmt: skip
    on_server(web_server, lambda: board.put_caller(caller))
    expect(waiting).to_have_text("1")
    expect(page.locator('[data-champ="attente.vip"]')).to_have_text("1")
    expect(page.locator("#appelants-corps")).to_contain_text("••••••1234")
    expect(page.locator("#appelants-corps")).to_contain_text("VIP")
    screenshot(page, "supervision")
    assert_accessible(page)

    def answered() -> None:
        board.remove_caller(caller.uniqueid)
        board.update_agent("PJSIP/alice", in_call=True, since=time.time())

    on_server(web_server, answered)
    expect(waiting).to_have_text("0")
    expect(page.locator("#appelants-corps")).to_contain_text("Aucun appelant en attente.")
    expect(page.locator(".app-state--en_appel")).to_contain_text("En appel : 1")
    expect(page.locator("#agents-corps")).to_contain_text("En appel")
    assert page.evaluate("() => window.pasRecharge") is True  # the same page: no reload
    screenshot(page, "supervision-appel-servi")
    assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})
    screenshot(page, "supervision-ecran-etroit")
    assert_accessible(page)


def test_without_javascript_the_wallboard_shows_the_state_at_load_time(
    browser: Any, web_server: WebServer, board: Board, accounts: dict[str, Credentials],
) -> None:  # fmt: skip
    from tests.browser.harness import log_in

    caller = WaitingCaller("1700000000.2", "support", "PJSIP/appelant-2", "0145000013",
                           time.time() - 70, position=1)  # fmt: skip
    on_server(web_server, lambda: board.put_caller(caller))
    context = browser.new_context(base_url=web_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, accounts["superviseur"])
        page.goto("/supervision")
        expect(page.locator('[data-champ="attente.appels"]')).to_have_text("1")
        expect(page.locator('[data-champ="attente.attente_max"]')).to_contain_text("1 min")
        expect(page.locator("#flux-mode")).to_contain_text("rechargez la page")
    finally:
        context.close()


def test_a_supervisor_pauses_an_agent_from_the_wallboard_after_a_live_redraw(
    page: Any, web_server: WebServer, board: Board, control: BoardControl, login: Login,
    screenshot: Callable, assert_accessible: Callable,
) -> None:  # fmt: skip
    on_server(web_server, lambda: board.put_agent(Agent("alice", "PJSIP/alice", ("support",),
                                                        logged_in=True)))  # fmt: skip
    credentials = login(page, "superviseur")
    page.goto("/supervision")
    expect(page.locator("#flux-mode")).to_have_text("— mise à jour en direct.")
    # A change on the board: the agents' rows (and their forms) are redrawn by the script.
    bruno = Agent("bruno", "PJSIP/bruno", ("support",), logged_in=True, in_call=True)
    on_server(web_server, lambda: board.put_agent(bruno))
    rows = page.locator("#agents-corps")
    expect(rows).to_contain_text("bruno")
    expect(page.get_by_role("button", name="Mettre en pause : bruno")).to_be_visible()

    page.get_by_label("Motif de la pause de alice").select_option("formation")
    page.get_by_role("button", name="Mettre en pause : alice").click()
    expect(page.locator("#commande-faite")).to_have_text(
        "alice est mis en pause (motif : formation)."
    )
    expect(rows).to_contain_text("En pause (formation)")
    expect(page.get_by_role("button", name="Reprendre : alice")).to_be_visible()
    assert ("pause", "PJSIP/alice", "formation", credentials.login) in control.calls
    assert_accessible(page)
    screenshot(page, "supervision-commandes")
