"""Login, logout, the home redirect and the accounts page (« Comptes », admin only).

The login form is protected against CSRF before any session exists by a random token kept in
a short-lived cookie (``svi_acd_connexion``) and repeated in the form. A successful login
always opens a new session with a new random id: whatever session cookie the browser brought
is closed first (no session fixation).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta

from aiohttp import web

from svi_acd.accounts.audit import account_created, activity_switched, role_changed
from svi_acd.accounts.roles import ROLE_LABELS, ROLES, Account
from svi_acd.accounts.store import AccountError, AccountStore
from svi_acd.web.audit_trail import record_by_user
from svi_acd.web.auth import (
    ACCOUNTS,
    SESSION_COOKIE,
    delete_cookie,
    set_cookie,
    unavailable,
)
from svi_acd.web.pages import CSRF_FIELD, NAV, FormErrors, render, sentence
from svi_acd.web.security import ACCOUNT, acting_user, authenticated, public, requires

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

LOGIN_COOKIE = "svi_acd_connexion"
LOGIN_FORM_LIFETIME = timedelta(hours=1)
BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
FORM_EXPIRED = (
    "Le formulaire a expiré : saisissez de nouveau votre identifiant et votre mot de passe."
)
FIELD_MAX = 300


def home_for(account: Account) -> str:
    """The first page of the menu the role may see."""
    for entry in NAV:
        if account.may(entry.permission):
            return entry.href
    return "/connexion"


def safe_next(target: str | None) -> str | None:
    """A local path to go back to after login, never another site (open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 or c == "\\" for c in target) or len(target) > 2000:
        return None
    return target


def see_other(location: str) -> web.Response:
    """A redirect after a form (303: the browser follows it with GET)."""
    return web.Response(status=303, headers={"Location": location})


def _store(request: web.Request) -> AccountStore | None:
    return request.app[ACCOUNTS]


async def _login_form(
    request: web.Request,
    status: int = 200,
    error: str | None = None,
    login: str = "",
    suite: str | None = None,
) -> web.Response:
    token = secrets.token_urlsafe(32)
    response = await render(
        request, "connexion.html", status=status, error=error, login=login,
        suite=safe_next(suite or request.query.get("suite")) or "",
        logged_out="deconnecte" in request.query, csrf_token=token,
    )  # fmt: skip
    set_cookie(
        response, request, LOGIN_COOKIE, token,
        max_age=int(LOGIN_FORM_LIFETIME.total_seconds()),
    )  # fmt: skip
    return response


@routes.get("/connexion")
@public
async def login_page(request: web.Request) -> web.StreamResponse:
    account = request.get(ACCOUNT)
    if account is not None:
        return see_other(safe_next(request.query.get("suite")) or home_for(account))
    return await _login_form(request)


def _field(form: object, name: str) -> str:
    value = form.get(name, "") if hasattr(form, "get") else ""  # type: ignore[union-attr]
    return value[:FIELD_MAX] if isinstance(value, str) else ""


