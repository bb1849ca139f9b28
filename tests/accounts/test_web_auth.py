"""The authentication middleware over HTTP (aiohttp test client, SQLite): who may call what,
CSRF, cookies, redirects and security headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer

from svi_acd.config.model import Settings
from svi_acd.web.account_pages import safe_next
from svi_acd.web.app import DSFR_DIST, WebResources, create_app
from svi_acd.web.security import public
from tests.accounts.helpers import PASSWORDS, bearer
from tests.browser.harness import base_resources

Extra = Callable[[web.Application], None]


@asynccontextmanager
async def web_client(
    settings: Settings, tmp_path: Path, extra: Extra | None = None, with_database: bool = True
) -> AsyncIterator[TestClient]:
    async with AsyncExitStack() as stack:
        resources = await base_resources(settings, tmp_path, stack)
        for role, password in PASSWORDS.items():
            assert resources.accounts is not None
            await resources.accounts.create(f"{role}.test", role, password)
        if not with_database:
            resources = WebResources(resources.crisis, resources.surge, resources.health)

        @asynccontextmanager
        async def given() -> AsyncIterator[WebResources]:
            yield resources

        app = create_app(settings, given)
        if extra is not None:
            extra(app)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            client.app_resources = resources  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def client(settings: Settings, tmp_path: Path) -> AsyncIterator[TestClient]:
    async with web_client(settings, tmp_path) as test_client:
        yield test_client


def hidden_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


async def log_in(client: TestClient, role: str, **extra: str) -> str:
    """Log in through the form (as a new visitor); returns where the login sends the user."""
    client.session.cookie_jar.clear()
    form = await client.get("/connexion")
    response = await client.post(
        "/connexion",
        data={"identifiant": f"{role}.test", "mot_de_passe": PASSWORDS[role],
              "csrf_token": hidden_token(await form.text()), **extra},
        allow_redirects=False,
    )  # fmt: skip
    assert response.status == 303, await response.text()
    return response.headers["Location"]


async def session_csrf(client: TestClient) -> str:
    return hidden_token(await (await client.get("/connexion?suite=/404")).text())


async def test_each_role_lands_on_the_first_page_it_may_see(client: TestClient) -> None:
    assert await log_in(client, "consultation") == "/statistiques"
    assert await log_in(client, "superviseur") == "/supervision"
    assert await log_in(client, "admin") == "/supervision"
    home = await client.get("/", allow_redirects=False)
    assert (home.status, home.headers["Location"]) == (303, "/supervision")


async def test_not_logged_in_pages_redirect_to_the_login_and_the_api_answers_401(
    client: TestClient,
) -> None:
    page = await client.get("/comptes?tri=nom", allow_redirects=False)
    assert (page.status, page.headers["Location"]) == (303, "/connexion?suite=/comptes%3Ftri%3Dnom")
    home = await client.get("/", allow_redirects=False)
    assert home.headers["Location"] == "/connexion"
    api = await client.get("/api/crise/messages")
    assert api.status == 401 and api.headers["WWW-Authenticate"].startswith("Bearer")
    assert "authentification requise" in (await api.json())["erreur"]


async def test_after_login_the_page_asked_first_opens_but_never_another_site(
    client: TestClient,
) -> None:
    assert await log_in(client, "admin", suite="/comptes") == "/comptes"
    assert await log_in(client, "admin", suite="//ailleurs.example/piege") == "/supervision"
    for target in ("https://ailleurs.example", "/\\ailleurs.example", "/a\nb", "", None):
        assert safe_next(target) is None
    assert safe_next("/statistiques?periode=jour") == "/statistiques?periode=jour"


async def test_a_failed_login_keeps_the_page_asked_first(client: TestClient) -> None:
    form = await client.get("/connexion?suite=/comptes")
    failed = await client.post(
        "/connexion",
        data={"identifiant": "admin.test", "mot_de_passe": "faux", "suite": "/comptes",
              "csrf_token": hidden_token(await form.text())},
    )  # fmt: skip
    assert failed.status == 401
    page = await failed.text()
    assert "Identifiant ou mot de passe incorrect." in page
    assert '<input type="hidden" name="suite" value="/comptes">' in page
    assert 'value="admin.test"' in page


async def test_a_route_without_a_declared_permission_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    async def forgotten(request: web.Request) -> web.Response:
        return web.json_response({"secret": True})

    @public
    async def open_to_all(request: web.Request) -> web.Response:
        return web.json_response({"ouvert": True})

    def add(app: web.Application) -> None:
        app.router.add_get("/api/oubliee", forgotten)
        app.router.add_get("/oubliee", forgotten)
        app.router.add_get("/api/publique", open_to_all)

    async with web_client(settings, tmp_path, add) as client:
        await log_in(client, "admin")
        api = await client.get("/api/oubliee")
        assert api.status == 403
        assert (await api.json())["erreur"] == "cette adresse n'est ouverte à aucun rôle."
        page = await client.get("/oubliee")
        assert page.status == 403 and "Accès refusé" in await page.text()
        client.session.cookie_jar.clear()
        assert (await client.get("/api/publique")).status == 200


async def test_without_a_database_pages_and_api_answer_503_in_french(
    settings: Settings, tmp_path: Path
) -> None:
    async with web_client(settings, tmp_path, with_database=False) as client:
        api = await client.get("/api/crise/messages")
        assert api.status == 503
        assert "aucune base de données" in (await api.json())["erreur"]
        page = await client.get("/comptes")
        assert page.status == 503 and "Aucune base de données" in await page.text()
        form = await client.get("/connexion")
        assert form.status == 200
        refused = await client.post(
            "/connexion", data={"identifiant": "admin.test", "mot_de_passe": "x"}
        )
        assert refused.status == 503


async def test_session_cookies_are_httponly_strict_and_secure_when_asked(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = await client.get("/connexion")
    cookie = form.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback
    monkeypatch.setenv("SVI_ACD_COOKIES_SECURISES", "oui")
    response = await client.post(
        "/connexion",
        data={"identifiant": "admin.test", "mot_de_passe": PASSWORDS["admin"],
              "csrf_token": hidden_token(await form.text())},
        allow_redirects=False,
    )  # fmt: skip
    session = response.cookies["svi_acd_session"]
    assert session["httponly"] and session["samesite"] == "Strict" and session["secure"]
    assert session["path"] == "/"


async def test_a_login_form_without_its_own_token_is_refused(client: TestClient) -> None:
    await client.get("/connexion")
    response = await client.post(
        "/connexion",
        data={"identifiant": "admin.test", "mot_de_passe": PASSWORDS["admin"], "csrf_token": "x"},
        allow_redirects=False,
    )
    assert response.status == 400 and "Le formulaire a expiré" in await response.text()
    assert "svi_acd_session" not in response.cookies


async def test_csrf_for_json_urlencoded_and_multipart_requests_and_logout(
    client: TestClient,
) -> None:
    await log_in(client, "superviseur")
    token = await session_csrf(client)
    api = "/api/crise/messages"
    text = {"texte": "Une panne de la messagerie est en cours."}
    assert (await client.post(api, json=text)).status == 403
    assert (await client.post(api, json=text, headers={"X-CSRF-Token": "faux"})).status == 403
    assert (await client.post(api, json=text, headers={"X-CSRF-Token": token})).status == 201

    def form() -> FormData:
        data = FormData(default_to_multipart=True)
        data.add_field("texte", text["texte"])
        return data

    assert (await client.post(api, data=form())).status == 403
    accepted = await client.post(api, data=form(), params={"csrf_token": token})
    assert accepted.status == 201, await accepted.text()
    assert (await client.post("/deconnexion", allow_redirects=False)).status == 403
    out = await client.post("/deconnexion", data={"csrf_token": token}, allow_redirects=False)
    assert (out.status, out.headers["Location"]) == (303, "/connexion?deconnecte")
    assert (await client.get(api)).status == 401


async def test_a_bearer_token_needs_no_csrf_and_a_bad_one_is_401(client: TestClient) -> None:
    accounts = client.app_resources.accounts  # type: ignore[attr-defined]
    token = await accounts.create_token("superviseur.test", "script")
    api = "/api/crise/messages"
    created = await client.post(api, json={"texte": "Panne en cours."}, headers=bearer(token))
    assert created.status == 201
    assert (await client.get(api, headers=bearer(token + "x"))).status == 401
    assert (await client.get(api, headers={"Authorization": "Basic YTpi"})).status == 401


async def test_security_headers_on_pages_api_and_static_files(client: TestClient) -> None:
    page = await client.get("/connexion")
    api = await client.get("/api/crise/messages")
    css = await client.get("/static/app/app.css")
    assert css.status == 200
    for response in (page, api, css):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "script-src" not in response.headers["Content-Security-Policy"]  # 'self' only
    assert page.headers["Cache-Control"] == "no-store"
    if (DSFR_DIST / "dsfr.min.css").is_file():
        dsfr = await client.get("/static/dsfr/dsfr.min.css")
        assert dsfr.status == 200 and dsfr.content_type == "text/css"


async def test_unknown_pages_get_the_french_404_page(client: TestClient) -> None:
    page = await client.get("/nulle-part")
    assert page.status == 404 and "Page introuvable" in await page.text()
    api = await client.get("/api/nulle-part")
    assert api.status == 404 and (await api.json())["erreur"] == "adresse inconnue"


async def test_pages_render_without_the_dsfr_files(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    from svi_acd.web import app as app_module

    monkeypatch.setattr(app_module, "DSFR_DIST", tmp_path / "absent")
    app_module._warn_dsfr_missing.cache_clear()
    async with web_client(settings, tmp_path) as client:
        page = await client.get("/connexion")
        assert page.status == 200 and "Connexion" in await page.text()
    assert "DSFR introuvable" in caplog.text


async def test_the_accounts_page_refuses_an_admin_disabling_themself(client: TestClient) -> None:
    await log_in(client, "admin")
    token = await session_csrf(client)
    response = await client.post("/comptes/admin.test/desactiver", data={"csrf_token": token})
    assert response.status == 422
    assert "votre propre compte" in await response.text()
    other = await client.post(
        "/comptes/consultation.test/role",
        data={"csrf_token": token, "role": "superviseur"},
        allow_redirects=False,
    )
    assert other.status == 303
    accounts = client.app_resources.accounts  # type: ignore[attr-defined]
    assert (await accounts.get("consultation.test")).role == "superviseur"
