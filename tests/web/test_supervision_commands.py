"""« Supervision »: the supervisor's controls (overflow switches, agent pause, resume, logout)
as plain forms, shown and accepted for ``supervision:ecriture`` only, with the CSRF token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest

from svi_acd.accounts.roles import ROLE_PERMISSIONS
from svi_acd.acd.control import AcdError
from tests.web.pages_app import BoardControl, PagesClient, pages_client, text_of
from tests.web.test_supervision import agent


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[PagesClient]:
    async with pages_client(tmp_path) as client:
        yield client


def control_of(web: PagesClient) -> BoardControl:
    assert web.control is not None
    return web.control


RULE_URL = "/supervision/debordement/" + quote("attente trop longue", safe="")


async def test_the_supervisor_sees_the_rules_and_the_agent_controls(web: PagesClient) -> None:
    web.board.put_agent(agent("alice"))
    web.board.put_agent(agent("chloe", paused=True, pause_reason="formation"))
    status, html = await web.get("/supervision")
    assert status == 200
    page = text_of(html)
    assert "Règles de débordement" in page
    assert "attente trop longue support attente de 10 min 00 s ou plus rappel active" in page
    assert (
        "aucun agent connecté support aucun agent connecté message « sature » puis raccroché"
        in page
    )
    assert f'action="{RULE_URL}"' in html and 'name="actif" value="non"' in html
    assert 'action="/supervision/agents/PJSIP/alice/pause"' in html
    assert 'action="/supervision/agents/PJSIP/chloe/reprise"' in html
    assert 'action="/supervision/agents/PJSIP/alice/deconnexion"' in html
    assert '<label class="fr-label" for="motif-agent-1">Motif' in html
    assert 'id="motif-agent-1" name="motif"' in html
    for reason in ("ticket", "pause", "formation", "réunion", "absence"):
        assert f'<option value="{reason}">' in html
    assert "Mettre en pause : alice" in page and "Reprendre : chloe" in page
    assert 'data-commandes="oui"' in html


async def test_the_supervisor_cuts_then_restores_a_rule(web: PagesClient) -> None:
    response = await web.post(RULE_URL, [("actif", "non")])
    assert response.status == 303
    location = response.headers["Location"]
    assert location.startswith("/supervision?fait=regle_coupee")
    assert control_of(web).calls == [
        ("switch_overflow_rule", "attente trop longue", False, "superviseur.test")
    ]
    _, html = await web.get(location)
    page = text_of(html)
    assert "Règle de débordement « attente trop longue » coupée : elle ne s'applique plus." in page
    assert "ou plus rappel coupée Rétablir" in page
    response = await web.post(RULE_URL, [("actif", "oui")])
    _, html = await web.get(response.headers["Location"])
    assert "« attente trop longue » rétablie" in text_of(html)
    assert control_of(web).calls[-1] == (
        "switch_overflow_rule", "attente trop longue", True, "superviseur.test",
    )  # fmt: skip


async def test_the_supervisor_pauses_resumes_and_logs_out_an_agent(web: PagesClient) -> None:
    web.board.put_agent(agent("alice"))
    response = await web.post("/supervision/agents/PJSIP/alice/pause", [("motif", "réunion")])
    assert response.status == 303
    _, html = await web.get(response.headers["Location"])
    page = text_of(html)
    assert "alice est mis en pause (motif : réunion)." in page
    assert "En pause (réunion)" in page and "Reprendre : alice" in page
    response = await web.post("/supervision/agents/PJSIP/alice/reprise")
    _, html = await web.get(response.headers["Location"])
    assert "alice reprend : fin de la pause." in text_of(html)
    response = await web.post("/supervision/agents/PJSIP/alice/deconnexion")
    _, html = await web.get(response.headers["Location"])
    assert "alice est déconnecté de ses files." in text_of(html)
    assert control_of(web).calls == [
        ("pause", "PJSIP/alice", "réunion", "superviseur.test"),
        ("unpause", "PJSIP/alice", "superviseur.test"),
        ("logout", "PJSIP/alice", (), "superviseur.test"),
    ]


async def test_refusals_are_shown_in_french_on_the_page(web: PagesClient) -> None:
    response = await web.post("/supervision/debordement/inconnue", [("actif", "non")])
    assert response.status == 404
    page = text_of(await response.text())
    assert "Action impossible Règle de débordement inconnue « inconnue »." in page
    web.board.put_agent(agent("alice"))
    control_of(web).failure = AcdError("mise en pause impossible : AMI injoignable", 503)
    response = await web.post("/supervision/agents/PJSIP/alice/pause", [("motif", "ticket")])
    assert response.status == 503
    assert "Mise en pause impossible : AMI injoignable." in text_of(await response.text())
    response = await web.post("/supervision/agents/PJSIP/alice/pause", [("motif", "sieste")])
    assert response.status == 422
    assert "Motif de pause inconnu" in text_of(await response.text())
    response = await web.post("/supervision/agents/PJSIP/personne/reprise")
    assert response.status == 404
    assert "Agent inconnu « PJSIP/personne »." in text_of(await response.text())
    assert control_of(web).calls == []


async def test_without_acd_the_actions_say_so(tmp_path: Path) -> None:
    async with pages_client(tmp_path, with_acd=False) as web:
        _, html = await web.get("/supervision")
        assert "ACD indisponible : pas de liaison AMI dans ce service." in text_of(html)
        response = await web.post(RULE_URL, [("actif", "non")])
        assert response.status == 503
        assert "ACD indisponible" in text_of(await response.text())


async def test_a_crafted_notice_cannot_name_an_unknown_rule(web: PagesClient) -> None:
    _, html = await web.get("/supervision", fait="regle_coupee", regle="tout le service")
    assert "tout le service" not in html


async def test_consultation_sees_no_control_and_is_refused(web: PagesClient) -> None:
    web.board.put_agent(agent("alice"))
    assert (await web.get("/supervision", role="consultation"))[0] == 403
    for path, fields in (
        (RULE_URL, [("actif", "non")]),
        ("/supervision/agents/PJSIP/alice/pause", [("motif", "ticket")]),
        ("/supervision/agents/PJSIP/alice/reprise", []),
        ("/supervision/agents/PJSIP/alice/deconnexion", []),
    ):
        response = await web.post(path, fields, role="consultation")
        assert response.status == 403, path
    assert control_of(web).calls == []


async def test_a_form_without_the_csrf_token_is_refused(web: PagesClient) -> None:
    web.board.put_agent(agent("alice"))
    for path in (RULE_URL, "/supervision/agents/PJSIP/alice/pause"):
        response = await web.client.post(
            path, data={"actif": "non", "motif": "ticket"}, headers=web._headers("superviseur"),
            allow_redirects=False,
        )  # fmt: skip
        assert response.status == 403
        assert "Jeton anti-falsification (CSRF) absent" in text_of(await response.text())
    assert control_of(web).calls == []


async def test_a_read_only_role_sees_the_board_without_any_control(
    web: PagesClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ROLE_PERMISSIONS, "consultation",
                        frozenset({"statistiques:lecture", "supervision:lecture"}))  # fmt: skip
    web.board.put_agent(agent("alice"))
    status, html = await web.get("/supervision", role="consultation")
    assert status == 200 and "alice" in html
    for hidden in ("Règles de débordement", "Mettre en pause", "Déconnecter", "data-commandes",
                   "data-csrf", "/supervision/agents/", "/supervision/debordement/"):  # fmt: skip
        assert hidden not in html, hidden
    _, html = await web.get("/supervision", role="consultation", fait="regle_coupee",
                            regle="attente trop longue")  # fmt: skip
    assert "coupée" not in html
    response = await web.post(RULE_URL, [("actif", "non")], role="consultation")
    assert response.status == 403