@routes.post("/connexion")
@public
async def login(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    if store is None:
        return await unavailable(request)
    form = await request.post()
    login_typed = _field(form, "identifiant").strip()
    suite = _field(form, "suite")
    expected = request.cookies.get(LOGIN_COOKIE, "")
    sent = _field(form, CSRF_FIELD)
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return await _login_form(request, 400, FORM_EXPIRED, login_typed, suite)
    outcome = await store.authenticate(
        login_typed, _field(form, "mot_de_passe"), request.remote or "inconnue"
    )
    if outcome.throttled:
        minutes = max(1, -(-int(outcome.retry_after.total_seconds()) // 60))
        log.warning("connexion refusée (trop d'échecs) : %s depuis %s", login_typed, request.remote)
        message = (
            "Trop de tentatives de connexion ont échoué. Pour protéger les comptes, "
            f"réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."
        )
        return await _login_form(request, 429, message, login_typed, suite)
    account = outcome.account
    if account is None:
        return await _login_form(request, 401, BAD_CREDENTIALS, login_typed, suite)
    if previous := request.cookies.get(SESSION_COOKIE):
        await store.close_session(previous)  # a new id at every login: no fixation
    cookie, _ = await store.open_session(account)
    log.info("connexion de %s (%s)", account.login, account.role)
    response = see_other(safe_next(suite) or home_for(account))
    set_cookie(response, request, SESSION_COOKIE, cookie)
    delete_cookie(response, request, LOGIN_COOKIE)
    return response


@routes.post("/deconnexion")
@authenticated
async def logout(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    if store is not None and (cookie := request.cookies.get(SESSION_COOKIE)):
        await store.close_session(cookie)
    log.info("déconnexion de %s", acting_user(request))
    response = see_other("/connexion?deconnecte")
    delete_cookie(response, request, SESSION_COOKIE)
    return response


@routes.get("/")
@authenticated
async def home(request: web.Request) -> web.StreamResponse:
    return see_other(home_for(request[ACCOUNT]))


# -- « Comptes » --------------------------------------------------------------------------

DONE = {
    "cree": "Le compte a été créé.",
    "role": "Le rôle a été changé.",
    "desactive": "Le compte a été désactivé ; ses sessions ouvertes sont fermées.",
    "active": "Le compte a été réactivé.",
}
ROLE_OPTIONS = [(role, ROLE_LABELS[role]) for role in ROLES]


async def _accounts_page(
    request: web.Request,
    status: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
) -> web.Response:
    store = _store(request)
    assert store is not None
    return await render(
        request, "comptes.html", status=status, accounts=await store.list_accounts(),
        errors=errors or {}, values=values or {}, role_options=ROLE_OPTIONS,
        role_labels=ROLE_LABELS, done=DONE.get(request.query.get("fait", "")), problem=problem,
    )  # fmt: skip


@routes.get("/comptes")
@requires("comptes:gestion")
async def accounts_page(request: web.Request) -> web.Response:
    return await _accounts_page(request)


@routes.post("/comptes")
@requires("comptes:gestion")
async def create_account(request: web.Request) -> web.StreamResponse:
    store = _store(request)
    assert store is not None
    form = await request.post()
    values = {name: _field(form, name) for name in ("identifiant", "nom", "role")}
    password = _field(form, "mot_de_passe")
    errors: FormErrors = {}
    account: Account | None = None
    if password != _field(form, "confirmation"):
        errors["confirmation"] = "Les deux mots de passe saisis diffèrent."
    if not errors:
        try:
            account = await store.create(
                values["identifiant"], values["role"], password, values["nom"]
            )
        except AccountError as exc:
            errors[exc.field or "identifiant"] = sentence(exc.message)
    if errors or account is None:
        return await _accounts_page(request, 422, errors, values)
    await record_by_user(request, store.engine, account_created(account))
    log.info("compte %s créé par %s", values["identifiant"], acting_user(request))
    return see_other("/comptes?fait=cree")


async def _change(request: web.Request, done: str, **change: str | bool) -> web.StreamResponse:
    store = _store(request)
    assert store is not None
    login = request.match_info["login"]
    try:
        if "role" in change:
            before = await store.get(login)
            after = await store.change_role(login, str(change["role"]))
            journaled = role_changed(after.login, before.role if before else None, after.role)
        else:
            after = await store.set_active(login, bool(change["active"]))
            journaled = activity_switched(after.login, after.active)
    except AccountError as exc:
        return await _accounts_page(request, 422, problem=sentence(exc.message))
    await record_by_user(request, store.engine, journaled)
    log.info("compte %s modifié (%s) par %s", login, change, acting_user(request))
    return see_other(f"/comptes?fait={done}")


def _not_oneself(request: web.Request) -> None:
    if request.match_info["login"] == request[ACCOUNT].login:
        raise AccountError("vous ne pouvez pas modifier votre propre compte depuis cette page.")


@routes.post("/comptes/{login}/role")
@requires("comptes:gestion")
async def change_role(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        _not_oneself(request)
    except AccountError as exc:
        return await _accounts_page(request, 422, problem=sentence(exc.message))
    return await _change(request, "role", role=_field(form, "role"))


@routes.post("/comptes/{login}/desactiver")
@requires("comptes:gestion")
async def disable_account(request: web.Request) -> web.StreamResponse:
    try:
        _not_oneself(request)
    except AccountError as exc:
        return await _accounts_page(request, 422, problem=sentence(exc.message))
    return await _change(request, "desactive", active=False)


@routes.post("/comptes/{login}/activer")
@requires("comptes:gestion")
async def enable_account(request: web.Request) -> web.StreamResponse:
    return await _change(request, "active", active=True)
