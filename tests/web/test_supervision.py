"""« Supervision »: the wallboard at load time (no JavaScript needed) and its server-sent event
stream, driven by an ACD board built by hand: an event as soon as the board or the crisis state
changes, heartbeats, a clean end on shutdown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse

from svi_acd.acd.board import Agent, WaitingCaller
from svi_acd.prompts.crisis import MessageRequest
from svi_acd.prompts.surge import SurgeStatus
from svi_acd.routing.surge import SurgeReading
from svi_acd.web.keys import SURGE
from svi_acd.web.supervision import WALLBOARD
from tests.stats.conftest import load, reference_day
from tests.web.pages_app import PARIS, PagesClient, pages_client, text_of

STEP_S = 5.0  # every wait below is for an event: this only bounds a failure


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[PagesClient]:
    async with pages_client(tmp_path) as client:
        yield client


def agent(name: str, **state: Any) -> Agent:
    return Agent(name=name, interface=f"PJSIP/{name}", queues=("support",), logged_in=True,
                 **state)  # fmt: skip


def caller(uniqueid: str, entered: float, **more: Any) -> WaitingCaller:
    return WaitingCaller(uniqueid, "support", f"PJSIP/appel-{uniqueid}", "0696201234", entered,
                         position=1, **more)  # fmt: skip


class EventStream:
    """Reads a ``text/event-stream`` response: events (name, JSON) and comment lines."""

    def __init__(self, response: ClientResponse) -> None:
        self.response = response
        self.comments: list[str] = []

    async def _line(self) -> str:
        raw = await asyncio.wait_for(self.response.content.readline(), STEP_S)
        if not raw:
            raise EOFError("flux terminé")
        return raw.decode().rstrip("\n")

    async def event(self) -> tuple[str, dict[str, Any]]:
        name, data = "message", []
        while True:
            line = await self._line()
            if line.startswith(":"):
                self.comments.append(line)
            elif line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                data.append(line.split(":", 1)[1].strip())
            elif not line and data:
                return name, json.loads("".join(data))

    async def board(self) -> dict[str, Any]:
        name, data = await self.event()
        assert name == "tableau"
        return data

    async def comment(self) -> str:
        while True:
            line = await self._line()
            if line.startswith(":"):
                return line


async def open_stream(web: PagesClient, role: str = "superviseur") -> EventStream:
    response = await web.client.get("/supervision/flux", headers=web._headers(role))
    assert response.status == 200
    assert response.content_type == "text/event-stream"
    return EventStream(response)


async def test_the_page_shows_the_board_at_load_time_without_javascript(
    web: PagesClient,
) -> None:
    now = web.clock.epoch()
    web.board.put_agent(agent("alice"))
    web.board.put_agent(agent("bruno", in_call=True, calls_taken=4))
    web.board.put_agent(agent("chloe", paused=True, pause_reason="formation", since=now - 600))
    web.board.put_agent(agent("denis", wrapup_until=now + 30))
    web.board.put_caller(caller("c1", now - 65, vip=True, priority=10))
    await web.crisis.create(
        MessageRequest(text="Panne de la messagerie.", label="Panne messagerie", active=True),
        "chef.test",
    )
    status, html = await web.get("/supervision")
    assert status == 200
    page = text_of(html)
    assert "Appels en attente 1" in page and "Attente la plus longue 1 min 05 s" in page
    assert "VIP en attente 1" in page and "Agents connectés 4" in page
    for state in ("Libre : 1", "En appel : 1", "En pause : 1", "Après-appel : 1"):
        assert state in page
    assert "En pause (formation)" in page and "10 min 00 s" in page
    assert "••••••1234" in page and "0696201234" not in page  # numbers are masked
    assert "Message de crise diffusé" in page and "Panne messagerie" in page
    assert "Liaison AMI connectée" in page
    assert 'class="fr-icon-pause-circle-line fr-icon--sm" aria-hidden="true"' in html
    assert 'data-flux="/supervision/flux"' in html and "/static/app/supervision.js" in html


async def test_the_stream_sends_the_board_then_each_change_at_once(web: PagesClient) -> None:
    stream = await open_stream(web)
    first = await stream.board()
    assert first["attente"] == {"appels": 0, "vip": 0, "attente_max_s": 0.0, "attente_max": "0 s"}
    assert first["liaison"]["etat"] == "connectee"
    web.board.put_caller(caller("c1", web.clock.epoch() - 12, vip=True))
    waiting = await stream.board()
    assert waiting["attente"]["appels"] == 1 and waiting["attente"]["vip"] == 1
    [queue] = waiting["acd"]["files"]
    assert queue["appelants"][0]["numero"] == "••••••1234"
    web.board.remove_caller("c1")
    web.board.put_agent(agent("alice", in_call=True))
    answered = await stream.board()
    assert answered["attente"]["appels"] == 0
    states = {s["etat"]: s["nombre"] for s in answered["agents"]["etats"]}
    assert states["en_appel"] == 1


async def test_the_stream_announces_a_crisis_message_as_soon_as_it_is_published(
    web: PagesClient,
) -> None:
    stream = await open_stream(web)
    assert (await stream.board())["crise"] == []
    await web.crisis.create(
        MessageRequest(text="Réseau lent.", label="Réseau", mode="dissuasion", active=True),
        "chef.test",
    )
    [message] = (await stream.board())["crise"]
    assert (message["titre"], message["mode_libelle"]) == ("Réseau", "Dissuasion puis raccroché")


async def test_a_quiet_stream_sends_heartbeat_comments(web: PagesClient) -> None:
    wallboard = web.client.server.app[WALLBOARD]
    wallboard.refresh_s, wallboard.heartbeat_s = 0.05, 0.1
    stream = await open_stream(web)
    await stream.board()
    assert await stream.comment() == ": battement"


async def test_the_stream_ends_cleanly_when_the_server_shuts_down(web: PagesClient) -> None:
    stream = await open_stream(web)
    await stream.board()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(web.client.server.close(), STEP_S)
    assert loop.time() - started < STEP_S  # not aiohttp's 60 s grace period
    with pytest.raises(EOFError):
        await stream.event()


async def test_the_ami_link_state_is_shown(web: PagesClient, tmp_path: Path) -> None:
    web.board.connected = False
    _, html = await web.get("/supervision")
    assert "Liaison AMI coupée : chiffres du dernier état connu" in text_of(html)
    async with pages_client(tmp_path / "sans-ami", with_acd=False) as without:
        _, html = await without.get("/supervision")
        page = text_of(html)
        assert "Pas de liaison AMI dans ce service" in page and "Aucun agent connu." in page


async def test_the_surge_alert_is_on_the_board(web: PagesClient) -> None:
    surge = web.client.server.app[SURGE]
    assert surge is not None
    surge.status = SurgeStatus(alert=True, reading=SurgeReading(75, 300, 60))
    _, html = await web.get("/supervision")
    assert "Afflux d'appels : 75 appels en 300 s (seuil 60)." in text_of(html)
    stream = await open_stream(web)
    assert (await stream.board())["afflux"]["alerte"] is True


async def test_today_figures_come_from_the_statistics(tmp_path: Path) -> None:
    async with pages_client(tmp_path) as web:
        await load(web.engine, reference_day().write(tmp_path / "queue_log"))
        web.clock.moment = datetime(2026, 10, 14, 12, 0, tzinfo=PARIS)
        stream = await open_stream(web)
        today = (await stream.board())["jour"]
    assert today == {
        "date": "2026-10-14", "presentes": 13, "servis": 6, "abandonnes": 1,
        "taux_decroche": 6 / 13, "taux_abandon": 1 / 13,
        "taux_decroche_texte": "46,2 %", "taux_abandon_texte": "7,7 %",
    }  # fmt: skip


async def test_names_on_the_board_are_text_not_html(web: PagesClient) -> None:
    web.board.put_agent(agent("<script>alert(1)</script>", paused=True, pause_reason="<b>x</b>"))
    _, html = await web.get("/supervision")
    assert "<script>alert(1)" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


async def test_only_supervision_roles_see_the_board(web: PagesClient) -> None:
    assert (await web.get("/supervision", role="consultation"))[0] == 403
    response = await web.client.get("/supervision/flux", headers=web._headers("consultation"))
    assert response.status == 403
    assert (await web.get("/supervision", role=None))[0] == 303  # to the login page


async def test_the_board_waits_are_counted_from_the_acd_clock(web: PagesClient) -> None:
    web.board.put_caller(caller("c1", web.clock.epoch() - 30))
    stream = await open_stream(web)
    assert (await stream.board())["attente"]["attente_max"] == "30 s"
    web.clock.moment = web.clock.moment.replace(minute=2)
    web.board.put_caller(caller("c2", web.clock.epoch() - 1))
    assert (await stream.board())["attente"]["attente_max"] == "2 min 30 s"
