"""HTML pages: the Jinja2 environment, ``render`` and the helpers forms share.

Every page extends ``templates/base.html`` (DSFR layout). ``render`` adds what the layout
needs to the context: ``user`` (the logged-in ``Account`` or None), ``csrf_token`` (the
session's token, for ``csrf_field()``), ``nav`` (the menu entries the user's role may see)
and ``current_path``. Autoescaping is on for ``.html`` templates: never mark user text safe.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web
from pydantic import ValidationError

from svi_acd.accounts.roles import Permission
from svi_acd.web.schemas import french_errors
from svi_acd.web.security import ACCOUNT, SESSION

TEMPLATES = Path(__file__).parent / "templates"
CSRF_FIELD = "csrf_token"
SERVICE_NAME = "Numéro unique – Centre de services"
SERVICE_TITLE = "Numéro unique"
SERVICE_TAGLINE = "Centre de services"
# The Marianne block: the ministry's name, on two lines. The shipped default names the State;
# a deployment names its ministry with SVI_ACD_MINISTERE (« Ministère de l'Intérieur »).
DEFAULT_MINISTRY = "République française"


@dataclass(frozen=True)
class NavEntry:
    label: str
    href: str
    permission: Permission


NAV: tuple[NavEntry, ...] = (
    NavEntry("Supervision", "/supervision", "supervision:lecture"),
    NavEntry("Message de crise", "/crise", "crise:lecture"),
    NavEntry("Journal des évènements", "/crise/journal", "crise:lecture"),
    NavEntry("Statistiques", "/statistiques", "statistiques:lecture"),
    NavEntry("Annuaire VIP", "/annuaire", "annuaire:lecture"),
    NavEntry("Comptes", "/comptes", "comptes:gestion"),
    NavEntry("Configuration", "/configuration", "configuration:lecture"),
)


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    current: bool  # the page shown is this entry or below it: aria-current="page"


def ministry_lines() -> tuple[str, str]:
    """« Ministère de l'Intérieur » → (« Ministère », « de l'Intérieur »)."""
    name = os.environ.get("SVI_ACD_MINISTERE", "").strip() or DEFAULT_MINISTRY
    first, _, rest = name.partition(" ")
    return first, rest


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html", "htm", "xml"], default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.Undefined,
)
environment.globals.update(
    service_name=SERVICE_NAME, service_title=SERVICE_TITLE, service_tagline=SERVICE_TAGLINE
)


def navigation(request: web.Request) -> list[NavLink]:
    """The menu the user may see; the longest matching entry is the current one."""
    account = request.get(ACCOUNT)
    if account is None:
        return []
    allowed = [entry for entry in NAV if account.may(entry.permission)]
    path = request.path
    matching = [e for e in allowed if path == e.href or path.startswith(e.href + "/")]
    current = max(matching, key=lambda e: len(e.href)) if matching else None
    return [NavLink(e.label, e.href, e is current) for e in allowed]


def page_context(request: web.Request) -> dict[str, Any]:
    session = request.get(SESSION)
    return {
        "user": request.get(ACCOUNT),
        "csrf_token": session.csrf_token if session is not None else "",
        "nav": navigation(request),
        "current_path": request.path,
        "ministry": ministry_lines(),
    }


def render_text(request: web.Request, template: str, **context: Any) -> str:
    return environment.get_template(template).render({**page_context(request), **context})


async def render(
    request: web.Request, template: str, status: int = 200, **context: Any
) -> web.Response:
    """The page ``template`` as an HTML response (security headers come from the middleware)."""
    return web.Response(
        text=render_text(request, template, **context),
        status=status,
        content_type="text/html",
        charset="utf-8",
    )


def sentence(message: str) -> str:
    """An error message as a sentence on a page: capital first letter (the rest unchanged)."""
    return message[:1].upper() + message[1:]


FormErrors = dict[str, str]  # field name → French message shown under the field


def form_field_error(errors: Mapping[str, str] | None, name: str) -> str | None:
    """The message to show under field ``name``, if any."""
    return (errors or {}).get(name)


def form_errors(error: ValidationError) -> FormErrors:
    """A pydantic refusal as one French message per field (the first one for each field)."""
    found: FormErrors = {}
    for item in french_errors(error):
        name = item["champ"].split(".")[0]
        found.setdefault(name, sentence(item["erreur"]) + ".")
    return found


@jinja2.pass_context
def csrf_action(context: jinja2.runtime.Context, url: str) -> str:
    """``url`` with the session's CSRF token in its query: the action of a multipart form
    (file upload), whose body the server does not read before checking the token."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{CSRF_FIELD}={quote(context.get('csrf_token', ''), safe='')}"


environment.globals["form_field_error"] = form_field_error
environment.globals["csrf_action"] = csrf_action
