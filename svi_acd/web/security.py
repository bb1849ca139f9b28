"""What a handler declares about who may call it, and who is calling.

Handlers never decide who is acting: they call ``acting_user(request)``, which reads what the
authentication middleware (``svi_acd.web.auth``) put on the request and falls back to
« système » outside any request made by a person. Each handler declares the permission it
needs with ``@requires(...)``, or ``@public`` when anyone may call it (login page, OpenAPI
description); the middleware reads it from the matched route and refuses every other route
(default deny).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web

from svi_acd.accounts.roles import Account, Permission
from svi_acd.audit import SYSTEM_ACTOR

if TYPE_CHECKING:
    from svi_acd.accounts.sessions import WebSession

ACTING_USER = web.RequestKey("acting_user", str)
# Set by the authentication middleware: the logged-in account, and its browser session
# (None when the request carries an API token instead of a session cookie).
ACCOUNT: web.RequestKey[Account] = web.RequestKey("account")
SESSION: web.RequestKey[WebSession] = web.RequestKey("web_session")
_ATTRIBUTE = "required_permission"
_PUBLIC = "public_route"
_LOGGED_IN = "any_logged_in_user"

Handler = TypeVar("Handler", bound=Callable[[web.Request], Awaitable[web.StreamResponse]])


def acting_user(request: web.Request) -> str:
    """Who is making this request, as written to the journal."""
    return request.get(ACTING_USER) or SYSTEM_ACTOR


def requires(permission: Permission) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        setattr(handler, _ATTRIBUTE, permission)
        return handler

    return mark


def public(handler: Handler) -> Handler:
    """Anyone may call this handler, logged in or not."""
    setattr(handler, _PUBLIC, True)
    return handler


def authenticated(handler: Handler) -> Handler:
    """Any logged-in user may call this handler, whatever the role (home page, logout)."""
    setattr(handler, _LOGGED_IN, True)
    return handler


def needs_only_login(request: web.Request) -> bool:
    return bool(getattr(request.match_info.handler, _LOGGED_IN, False))


def handler_permission(handler: object) -> Permission | None:
    """The permission a handler declared with ``@requires`` (None: public or login only)."""
    return getattr(handler, _ATTRIBUTE, None)


def handler_is_public(handler: object) -> bool:
    return bool(getattr(handler, _PUBLIC, False))


def required_permission(request: web.Request) -> Permission | None:
    handler = request.match_info.handler
    return getattr(handler, _ATTRIBUTE, None)


def is_static(request: web.Request) -> bool:
    return isinstance(request.match_info.route.resource, web.StaticResource)


def is_public(request: web.Request) -> bool:
    return is_static(request) or bool(getattr(request.match_info.handler, _PUBLIC, False))
