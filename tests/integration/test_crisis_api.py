"""The JSON API over HTTP (aiohttp test server, SQLite): what a supervisor's browser or script
sends, what it gets back, and French JSON errors with the right status codes."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer

from svi_acd.config.model import Settings
from svi_acd.db.base import create_engine
from svi_acd.db.migrate import upgrade
from svi_acd.live import InProcessLiveState
from svi_acd.prompts.catalog import SoundFolder
from svi_acd.prompts.crisis import CrisisMessages
from svi_acd.prompts.crisis_files import CrisisSoundFiles
from svi_acd.prompts.crisis_store import load_snapshot
from svi_acd.prompts.surge import SurgeMonitor
from svi_acd.web.app import Middleware, WebResources, create_app
from svi_acd.web.security import ACTING_USER, required_permission
from tests.accounts.helpers import account_with_token, bearer, fast_store
from tests.integration.conftest import SettableClock

TEXT = "Une panne de la messagerie est en cours. Nos équipes interviennent."


@asynccontextmanager
async def api_client(
    settings: Settings,
    tmp_path: Path,
    middlewares: Sequence[Middleware] = (),
    role: str = "superviseur",
    login: str | None = None,
) -> AsyncIterator[TestClient]:
    """A client of the API that authenticates with the API token of an account of ``role``."""
    engine = create_engine(f"sqlite:///{tmp_path / 'api.sqlite3'}")
    await upgrade(engine)
    token = await account_with_token(engine, role, login)

    @asynccontextmanager
    async def open_resources() -> AsyncIterator[WebResources]:
        live = InProcessLiveState(300)
        await live.start(await load_snapshot(engine))
        files = CrisisSoundFiles(SoundFolder(tmp_path / "sons", "/sons"), 3)
        crisis = CrisisMessages(settings, engine, live, files, SettableClock())
        surge = SurgeMonitor(settings.crisis.surge, live, crisis)
        yield WebResources(
            crisis, surge, lambda: {"etat_partage": live.status().as_json()}, engine=engine,
            accounts=fast_store(engine),
        )  # fmt: skip

    app = create_app(settings, open_resources, middlewares)
    try:
        server = TestServer(app, host="127.0.0.1")
        async with TestClient(server, headers=bearer(token)) as test_client:
            yield test_client
    finally:
        await engine.dispose()


@pytest.fixture
async def client(crisis_settings: Settings, tmp_path: Path) -> AsyncIterator[TestClient]:
    async with api_client(crisis_settings, tmp_path) as test_client:
        yield test_client


async def create(client: TestClient, **body: object) -> dict:
    response = await client.post("/api/crise/messages", json={"texte": TEXT, **body})
    assert response.status == 201, await response.text()
    return await response.json()


async def test_a_supervisor_creates_a_message_and_reads_it_back(client: TestClient) -> None:
    response = await client.post(
        "/api/crise/messages",
        json={"texte": TEXT, "mode": "information", "actif": True, "incident": "INC-7",
              "portee": {"type": "branches", "valeurs": ["incident", "telephonie"]}},
    )  # fmt: skip
    assert response.status == 201
    body = await response.json()
    message = body["message"]
    assert response.headers["Location"] == f"/api/crise/messages/{message['id']}"
    assert (body["modifie"], body["propagation"], body["revision"]) == (True, "immediate", 1)
    assert (message["statut"], message["version"], message["incident"]) == ("diffuse", 1, "INC-7")
    assert (await (await client.get("/api/crise/messages")).json())["messages"] == [message]
    one = await client.get(f"/api/crise/messages/{message['id']}")
    assert (await one.json())["message"] == message
    audio = await client.get(f"/api/crise/messages/{message['id']}/audio")
    assert audio.content_type == "audio/wav"
    assert (await audio.read())[:4] == b"RIFF"
    heard = await client.get(
        "/api/crise/ecoute", params={"territoire": "FR", "branche": "incident"}
    )
    assert [m["id"] for m in (await heard.json())["messages"]] == [message["id"]]
    nobody = await client.get("/api/crise/ecoute", params={"branche": "demande"})
    assert (await nobody.json())["messages"] == []


async def test_update_activation_and_journal(client: TestClient) -> None:
    message = (await create(client))["message"]
    url = f"/api/crise/messages/{message['id']}"
    patched = await client.patch(url, json={"texte": TEXT + " Merci.", "version": 1})
    assert patched.status == 200
    assert (await patched.json())["message"]["version"] == 2
    stale = await client.patch(url, json={"titre": "Autre", "version": 1})
    assert stale.status == 409
    assert "modifié entre-temps" in (await stale.json())["erreur"]
    on = await (await client.post(f"{url}/activer")).json()
    again = await (await client.post(f"{url}/activer")).json()
    assert (on["modifie"], again["modifie"]) == (True, False)
    assert (await (await client.post(f"{url}/desactiver")).json())["message"]["actif"] is False
    journal = await (await client.get("/api/crise/journal")).json()
    assert [e["action"] for e in journal["evenements"]] == [
        "desactivation", "activation", "modification", "creation",
    ]  # fmt: skip
    assert {e["utilisateur"] for e in journal["evenements"]} == {"superviseur.test"}
    only = await client.get("/api/crise/journal", params={"action": "activation", "limite": 5})
    assert [e["action"] for e in (await only.json())["evenements"]] == ["activation"]
    old = await client.get(f"{url}/audio", params={"version": 1})
    assert old.status == 200 and (await old.read()) != (
        await (await client.get(f"{url}/audio")).read()
    )


def tone_wav(tmp_path: Path) -> bytes:
    path = tmp_path / "annonce.wav"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=1", str(path)],
        check=True,
    )
    return path.read_bytes()


async def test_a_recording_is_uploaded_as_a_multipart_form(
    client: TestClient, tmp_path: Path
) -> None:
    form = FormData()
    form.add_field("mode", "dissuasion")
    form.add_field("portee", "territoires")
    form.add_field("valeurs", "GF,MQ")
    form.add_field("actif", "oui")
    form.add_field("fichier", tone_wav(tmp_path), filename="annonce.wav", content_type="audio/wav")
    response = await client.post("/api/crise/messages", data=form)
    assert response.status == 201, await response.text()
    message = (await response.json())["message"]
    assert (message["source"], message["fichier_origine"], message["mode"]) == (
        "fichier", "annonce.wav", "dissuasion",
    )  # fmt: skip
    assert message["portee"] == {"type": "territoires", "valeurs": ["GF", "MQ"]}
    assert message["rappel_portail"] is True


async def test_a_non_audio_upload_is_refused_and_the_active_message_is_unchanged(
    client: TestClient,
) -> None:
    message = (await create(client, actif=True))["message"]
    before = await (await client.get("/api/crise/ecoute")).json()
    form = FormData()
    form.add_field("fichier", b"%PDF-1.7 pas un son", filename="note.mp3")
    response = await client.patch(f"/api/crise/messages/{message['id']}", data=form)
    assert response.status == 422
    assert "n'est pas un enregistrement audio" in (await response.json())["erreur"]
    assert await (await client.get("/api/crise/ecoute")).json() == before
    current = await (await client.get(f"/api/crise/messages/{message['id']}")).json()
    assert current["message"]["version"] == 1
    journal = await (await client.get("/api/crise/journal")).json()
    assert len(journal["evenements"]) == 1


async def test_an_announced_oversized_upload_is_refused_without_reading_it(
    client: TestClient,
) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(800):  # 50 MiB announced; the limit is 0.5 Mo
            sent += 1
            yield b"\0" * 65536

    response = await client.post(
        "/api/crise/messages", data=body(),
        headers={"Content-Type": "multipart/form-data; boundary=x",
                 "Content-Length": str(800 * 65536)},
    )  # fmt: skip
    assert response.status == 413
    assert "taille maximale de 0.5 Mo" in (await response.json())["erreur"]
    assert sent < 800


async def test_an_unannounced_oversized_upload_stops_being_read_at_the_limit(
    client: TestClient,
) -> None:
    form = FormData()
    form.add_field("fichier", b"\0" * 600_000, filename="gros.wav")
    response = await client.post("/api/crise/messages", data=form(), chunked=True)
    assert response.status == 413
    assert (await response.json())["erreur"].startswith("le fichier dépasse la taille maximale")


MESSAGES = "/api/crise/messages"
JSON = {"Content-Type": "application/json"}
ERRORS = [
    ("post", MESSAGES, {"data": "{pas du json", "headers": JSON}, 400, "JSON illisible"),
    ("post", MESSAGES, {"data": "x", "headers": {"Content-Type": "text/plain"}}, 415, "JSON"),
    ("post", MESSAGES, {"json": {"texte": TEXT, "mode": "panique"}}, 422, "mode : valeur non"),
    ("post", MESSAGES, {"json": {"texte": TEXT, "couleur": "r"}}, 422, "couleur : champ inconnu"),
    ("post", MESSAGES, {"json": {"texte": TEXT, "debut": "2026-07-08T10:00"}}, 422, "fuseau"),
    ("post", MESSAGES, {"json": {"texte": ""}}, 422, "le texte du message est vide"),
    ("post", MESSAGES, {"json": {"texte": TEXT, "portee": {"type": "ligne", "valeurs": ["GF"]}}},
     422, "portée invalide"),
    ("get", f"{MESSAGES}/999", {}, 404, "message de crise 999 introuvable"),
    ("get", "/api/crise/journal", {"params": {"depuis": "hier"}}, 422, "depuis : date invalide"),
    ("get", "/api/inconnue", {}, 404, "adresse inconnue"),
    ("delete", MESSAGES, {}, 405, "méthode non permise"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "kwargs", "status", "error"), ERRORS)
async def test_errors_are_french_json_with_the_right_status(
    client: TestClient, method: str, url: str, kwargs: dict, status: int, error: str
) -> None:
    response = await getattr(client, method)(url, **kwargs)
    assert response.status == status
    assert error in (await response.json())["erreur"]


async def test_preview_returns_the_wav_without_publishing(client: TestClient) -> None:
    response = await client.post("/api/crise/apercu", json={"texte": TEXT, "mode": "dissuasion"})
    assert response.content_type == "audio/wav"
    assert (await response.read())[:4] == b"RIFF"
    assert (await (await client.get("/api/crise/messages")).json())["messages"] == []


async def test_surge_and_state(client: TestClient) -> None:
    surge = await (await client.get("/api/afflux")).json()
    assert (surge["alerte"], surge["fenetre_s"], surge["seuil_appels"]) == (False, 300, 60)
    state = await (await client.get("/api/etat")).json()
    assert state["etat_partage"]["etat"] == "normal"


async def test_the_token_s_account_is_named_in_the_journal_and_routes_declare_permissions(
    crisis_settings: Settings, tmp_path: Path
) -> None:
    seen: list[str | None] = []

    @web.middleware
    async def spy(request: web.Request, handler):  # type: ignore[no-untyped-def]
        seen.append(required_permission(request))
        assert request[ACTING_USER] == "marie.durand"
        return await handler(request)

    async with api_client(crisis_settings, tmp_path, [spy], login="marie.durand") as client:
        await create(client)
        journal = await (await client.get("/api/crise/journal")).json()
    assert journal["evenements"][0]["utilisateur"] == "marie.durand"
    assert seen == ["crise:ecriture", "crise:lecture"]


async def test_without_a_token_the_api_answers_401_and_a_consultation_token_gets_403(
    crisis_settings: Settings, tmp_path: Path
) -> None:
    async with api_client(crisis_settings, tmp_path, role="consultation") as client:
        refused = await client.post("/api/crise/messages", json={"texte": TEXT})
        assert refused.status == 403
        assert "rôle" in (await refused.json())["erreur"]
        anonymous = await client.get("/api/crise/messages", headers={"Authorization": ""})
        assert anonymous.status == 401
        assert "authentification requise" in (await anonymous.json())["erreur"]
