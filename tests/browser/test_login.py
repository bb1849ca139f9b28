"""Login page, sessions, roles and CSRF in a real headless Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.browser.harness import Credentials, WebServer

Login = Callable[[Any, str], Credentials]
COOKIE = "svi_acd_session"


def session_cookie(page: Any) -> str | None:
    for cookie in page.context.cookies():
        if cookie["name"] == COOKIE:
            return str(cookie["value"])
    return None


def fresh_page_with_cookie(browser: Any, server: WebServer, value: str) -> Any:
    context = browser.new_context(base_url=server.url, locale="fr-FR")
    context.add_cookies([{"name": COOKIE, "value": value, "url": server.url}])
    return context.new_page()


def fill_login(page: Any, login: str, password: str) -> None:
    page.locator("#champ-identifiant").fill(login)
    page.locator("#champ-mot_de_passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def test_the_login_page_is_french_accessible_and_safe_to_frame_nowhere(
    page: Any, web_server: WebServer, screenshot: Callable, assert_accessible: Callable,
    page_errors: list[str],
) -> None:  # fmt: skip
    response = page.goto("/connexion")
    assert page.title() == "Connexion – Numéro unique – Centre de services"
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("link", name="Aller au contenu").count() == 1
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    screenshot(page, "connexion")
    assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})
    screenshot(page, "connexion-ecran-etroit")
    assert_accessible(page)
    assert page_errors == []  # the DSFR's scripts run under the CSP


def test_a_wrong_password_says_so_without_telling_which_part_is_wrong(
    page: Any, accounts: dict[str, Credentials], screenshot: Callable, assert_accessible: Callable
) -> None:
    page.goto("/connexion")
    fill_login(page, accounts["superviseur"].login, "pas le bon mot de passe")
    assert (
        page.get_by_role("alert").inner_text().strip() == "Identifiant ou mot de passe incorrect."
    )
    assert page.locator("#champ-identifiant").input_value() == accounts["superviseur"].login
    assert page.locator("#champ-mot_de_passe").input_value() == ""
    screenshot(page, "connexion-erreur")
    assert_accessible(page)
    fill_login(page, "personne.inconnue", "pas le bon mot de passe")
    assert (
        page.get_by_role("alert").inner_text().strip() == "Identifiant ou mot de passe incorrect."
    )


def test_after_five_failures_even_the_right_password_is_refused_for_a_while(
    page: Any, accounts: dict[str, Credentials], screenshot: Callable
) -> None:
    target = accounts["admin"]
    page.goto("/connexion")
    for attempt in range(5):
        fill_login(page, target.login, f"essai numéro {attempt}")
        assert "incorrect" in page.get_by_role("alert").inner_text()
    fill_login(page, target.login, target.password)
    message = page.get_by_role("alert").inner_text()
    assert "Trop de tentatives de connexion" in message and "réessayez dans 15 minutes" in message
    assert "/connexion" in page.url and session_cookie(page) is None
    screenshot(page, "connexion-bloquee")


def test_a_session_id_planted_before_login_is_never_the_one_used_after(
    page: Any, browser: Any, web_server: WebServer, accounts: dict[str, Credentials]
) -> None:
    planted = "identifiant-de-session-choisi-par-un-attaquant"
    page.context.add_cookies([{"name": COOKIE, "value": planted, "url": web_server.url}])
    page.goto("/connexion")
    assert session_cookie(page) == planted
    fill_login(page, accounts["superviseur"].login, accounts["superviseur"].password)
    first = session_cookie(page)
    assert first is not None and first != planted and "/connexion" not in page.url
    attacker = fresh_page_with_cookie(browser, web_server, planted)
    attacker.goto("/comptes")
    assert "/connexion" in attacker.url  # the planted id opens nothing
    attacker.context.close()
    page.goto("/connexion")  # logged in: sent on, and a new login gives a new id
    page.context.clear_cookies()
    page.context.add_cookies([{"name": COOKIE, "value": first, "url": web_server.url}])
    page.goto("/connexion")
    assert "/connexion" not in page.url


def test_logging_in_again_replaces_the_session_and_closes_the_old_one(
    page: Any, browser: Any, web_server: WebServer, accounts: dict[str, Credentials]
) -> None:
    page.goto("/connexion")
    fill_login(page, accounts["superviseur"].login, accounts["superviseur"].password)
    first = str(session_cookie(page))
    page.context.clear_cookies()
    page.goto("/connexion")  # the form, then the login with the valid session still sent
    page.context.add_cookies([{"name": COOKIE, "value": first, "url": web_server.url}])
    fill_login(page, accounts["admin"].login, accounts["admin"].password)
    second = session_cookie(page)
    assert second and second != first and "/connexion" not in page.url
    old = fresh_page_with_cookie(browser, web_server, first)
    assert old.request.get("/api/crise/messages").status == 401
    old.context.close()


def test_logout_destroys_the_session_on_the_server(
    page: Any, browser: Any, web_server: WebServer, login: Login, screenshot: Callable
) -> None:
    login(page, "admin")
    cookie = str(session_cookie(page))
    page.goto("/comptes")
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion?deconnecte")
    assert page.get_by_role("status").inner_text().strip() == "Vous êtes déconnecté."
    assert session_cookie(page) is None
    screenshot(page, "deconnexion")
    replay = fresh_page_with_cookie(browser, web_server, cookie)
    replay.goto("/comptes")
    assert "/connexion?suite=/comptes" in replay.url
    assert replay.request.get("/api/crise/messages").status == 401
    replay.context.close()


def test_a_page_asked_before_login_opens_after_it(page: Any, accounts: dict[str, Credentials]):
    page.goto("/comptes")
    assert page.url.endswith("/connexion?suite=/comptes")
    fill_login(page, accounts["admin"].login, accounts["admin"].password)
    assert page.url.endswith("/comptes")
    assert page.get_by_role("heading", level=1).inner_text() == "Comptes"


def test_a_consultation_user_gets_403_on_the_crisis_form_and_api(
    page: Any, login: Login, screenshot: Callable, assert_accessible: Callable
) -> None:
    login(page, "consultation")
    assert page.url.endswith("/statistiques")
    nav = page.get_by_role("navigation", name="Menu principal")
    assert nav.get_by_role("link").all_inner_texts() == ["Statistiques"]
    response = page.goto("/crise")
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Accès refusé"
    screenshot(page, "acces-refuse")
    assert_accessible(page)
    token = page.content().split('name="csrf_token" value="')[1].split('"')[0]
    api = page.request.post(
        "/api/crise/messages", data={"texte": "Panne"}, headers={"X-CSRF-Token": token}
    )
    assert api.status == 403
    assert (
        api.json()["erreur"]
        == "votre rôle (consultation (statistiques)) ne permet pas cette action."
    )
    assert page.goto("/comptes").status == 403


def test_a_forged_post_without_the_csrf_token_is_refused_and_with_it_accepted(
    page: Any, web_server: WebServer, login: Login
) -> None:
    login(page, "admin")
    page.goto("/comptes")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    password = "un mot de passe sûr"
    form = {"identifiant": "nouvel.agent", "role": "consultation",
            "mot_de_passe": password, "confirmation": password}  # fmt: skip
    forged = page.request.post("/comptes", form=form, max_redirects=0)
    assert forged.status == 403 and "CSRF" in forged.text()
    wrong = page.request.post("/comptes", form={**form, "csrf_token": "x" * 43}, max_redirects=0)
    assert wrong.status == 403
    assert web_server.run(web_server.accounts.get("nouvel.agent")) is None
    accepted = page.request.post("/comptes", form={**form, "csrf_token": token}, max_redirects=0)
    assert accepted.status == 303, accepted.text()
    assert web_server.run(web_server.accounts.get("nouvel.agent")) is not None
    api = "/api/crise/messages"
    message = {"texte": "Une panne de la messagerie est en cours."}
    assert page.request.post(api, data=message).status == 403
    assert page.request.post(api, data=message, headers={"X-CSRF-Token": token}).status == 201


def test_an_api_token_works_without_csrf_and_names_its_user(
    page: Any, web_server: WebServer, accounts: dict[str, Credentials]
) -> None:
    token = web_server.run(web_server.accounts.create_token(accounts["superviseur"].login, "t"))
    headers = {"Authorization": f"Bearer {token}"}
    created = page.request.post(
        "/api/crise/messages", data={"texte": "Une panne est en cours."}, headers=headers
    )
    assert created.status == 201, created.text()
    journal = page.request.get("/api/crise/journal", headers=headers).json()
    assert journal["evenements"][0]["utilisateur"] == accounts["superviseur"].login
    bad = page.request.get("/api/crise/journal", headers={"Authorization": "Bearer sviacd_faux"})
    assert bad.status == 401


def test_the_accounts_page_creates_and_disables_an_account(
    page: Any, web_server: WebServer, login: Login, screenshot: Callable,
    assert_accessible: Callable,
) -> None:  # fmt: skip
    login(page, "admin")
    page.goto("/comptes")
    page.locator("#champ-identifiant").fill("é")
    page.locator("#champ-mot_de_passe").fill("court")
    page.locator("#champ-confirmation").fill("court")
    page.get_by_role("button", name="Créer le compte").click()
    assert "identifiant invalide" in page.get_by_role("alert").inner_text().lower()
    assert page.locator("#champ-identifiant").input_value() == "é"
    screenshot(page, "comptes-erreur")
    assert_accessible(page)
    page.locator("#champ-identifiant").fill("jeanne.martin")
    page.locator("#champ-nom").fill("Jeanne Martin")
    page.locator("#champ-role").select_option("superviseur")
    page.locator("#champ-mot_de_passe").fill("un mot de passe sûr")
    page.locator("#champ-confirmation").fill("un mot de passe sûr")
    page.get_by_role("button", name="Créer le compte").click()
    assert page.get_by_role("status").inner_text().strip() == "Le compte a été créé."
    page.get_by_role("button", name="Désactiver le compte jeanne.martin").click()
    assert "désactivé" in page.get_by_role("status").inner_text()
    account = web_server.run(web_server.accounts.get("jeanne.martin"))
    assert account is not None and not account.active and account.role == "superviseur"
    screenshot(page, "comptes")
    assert_accessible(page)
