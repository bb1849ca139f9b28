"""Authentication, permissions and CSRF for every request: the middleware ``create_app`` installs.

A request is authenticated by the session cookie (browsers) or by ``Authorization: Bearer
<jeton>`` (scripts; API tokens from ``svi-acd user token``). Then:

- a route marked ``@public`` (login page, static files…) is served to anyone;
- a route marked ``@authenticated`` is served to any logged-in user;
- a route marked ``@requires(permission)`` is served when the user's role grants it (403
  otherwise); any other route is refused (default deny);
- not logged in: 401 in JSON under ``/api/``, a redirect to ``/connexion?suite=…`` for pages;
- no database (``WebResources.engine`` is None): 503, accounts cannot be checked.

CSRF: a state-changing request (POST, PUT, PATCH, DELETE) authenticated by the session cookie
must carry the session's token: in the ``X-CSRF-Token`` header, or for a urlencoded form in
its ``csrf_token`` field (``{{ csrf_field() }}``). A ``multipart/form-data`` form (file upload)
is never read whole before the check: it carries the token in the header or in its action's
query string (``action="{{ csrf_action('/adresse') }}"``). Bearer-token calls are exempt
(a browser never adds that header by itself).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from svi_acd.accounts.roles import ROLE_LABELS, Account
from svi_acd.accounts.store import AccountStore
from svi_acd.web.pages import CSRF_FIELD, render, sentence
from svi_acd.web.schemas import json_response
from svi_acd.web.security import (
    ACCOUNT,
    ACTING_USER,
    SESSION,
    is_public,
    is_static,
    needs_only_login,
    required_permission,
)

log = logging.getLogger(__name__)

ACCOUNTS = web.AppKey("accounts", AccountStore | None)  # type: ignore[arg-type]
SESSION_COOKIE = "svi_acd_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_api(request: web.Request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def secure_cookies(request: web.Request) -> bool:
    """Cookies are ``Secure`` over HTTPS, or always when SVI_ACD_COOKIES_SECURISES=oui."""
    forced = os.environ.get("SVI_ACD_COOKIES_SECURISES", "").strip().lower()
    return request.secure or forced in {"1", "oui", "true", "yes"}


def set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, **extra: Any
) -> None:
    response.set_cookie(
        name, value, path="/", httponly=True, samesite="Strict",
        secure=secure_cookies(request), **extra,
    )  # fmt: skip


def delete_cookie(response: web.StreamResponse, request: web.Request, name: str) -> None:
    response.del_cookie(
        name, path="/", httponly=True, samesite="Strict", secure=secure_cookies(request)
    )


# -- refusals -----------------------------------------------------------------------------


def _json_refusal(status: int, message: str, **headers: str) -> web.Response:
    return json_response({"erreur": message}, status=status, headers=headers or None)


async def page_error(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return await render(request, "erreur.html", status=status, title=title, message=message)


async def unavailable(request: web.Request) -> web.Response:
    message = (
        "aucune base de données n'est ouverte : les comptes ne peuvent pas être vérifiés. "
        "Configurez service.base_de_donnees ou SVI_ACD_DB_URL."
    )
    if is_api(request):
        return _json_refusal(503, message)
    return await page_error(request, 503, "Service indisponible", sentence(message))


def login_location(request: web.Request) -> str:
    target = request.path_qs if request.method in SAFE_METHODS else request.path
    return "/connexion" if target == "/" else f"/connexion?suite={quote(target, safe='/')}"


async def unauthenticated(request: web.Request) -> web.StreamResponse:
    if is_api(request):
        return _json_refusal(
            401,
            "authentification requise : connectez-vous, ou envoyez un jeton d'API "
            "(en-tête « Authorization: Bearer … », créé par « svi-acd user token »).",
            **{"WWW-Authenticate": 'Bearer realm="svi-acd"'},
        )
    return web.Response(status=303, headers={"Location": login_location(request)})


async def forbidden(request: web.Request, message: str | None = None) -> web.Response:
    account = request.get(ACCOUNT)
    role = ROLE_LABELS[account.role].lower() if account else "inconnu"
    text = message or f"votre rôle ({role}) ne permet pas cette action."
    if is_api(request):
        return _json_refusal(403, text)
    return await render(request, "403.html", status=403, message=message)


async def not_found(request: web.Request) -> web.Response:
    return await render(request, "404.html", status=404)


# -- identification -----------------------------------------------------------------------


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def identify(request: web.Request) -> Account | None:
    """Who sends this request (token first, then session cookie); sets ACCOUNT and SESSION."""
    store = request.app[ACCOUNTS]
    if store is None:
        return None
    token = _bearer(request)
    account: Account | None = None
    if token is not None:
        account = await store.token_account(token) if token else None
    elif cookie := request.cookies.get(SESSION_COOKIE):
        found = await store.session_account(cookie)
        if found is not None:
            account, session = found
            request[SESSION] = session
    if account is not None:
        request[ACCOUNT] = account
        request[ACTING_USER] = account.login
    return account


async def csrf_token_sent(request: web.Request) -> str:
    if header := request.headers.get(CSRF_HEADER):
        return header
    if request.content_type == "multipart/form-data":
        return request.query.get(CSRF_FIELD, "")
    if request.content_type == "application/x-www-form-urlencoded":
        value = (await request.post()).get(CSRF_FIELD, "")
        return value if isinstance(value, str) else ""
    return ""


async def csrf_valid(request: web.Request) -> bool:
    session = request.get(SESSION)
    if session is None:
        return True  # not a cookie-authenticated request (API token): exempt
    sent = await csrf_token_sent(request)
    return hmac.compare_digest(sent.encode(), session.csrf_token.encode())


CSRF_REFUSED = (
    "jeton anti-falsification (CSRF) absent ou invalide : rechargez la page puis recommencez."
)


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.app[ACCOUNTS] is None:
        return await unavailable(request)
    if await identify(request) is None:
        return await unauthenticated(request)
    account = request[ACCOUNT]
    if not needs_only_login(request):
        permission = required_permission(request)
        if permission is None:
            log.error("route sans @requires ni @public refusée : %s", request.path)
            return await forbidden(request, "cette adresse n'est ouverte à aucun rôle.")
        if not account.may(permission):
            return await forbidden(request)
    if request.method not in SAFE_METHODS and not await csrf_valid(request):
        log.warning("requête %s %s refusée : jeton CSRF", request.method, request.path)
        if is_api(request):
            return _json_refusal(403, CSRF_REFUSED)
        return await page_error(request, 403, "Action refusée", sentence(CSRF_REFUSED))
    return await handler(request)


@web.middleware
async def authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
    missing = request.match_info.http_exception
    try:
        if missing is not None:  # no route: 404 (or 405), a page for people
            if is_api(request) or missing.status != 404:
                raise missing
            await identify(request)
            return await not_found(request)
        if is_static(request):
            return await handler(request)
        if is_public(request):
            await identify(request)
            return await handler(request)
        return await _guarded(request, handler)
    except web.HTTPNotFound:
        if is_api(request):
            raise
        return await not_found(request)
    except web.HTTPForbidden:
        if is_api(request):
            raise
        return await forbidden(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if response.content_type == "text/html":
        headers.setdefault("Cache-Control", "no-store")


def install(app: web.Application) -> None:
    """Signals of the authentication layer (the middleware itself is given to the app)."""
    app.on_response_prepare.append(security_headers)
