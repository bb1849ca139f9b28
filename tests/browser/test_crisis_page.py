"""« Message de crise » and « Journal des évènements » in a real headless Chromium: a supervisor
listens to the preview, publishes a text message from the form and sees it on the line; a
refused form keeps what was typed; every page is accessible (axe-core) and photographed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.browser.harness import Credentials, WebServer

Login = Callable[[Any, str], Credentials]
TEXT = "Une panne de la messagerie est en cours. Nos équipes interviennent."


def test_a_supervisor_publishes_a_text_message_and_sees_it_on_the_line(
    page: Any, web_server: WebServer, login: Login, screenshot: Callable,
    assert_accessible: Callable,
) -> None:  # fmt: skip
    login(page, "superviseur")
    page.goto("/crise")
    expect(page.get_by_text("Aucun message de crise n'est diffusé")).to_be_visible()
    page.get_by_label("Texte du message").fill(TEXT)
    page.get_by_label("Titre").fill("Panne messagerie")
    page.get_by_label("Dissuasion puis raccroché").check(force=True)  # DSFR: label on top
    page.get_by_label("Incident ou ticket lié").fill("INC-42")

    page.get_by_role("button", name="Écouter l'aperçu").click()  # played here, nothing published
    expect(page.locator("#apercu-etat")).to_contain_text("Aperçu prêt")
    assert page.locator("#apercu-audio").get_attribute("src").startswith("blob:")
    assert web_server.run(web_server.resources.crisis.list_all()) == []

    page.get_by_role("button", name="Publier maintenant").click()
    page.wait_for_load_state()
    expect(page.locator(".fr-alert--success")).to_contain_text("Le message est publié")
    on_air = page.locator("#message-1")
    expect(on_air).to_contain_text("Panne messagerie")
    expect(on_air).to_contain_text("Diffusé")
    expect(on_air).to_contain_text("Dissuasion puis raccroché")
    expect(on_air).to_contain_text(TEXT)
    player = on_air.locator("audio")
    assert player.get_attribute("src") == "/api/crise/messages/1/audio?version=1"
    assert page.request.get(player.get_attribute("src")).headers["content-type"] == "audio/wav"
    [message] = web_server.run(web_server.resources.crisis.list_all())
    assert message.active and message.created_by == "superviseur.test"
    screenshot(page, "crise")
    assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})
    screenshot(page, "crise-ecran-etroit")
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 720})

    page.get_by_role("link", name="Modifier le message « Panne messagerie »").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Modifier le message")
    screenshot(page, "crise-modifier")
    assert_accessible(page)


def test_a_refused_message_keeps_what_was_typed(
    page: Any, login: Login, assert_accessible: Callable, screenshot: Callable
) -> None:
    login(page, "superviseur")
    page.goto("/crise")
    page.get_by_label("Titre").fill("Sans texte")
    page.get_by_label("Incident ou ticket lié").fill("INC-7")
    page.get_by_role("button", name="Publier maintenant").click()
    page.wait_for_load_state()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Le message n’a pas été publié")
    expect(summary).to_contain_text("Le texte du message est vide")
    expect(page.get_by_label("Titre")).to_have_value("Sans texte")
    expect(page.get_by_label("Incident ou ticket lié")).to_have_value("INC-7")
    screenshot(page, "crise-erreur")
    assert_accessible(page)


def test_script_typed_in_a_message_never_runs(page: Any, login: Login) -> None:
    login(page, "superviseur")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/crise")
    payload = '<script>alert("xss")</script><img src=x onerror="alert(1)">'
    page.get_by_label("Texte du message").fill(f"Panne {payload}")
    page.get_by_label("Titre").fill(payload)
    page.get_by_role("button", name="Publier maintenant").click()
    page.wait_for_load_state()
    expect(page.locator("#message-1 blockquote")).to_contain_text(payload)
    page.goto("/crise/journal")
    expect(page.locator("table")).to_contain_text(payload)
    assert dialogs == []


def test_the_journal_filters_and_exports_what_it_shows(
    page: Any, web_server: WebServer, login: Login, screenshot: Callable,
    assert_accessible: Callable,
) -> None:  # fmt: skip
    from svi_acd.prompts.crisis import MessageRequest

    crisis = web_server.resources.crisis
    web_server.run(crisis.create(MessageRequest(text=TEXT, label="Messagerie"), "alice"))
    web_server.run(crisis.switch(1, True, "bob"))
    login(page, "superviseur")
    page.goto("/crise/journal")
    counted = page.get_by_role("status").filter(has_text="évènement")
    expect(counted).to_contain_text("2 évènements")
    page.locator("#champ-utilisateur").fill("bob")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_load_state()
    expect(counted).to_contain_text("1 évènement")
    expect(page.locator("tbody")).to_contain_text("Activation")
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter cet évènement (CSV)").click()
    lines = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Date (heure de Paris);Utilisateur;Action")
    assert len(lines) == 2 and ";bob;Activation;" in lines[1]
    screenshot(page, "journal")
    assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})
    screenshot(page, "journal-ecran-etroit")
    assert_accessible(page)
