"""The pages in a real headless Chromium while real SIPp calls go through a real Asterisk.

A supervisor logs in through the login page, publishes a crisis message from the « Message de
crise » form, and the next real call hears it before the menu (read in the service's AGI
trace). Then, on the « Supervision » wallboard, a call held in the queue by paused agents shows
up as waiting and, once an agent is back, as answered, without a reload (server-sent events).

The service runs in-process with its AMI link, web server and queue_log import, on its own
event loop in a background thread: the test's thread belongs to Playwright's synchronous API
(no async test or fixture here). Work on the service goes through ``ServiceLoop.run``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from lab.runner import Lab, LabState
from lab.sipp import SippResult, agents_answering
from svi_acd.acd.desk import Desk
from svi_acd.config.model import Settings
from svi_acd.prompts.crisis_store import StoredMessage
from svi_acd.service import CallRecord, RunningService, ServiceOptions
from svi_acd.web.supervision import WALLBOARD
from tests.accounts.helpers import PASSWORDS, fast_store
from tests.browser.harness import (
    Credentials,
    browser_page,
    check_accessible,
    chromium,
    log_in,
    save_screenshot,
)
from tests.e2e.acd import ACTOR, board_until, entered, logged, pause_all, with_acd
from tests.e2e.calls import crisis_sound, place_call, played, record_for, sound_of
from tests.e2e.runtimes import lab_ami_credentials, service_with, settings_for

pytestmark = pytest.mark.e2e
T = TypeVar("T")
PARIS = ZoneInfo("Europe/Paris")
SUPERVISOR = Credentials("superviseur.test", PASSWORDS["superviseur"], "superviseur")
TEXT = "Incident en cours sur la messagerie. Nos équipes sont mobilisées."
HEARS_CRISIS = "0140000801"
WAITS = "0140000802"
CALL_S = 20_000  # ms: how long the page may take to show what a real call did


class ServiceLoop:
    """An event loop in a background thread: the service lives there; the test, whose thread
    is Playwright's, hands it coroutines and waits for their results."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="service-e2e-pages", daemon=True
        )
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        """Cancel what is left (a call a failed test still waits for), then stop the loop."""

        async def cancel_the_rest() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.loop.shutdown_asyncgens()

        try:
            self.run(cancel_the_rest(), timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass
class Line:
    """The running service, its ACD and the loop they live on."""

    loop: ServiceLoop
    service: RunningService
    desk: Desk

    @property
    def url(self) -> str:
        assert self.service.web is not None
        return self.service.web.url


def line_settings(settings: Settings) -> Settings:
    """``settings`` with the desk open all day today and tomorrow (Paris time), and no overflow
    rule, so that a caller stays in the queue while every agent is paused.

    The service keeps the real clock: the wallboard's « Aujourd'hui » figures are those of the
    clock's day, and the queue_log they are imported from is stamped by Asterisk in real time.
    """
    today = datetime.now(PARIS).date()
    data = settings.model_dump(by_alias=True)
    data["guichet"]["exceptions"] = {
        day: {"horaires": "00:00-24:00", "motif": "Test de bout en bout des pages"}
        for day in (today, today + timedelta(days=1))
    }
    return with_acd(Settings.model_validate(data), ())


@asynccontextmanager
async def line_service(
    lab: Lab, lab_state: LabState, settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[RunningService, Desk]]:
    """SIPp agents (answer after 1 s, hang up after 1 s), the service with its web server on a
    free port, its AMI link and the lab's queue_log; at the end no agent paused, no call up."""
    options = ServiceOptions(
        f"sqlite:///{tmp_path / 'svi.sqlite3'}", web_port=0,
        ami_credentials=lab_ami_credentials(lab), queue_log=str(lab.queue_log),
    )  # fmt: skip
    async with (
        agents_answering(lab_state.agents, tmp_path / "agents", 1.0, 1.0),
        service_with(settings_for(settings, "fastagi", lab_state), options, lab) as running,
    ):
        desk = running.desk
        assert desk is not None and running.web is not None
        try:
            await board_until(desk, lambda snap: snap.connected and len(snap.agents) == 2)
            # Today's figures are re-read from the database every 30 s by default: every
            # second here, so that an answered call shows up within the test's patience.
            running.web.runner.app[WALLBOARD].stats_every_s = 1.0
            yield running, desk
        finally:
            for agent in list(desk.board.agents):
                await desk.unpause(agent, ACTOR)
            # No call of this test may outlive it (the lab serves the whole session).
            await lab.arx("channel request hangup all")


@pytest.fixture
def line(lab: Lab, lab_state: LabState, flow_settings: Settings, tmp_path: Path) -> Iterator[Line]:
    loop = ServiceLoop()
    stack = AsyncExitStack()
    try:
        service, desk = loop.run(stack.enter_async_context(
            line_service(lab, lab_state, line_settings(flow_settings), tmp_path)
        ))  # fmt: skip
        yield Line(loop, service, desk)
    finally:
        try:
            loop.run(stack.aclose())
        finally:
            loop.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as opened:
        yield opened


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def page(line: Line, browser: Any, page_errors: list[str]) -> Iterator[Any]:
    with browser_page(browser, line.url, page_errors) as opened:
        yield opened


async def outcome(task: asyncio.Task[SippResult]) -> SippResult:
    return await task


async def crisis_call(line: Line, lab: Lab, lab_state: LabState, tmp_path: Path,
                      wait_s: float) -> CallRecord:  # fmt: skip
    """A caller who presses 1 ``wait_s`` after the answer; the service's record of the call,
    once an agent has answered it and hung up."""
    line.service.recent_calls.clear()
    sipp = await place_call(lab_state, tmp_path / "appel-crise", HEARS_CRISIS, "1", wait_s=wait_s)
    record = await record_for(line.service, HEARS_CRISIS, timeout_s=30)
    assert (await sipp).failed == 0
    await logged(lab, record.uniqueid, "COMPLETEAGENT")
    return record


async def published(line: Line) -> list[StoredMessage]:
    assert line.service.crisis is not None
    return await line.service.crisis.messages.list_all()


def test_a_message_published_from_the_form_is_heard_and_the_wallboard_follows_a_real_call(
    line: Line, page: Any, page_errors: list[str], lab: Lab, lab_state: LabState,
    tmp_path: Path,
) -> None:  # fmt: skip
    line.loop.run(fast_store(line.service.engine).create(
        SUPERVISOR.login, SUPERVISOR.role, SUPERVISOR.password, "Superviseuse de test"
    ))  # fmt: skip
    log_in(page, SUPERVISOR)

    # 1. The « Message de crise » form: information then menu, for the whole line.
    page.goto("/crise")
    page.get_by_label("Texte du message").fill(TEXT)
    page.get_by_role("radio", name="Information puis menu").check(force=True)  # DSFR label
    page.get_by_role("radio", name="Toute la ligne").check(force=True)
    page.get_by_role("button", name="Publier maintenant").click()
    page.wait_for_load_state()
    expect(page.locator(".fr-alert--success")).to_contain_text("Le message est publié")
    [message] = line.loop.run(published(line))
    on_air = page.locator(f"#message-{message.id}")
    expect(on_air).to_contain_text("Diffusé")
    expect(on_air).to_contain_text("Information puis menu")
    assert message.active and message.created_by == SUPERVISOR.login
    assert message.content.mode == "information" and message.content.scope.kind == "ligne"
    save_screenshot(page, "e2e-crise-publiee")

    # The next real call hears it to the end, then the menu, where its 1 is taken.
    sound = crisis_sound(line.service, message.id)
    wait_s = message.content.duration_s + 1.5  # the key lands in the menu, after the message
    record = line.loop.run(crisis_call(line, lab, lab_state, tmp_path, wait_s), timeout=90)
    heard = played(record)
    assert [name for name, _ in heard][:2] == [sound, sound_of(line.service, "accueil")], heard
    assert heard[0][1].startswith("200 result=0 ") and "endpos=" in heard[0][1], heard
    assert f'SET VARIABLE SVI_CRISE "crise-{message.id}"' in record.commands("SET VARIABLE")
    assert record.result is not None and record.result.variables["branche"] == "incident"

    # 2. « Supervision »: agents paused, a real call waits, then an agent is back and takes it.
    page.goto("/supervision")
    expect(page.locator("#flux-mode")).to_have_text("— mise à jour en direct.")
    page.evaluate("() => { window.pasRecharge = true; }")
    expect(page.locator("#alertes")).to_contain_text("Liaison AMI connectée")
    expect(page.locator("#alertes")).to_contain_text("Message de crise diffusé")
    waiting = page.locator('[data-champ="attente.appels"]')
    answered = page.locator('[data-champ="jour.servis"]')
    callers = page.locator("#appelants-corps")
    expect(waiting).to_have_text("0")

    line.loop.run(pause_all(line.desk))
    expect(page.locator(".app-state--pause")).to_contain_text("En pause : 2")
    caller = line.loop.run(place_call(lab_state, tmp_path / "appel-attente", WAITS, "1"))
    expect(waiting).to_have_text("1", timeout=CALL_S)
    expect(callers).to_contain_text("••••••" + WAITS[-4:])
    expect(callers).to_contain_text("normale")
    expect(answered).to_have_text(re.compile(r"^\d+$"))  # today's figures are there
    answered_before = int(answered.inner_text())
    save_screenshot(page, "e2e-supervision-appel-en-attente")
    check_accessible(page)

    uniqueid = line.loop.run(entered(lab, WAITS))
    line.loop.run(line.desk.unpause(next(iter(line.desk.board.agents)), ACTOR))
    expect(waiting).to_have_text("0", timeout=CALL_S)
    expect(callers).to_contain_text("Aucun appelant en attente.")
    line.loop.run(logged(lab, uniqueid, "CONNECT"))
    expect(answered).to_have_text(str(answered_before + 1), timeout=CALL_S)
    assert line.loop.run(outcome(caller), timeout=60).failed == 0
    assert page.evaluate("() => window.pasRecharge") is True  # the same page: no reload
    save_screenshot(page, "e2e-supervision-appel-servi")
    check_accessible(page)
    assert page_errors == []
