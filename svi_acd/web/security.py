"""The seam where authentication will plug in (login, roles, CSRF, API tokens come later).

Handlers never decide who is acting: they call ``acting_user(request)``, which reads what an
authentication middleware put on the request and falls back to « système » while there is
none. Each handler declares the permission it needs with ``@requires(...)``; the future
middleware reads it from the matched route (``required_permission(request)``) and refuses
the request when the user's role lacks it. Nothing is enforced yet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from aiohttp import web

from svi_acd.prompts.crisis_store import SYSTEM_ACTOR

Permission = Literal[
    "crise:lecture",  # crisis messages, journal, surge alert
    "crise:ecriture",  # create, change, activate, remove crisis messages
    "supervision:lecture",  # wallboard, agents, queues, service state
    "supervision:ecriture",  # agents (login, pause), overflow switches, caller priority
    "statistiques:lecture",  # reports, exports
    "annuaire:lecture",  # VIP directory
    "annuaire:ecriture",  # VIP import and edits
    "comptes:gestion",  # user accounts
    "configuration:lecture",  # configuration view
]
ACTING_USER = web.RequestKey("acting_user", str)
_ATTRIBUTE = "required_permission"

Handler = TypeVar("Handler", bound=Callable[[web.Request], Awaitable[web.StreamResponse]])


def acting_user(request: web.Request) -> str:
    """Who is making this request, as written to the journal."""
    return request.get(ACTING_USER) or SYSTEM_ACTOR


def requires(permission: Permission) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        setattr(handler, _ATTRIBUTE, permission)
        return handler

    return mark


def required_permission(request: web.Request) -> Permission | None:
    handler = request.match_info.handler
    return getattr(handler, _ATTRIBUTE, None)
