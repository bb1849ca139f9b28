"""« Message de crise » and « Journal des évènements » pages, through HTTP as a browser sends
them (session cookie, CSRF token): publishing, refusals that keep what was typed, XSS, the
journal's filters and CSV export."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from svi_acd.prompts.crisis import MessageRequest
from svi_acd.prompts.crisis_store import JournalFilter
from svi_acd.routing.crisis import Scope
from tests.web.pages_app import (
    PARIS,
    PagesClient,
    checked_values,
    field_value,
    pages_client,
    text_of,
)

TEXT = "Une panne de la messagerie est en cours. Nos équipes interviennent."
XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[PagesClient]:
    async with pages_client(tmp_path) as client:
        yield client


def form(**values: str | list[str]) -> list[tuple[str, str]]:
    fields: dict[str, str | list[str]] = {
        "texte": TEXT, "mode": "information", "portee": "ligne", "publier": "oui",
    }  # fmt: skip
    fields.update(values)
    found = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            found.append((name, item))
    return found


async def test_the_page_shows_what_callers_hear_now_with_a_player(web: PagesClient) -> None:
    request = MessageRequest(text=TEXT, label="Panne messagerie", mode="dissuasion", active=True)
    await web.crisis.create(request, "chef.test")
    await web.crisis.create(MessageRequest(text="Brouillon", label="Brouillon"), "chef.test")
    status, html = await web.get("/crise")
    assert status == 200
    on_air = html.split('id="titre-nouveau"')[0]
    assert "Panne messagerie" in on_air and "Brouillon" not in on_air
    assert "Dissuasion puis raccroché" in on_air and "Diffusé" in on_air
    assert '<audio controls preload="none" src="/api/crise/messages/1/audio?version=1"' in html
    audio = await web.client.get("/api/crise/messages/1/audio", headers=web._headers("superviseur"))
    assert audio.content_type == "audio/wav" and (await audio.read())[:4] == b"RIFF"
    assert "Brouillon" in text_of(html.split('id="titre-autres"')[1])


async def test_a_supervisor_publishes_a_text_message_from_the_form(web: PagesClient) -> None:
    response = await web.post(
        "/crise",
        form(titre="Panne messagerie", mode="dissuasion", portee="territoires",
             territoires=["MQ", "GP"], branches=["incident"], debut="2026-07-08T11:00",
             fin="2026-07-08T18:30", incident="INC-42"),
        multipart=True,
    )  # fmt: skip
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/crise?fait=publie#message-1"
    [message] = await web.crisis.list_all()
    content = message.content
    assert message.active and content.mode == "dissuasion" and content.incident == "INC-42"
    assert content.scope == Scope("territoires", ("MQ", "GP"))
    assert content.start == datetime(2026, 7, 8, 11, 0, tzinfo=PARIS)
    assert content.end == datetime(2026, 7, 8, 18, 30, tzinfo=PARIS)
    [entry] = await web.crisis.journal(JournalFilter())
    assert (entry.actor, entry.action) == ("superviseur.test", "creation")
    _, html = await web.get("/crise", fait="publie")
    assert "Le message est publié" in html
    assert "Programmé" in text_of(html)  # starts at 11:00, it is 10:00


async def test_a_message_saved_without_publishing_is_put_on_the_line_later(
    web: PagesClient,
) -> None:
    response = await web.post("/crise", form(publier="non"), multipart=True)
    assert response.headers["Location"] == "/crise?fait=enregistre#message-1"
    assert not (await web.crisis.get(1)).active
    assert (await web.post("/crise/1/activer")).status == 303
    assert (await web.crisis.get(1)).active
    _, html = await web.get("/crise")
    assert "Retirer de la ligne" in html.split('id="titre-nouveau"')[0]
    assert (await web.post("/crise/1/desactiver")).status == 303
    assert not (await web.crisis.get(1)).active
    actions = [e.action for e in await web.crisis.journal(JournalFilter())]
    assert actions == ["desactivation", "activation", "creation"]


async def test_an_empty_text_is_refused_and_what_was_typed_is_kept(web: PagesClient) -> None:
    response = await web.post(
        "/crise",
        form(texte="   ", titre="Panne messagerie", mode="dissuasion", portee="territoires",
             territoires=["MQ"], debut="2026-07-08T11:00", incident="INC-42"),
        multipart=True,
    )  # fmt: skip
    assert response.status == 422
    html = await response.text()
    assert "Le texte du message est vide" in text_of(html)
    assert 'href="#champ-texte"' in html  # the summary links to the field
    assert field_value(html, "titre") == "Panne messagerie"
    assert field_value(html, "incident") == "INC-42"
    assert field_value(html, "debut") == "2026-07-08T11:00"
    assert checked_values(html, "mode") == ["dissuasion"]
    assert checked_values(html, "portee") == ["territoires"]
    assert checked_values(html, "territoires") == ["MQ"]
    assert await web.crisis.list_all() == []


async def test_a_text_too_long_is_refused_and_kept_in_full(web: PagesClient) -> None:
    long_text = "Une panne générale est en cours. " * 40  # more than 1000 characters
    response = await web.post("/crise", form(texte=long_text), multipart=True)
    assert response.status == 422
    html = await response.text()
    assert "le maximum est 1000 : raccourcissez-le" in text_of(html)
    assert field_value(html, "texte") == long_text
    assert await web.crisis.list_all() == []


async def test_an_end_before_the_start_is_shown_at_the_end_field(web: PagesClient) -> None:
    response = await web.post(
        "/crise", form(debut="2026-07-08T12:00", fin="2026-07-08T11:00"), multipart=True
    )
    assert response.status == 422
    html = await response.text()
    assert 'id="champ-fin-erreur"' in html and "La fin doit être après le début" in html
    assert field_value(html, "fin") == "2026-07-08T11:00"


async def test_an_unreadable_date_is_refused_in_french(web: PagesClient) -> None:
    response = await web.post("/crise", form(debut="demain midi"), multipart=True)
    assert response.status == 422
    assert "Date et heure invalides « demain midi »" in await response.text()


def tone_wav(tmp_path: Path, seconds: int = 1) -> bytes:
    path = tmp_path / "annonce.wav"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"sine=duration={seconds}",
         "-ar", "8000", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


async def test_a_recording_is_published_from_the_form(web: PagesClient, tmp_path: Path) -> None:
    response = await web.post(
        "/crise", form(texte="", titre="Annonce enregistrée"),
        files=[("fichier", tone_wav(tmp_path), "annonce.wav")],
    )  # fmt: skip
    assert response.status == 303, await response.text()
    [message] = await web.crisis.list_all()
    assert (message.content.source, message.content.recording_name) == ("fichier", "annonce.wav")


async def test_a_non_audio_file_is_refused_and_the_fields_are_kept(web: PagesClient) -> None:
    response = await web.post(
        "/crise", form(texte="", titre="Annonce", incident="INC-7"),
        files=[("fichier", b"ceci n'est pas un son", "annonce.wav")],
    )  # fmt: skip
    assert response.status == 422
    html = await response.text()
    assert "n'est pas un enregistrement audio lisible" in text_of(html)
    assert 'id="champ-fichier-erreur"' in html
    assert (field_value(html, "titre"), field_value(html, "incident")) == ("Annonce", "INC-7")
    assert await web.crisis.list_all() == []


async def test_an_oversized_file_is_refused_before_being_read_and_the_fields_are_kept(
    web: PagesClient,
) -> None:
    boundary = "limite"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="titre"\r\n\r\nGros fichier\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; '
        f'filename="gros.wav"\r\nContent-Type: audio/wav\r\n\r\n'
    ).encode()
    chunks, sent = 800, 0  # 50 MiB announced; the limit is 0.5 Mo

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield head
        for _ in range(chunks):
            sent += 1
            yield b"\0" * 65536

    csrf = web.sessions["superviseur"].csrf
    response = await web.client.post(
        f"/crise?csrf_token={csrf}", data=body(),
        headers={**web._headers("superviseur"),
                 "Content-Type": f"multipart/form-data; boundary={boundary}",
                 "Content-Length": str(len(head) + chunks * 65536)},
    )  # fmt: skip
    assert response.status == 413
    html = await response.text()
    assert "Le fichier dépasse la taille maximale de 0.5 Mo" in text_of(html)
    assert field_value(html, "titre") == "Gros fichier"
    assert sent < chunks
    assert await web.crisis.list_all() == []


async def test_script_in_a_message_is_shown_as_text_never_run(web: PagesClient) -> None:
    response = await web.post("/crise", form(texte=XSS, titre=XSS, incident="<b>INC</b>"),
                              multipart=True)  # fmt: skip
    assert response.status == 303
    for path in ("/crise", "/crise/1", "/crise/journal"):
        _, html = await web.get(path)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>INC" not in html
        assert "&lt;script&gt;alert(" in html


async def test_typed_script_is_kept_escaped_when_the_form_is_refused(web: PagesClient) -> None:
    response = await web.post("/crise", form(texte=XSS, fin="hier"), multipart=True)
    assert response.status == 422
    html = await response.text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert field_value(html, "texte") == XSS


async def test_preview_returns_the_audio_without_publishing(web: PagesClient) -> None:
    response = await web.post("/crise/apercu", form(mode="dissuasion"), multipart=True)
    assert response.status == 200
    assert response.content_type == "audio/wav"
    assert (await response.read())[:4] == b"RIFF"
    assert await web.crisis.list_all() == []


async def test_a_refused_preview_answers_scripts_in_json_and_people_with_the_page(
    web: PagesClient,
) -> None:
    scripted = await web.post("/crise/apercu", form(texte=" ", titre="Essai"), multipart=True,
                              headers={"Accept": "application/json"})  # fmt: skip
    assert scripted.status == 422
    body = await scripted.json()
    assert body["champs"] == [{"champ": "texte", "erreur": body["champs"][0]["erreur"]}]
    assert "vide" in body["champs"][0]["erreur"]
    page = await web.post("/crise/apercu", form(texte=" ", titre="Essai"), multipart=True)
    assert page.status == 422
    html = await page.text()
    assert "vide" in text_of(html) and field_value(html, "titre") == "Essai"


async def test_a_message_is_changed_from_its_page(web: PagesClient) -> None:
    await web.crisis.create(MessageRequest(text=TEXT, label="Panne", active=True), "chef.test")
    status, html = await web.get("/crise/1")
    assert status == 200
    assert field_value(html, "texte") == TEXT and field_value(html, "version") == "1"
    response = await web.post(
        "/crise/1", form(texte=TEXT + " Merci.", titre="Panne", version="1", portee="branches",
                         branches=["incident"]), multipart=True,
    )  # fmt: skip
    assert response.status == 303, await response.text()
    message = await web.crisis.get(1)
    assert message.version == 2 and message.content.text == TEXT + " Merci."
    assert message.content.scope == Scope("branches", ("incident",))
    stale = await web.post("/crise/1", form(titre="Autre", version="1"), multipart=True)
    assert stale.status == 409
    html = await stale.text()
    assert "modifié entre-temps" in html and field_value(html, "version") == "2"
    assert field_value(html, "titre") == "Autre"


async def test_a_forged_post_without_csrf_token_changes_nothing(web: PagesClient) -> None:
    response = await web.client.post(
        "/crise", data=form(), headers=web._headers("superviseur"), allow_redirects=False
    )
    assert response.status == 403
    assert await web.crisis.list_all() == []


async def test_a_consultation_user_may_not_open_the_crisis_pages(web: PagesClient) -> None:
    for path in ("/crise", "/crise/journal", "/crise/journal.csv"):
        status, _ = await web.get(path, role="consultation")
        assert status == 403
    response = await web.post("/crise", form(), role="consultation", multipart=True)
    assert response.status == 403


async def _three_changes(web: PagesClient) -> None:
    web.clock.moment = datetime(2026, 7, 7, 9, 0, tzinfo=PARIS)
    await web.crisis.create(
        MessageRequest(text="Panne de la messagerie", label="Messagerie", incident="INC-1"),
        "alice",
    )
    web.clock.moment = datetime(2026, 7, 8, 9, 30, tzinfo=PARIS)
    await web.crisis.switch(1, True, "bob")
    await web.crisis.create(MessageRequest(text="Réseau lent; =1+1", label="=HYPERLIEN()"), "bob")


async def test_the_journal_filters_by_date_user_action_and_words(web: PagesClient) -> None:
    await _three_changes(web)
    status, html = await web.get("/crise/journal")
    assert status == 200 and "3 évènements" in text_of(html)
    _, html = await web.get("/crise/journal", du="2026-07-08", au="2026-07-08")
    assert "2 évènements" in text_of(html) and "alice" not in text_of(html)
    _, html = await web.get("/crise/journal", utilisateur="bob", action="activation")
    assert "1 évènement." in text_of(html) and "Activation" in text_of(html)
    _, html = await web.get("/crise/journal", recherche="MESSAGERIE panne")
    assert "2 évènements" in text_of(html)
    _, html = await web.get("/crise/journal", incident="INC-1")
    assert "2 évènements" in text_of(html)


async def test_wrong_journal_filters_are_explained_and_kept(web: PagesClient) -> None:
    status, html = await web.get("/crise/journal", du="2026-07-09", au="2026-07-08",
                                 utilisateur="x' OR 1=1 --")  # fmt: skip
    assert status == 422
    assert "La date de fin précède la date de début" in text_of(html)
    assert field_value(html, "utilisateur") == "x' OR 1=1 --"
    status, html = await web.get("/crise/journal", action="suppression")
    assert status == 422 and "Valeur non permise" in text_of(html)


async def test_sql_in_journal_filters_is_only_text(web: PagesClient) -> None:
    await _three_changes(web)
    for value in ("' OR 1=1 --", "%", "bob'; DROP TABLE crisis_events; --"):
        status, html = await web.get("/crise/journal", utilisateur=value, recherche=value)
        assert status == 200 and "Aucun évènement" in text_of(html)
    _, html = await web.get("/crise/journal")
    assert "3 évènements" in text_of(html)


async def test_the_csv_export_has_exactly_the_filtered_rows(web: PagesClient) -> None:
    await _three_changes(web)
    response = await web.client.get(
        "/crise/journal.csv", params={"utilisateur": "bob"}, headers=web._headers("superviseur")
    )
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = await response.read()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Date (heure de Paris)", "Utilisateur", "Action", "Message n°"]
    assert [(row[1], row[2]) for row in rows[1:]] == [
        ("bob", "Création"), ("bob", "Activation"),
    ]  # fmt: skip
    assert rows[1][0] == "08/07/2026 09:30:00"
    assert rows[1][6] == "'=HYPERLIEN()"  # a formula typed by a user is not run by Excel
    _, html = await web.get("/crise/journal", utilisateur="bob")
    assert 'href="/crise/journal.csv?utilisateur=bob"' in html
