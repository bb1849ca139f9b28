"""The aiohttp application: HTML pages, the JSON API under ``/api/`` and static files.

``create_app(settings, open_resources)``: ``open_resources`` is an async context manager
factory that yields the objects handlers use (``WebResources``); the app enters it in its
``cleanup_ctx`` and leaves it on shutdown. The service hands over what it already built;
tests and a stand-alone web process open their own (database engine, live state…).

Every error under ``/api/`` is JSON: ``{"erreur": "phrase en français", …details}``.

Static files: the DSFR from npm (``assets/node_modules/@gouvfr/dsfr/dist``) at
``/static/dsfr/`` and the service's own CSS/JS (``static/``) at ``/static/app/``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.accounts.store import AccountStore
from svi_acd.acd.control import AcdControl
from svi_acd.config.model import Settings
from svi_acd.prompts.crisis import CrisisMessages
from svi_acd.prompts.crisis_errors import CrisisError, ErrorKind
from svi_acd.prompts.surge import SurgeMonitor
from svi_acd.web import (
    account_pages,
    acd_api,
    auth,
    crisis_api,
    crisis_pages,
    event_journal,
    journal_pages,
    openapi,
    stats_api,
    stats_pages,
    supervision,
    vip_pages,
)
from svi_acd.web.keys import ACD, CRISIS, ENGINE, HEALTH, SETTINGS, SURGE
from svi_acd.web.schemas import RequestError, json_response

log = logging.getLogger(__name__)

STATUS_BY_KIND: dict[ErrorKind, int] = {
    "invalide": 422,
    "introuvable": 404,
    "conflit": 409,
    "trop_volumineux": 413,
    "audio_refuse": 422,
    "indisponible": 503,
}
HTTP_MESSAGES = {
    400: "requête invalide",
    404: "adresse inconnue",
    405: "méthode non permise pour cette adresse",
    413: "requête trop volumineuse",
    415: "type de contenu non pris en charge",
}


@dataclass
class WebResources:
    crisis: CrisisMessages
    surge: SurgeMonitor | None = None
    health: Callable[[], dict[str, Any]] = field(default=lambda: {})
    engine: AsyncEngine | None = None  # statistics, VIP directory, accounts
    acd: AcdControl | None = None  # None: no AMI link (agents and queues unknown)
    accounts: AccountStore | None = None  # None: an AccountStore on ``engine``


ResourceOpener = Callable[[], AbstractAsyncContextManager[WebResources]]


def json_error(status: int, message: str, **details: object) -> web.Response:
    return json_response({"erreur": message, **details}, status=status)


@web.middleware
async def api_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except CrisisError as exc:
        return json_error(STATUS_BY_KIND[exc.kind], exc.message, **exc.details)
    except RequestError as exc:
        return json_error(exc.status, exc.message, **exc.details)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        return json_error(exc.status, HTTP_MESSAGES.get(exc.status, exc.reason))
    except Exception:
        log.exception("erreur interne sur %s %s", request.method, request.path)
        return json_error(
            500, "erreur interne : elle est journalisée ; réessayez ou prévenez l'exploitation."
        )


Middleware = Callable[
    [web.Request, Callable[[web.Request], Awaitable[web.StreamResponse]]],
    Awaitable[web.StreamResponse],
]


WEB_DIR = Path(__file__).parent
DSFR_DIST = WEB_DIR / "assets" / "node_modules" / "@gouvfr" / "dsfr" / "dist"
APP_STATIC = WEB_DIR / "static"


@cache
def _warn_dsfr_missing(folder: Path) -> None:
    log.warning(
        "DSFR introuvable (%s) : les pages s'affichent sans leur style. Lancez « npm ci » dans "
        "svi_acd/web/assets (scripts/test.sh et scripts/demo.sh le font).",
        folder,
    )


def add_static_routes(app: web.Application, dsfr: Path | None = None) -> None:
    dsfr = dsfr or DSFR_DIST
    if (dsfr / "dsfr.min.css").is_file():
        app.router.add_static("/static/dsfr/", dsfr, append_version=False)
    else:
        _warn_dsfr_missing(dsfr)
    app.router.add_static("/static/app/", APP_STATIC)


def create_app(
    settings: Settings, open_resources: ResourceOpener, middlewares: Sequence[Middleware] = ()
) -> web.Application:
    """``middlewares`` run inside the JSON error handler and the authentication middleware
    (which every request meets: see ``svi_acd.web.auth``)."""
    app = web.Application(middlewares=[api_errors, auth.authentication, *middlewares])
    app[SETTINGS] = settings
    auth.install(app)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        async with open_resources() as opened:
            app[CRISIS] = opened.crisis
            app[SURGE] = opened.surge
            app[HEALTH] = opened.health
            app[ENGINE] = opened.engine
            app[ACD] = opened.acd
            accounts = opened.accounts
            if accounts is None and opened.engine is not None:
                accounts = AccountStore(opened.engine)
            app[auth.ACCOUNTS] = accounts
            yield

    app.cleanup_ctx.append(resources)
    add_static_routes(app)
    app.add_routes(account_pages.routes)
    app.add_routes(crisis_api.routes)
    app.add_routes(acd_api.routes)
    app.add_routes(stats_pages.routes)
    app.add_routes(stats_api.routes)
    app.add_routes(openapi.routes)
    app.add_routes(journal_pages.routes)
    app.add_routes(event_journal.routes)
    app.add_routes(crisis_pages.routes)
    supervision.install(app)  # routes, and the shutdown hook that ends the live streams
    app.add_routes(vip_pages.routes)
    return app
