"""« Journal des évènements » (``/crise/journal``): every change of the crisis messages, the VIP
directory, the accounts and the agents and queues, who made it and when, with filters and a
CSV export of exactly the rows the filters select. Each reader sees the domains their role may
read (``event_journal``).

Routes:

- ``GET /crise/journal``: filters ``domaine``, ``du`` / ``au`` (days, Paris time, both
  included), ``utilisateur``, ``action``, ``incident``, ``recherche`` (words in the title,
  text, subject, detail, user or incident), then the table, newest first;
- ``GET /crise/journal.csv``: the same filters, as CSV (``;``, French headers, UTF-8 with BOM
  so that Excel reads the accents).

The database filters on domain, dates, user, action and incident (bound parameters, validated
by the JSON API's ``EventQuery``); the words of ``recherche`` are looked for in the rows it
returns (at most ``JOURNAL_MAX_ROWS``, newest first).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from svi_acd.audit.store import AuditEntry
from svi_acd.prompts.crisis_store import JOURNAL_MAX_ROWS, JournalEntry
from svi_acd.stats.export import Column, Table, to_csv
from svi_acd.web.crisis_pages import MODE_LABELS, PARIS, paris_text, sentence
from svi_acd.web.event_journal import (
    ACTION_LABELS,
    ACTIONS_BY_DOMAIN,
    DOMAIN_LABELS,
    Event,
    EventQuery,
    Selection,
    read_events,
    readable_domains,
)
from svi_acd.web.keys import CRISIS
from svi_acd.web.pages import render
from svi_acd.web.schemas import RequestError, validated
from svi_acd.web.security import requires

routes = web.RouteTableDef()

PAGE_ROWS = 200
SEARCH_MAX = 200
CSV_COLUMNS = [
    Column("date", "Date (heure de Paris)", "text"),
    Column("utilisateur", "Utilisateur", "text"),
    Column("action", "Action", "text"),
    Column("message", "Message n°", "text"),
    Column("version", "Version", "text"),
    Column("actif", "Diffusé après l'action", "text"),
    Column("titre", "Titre", "text"),
    Column("texte", "Texte", "text"),
    Column("mode", "Mode", "text"),
    Column("portee", "Portée", "text"),
    Column("debut", "Début", "text"),
    Column("fin", "Fin", "text"),
    Column("incident", "Incident ou ticket", "text"),
    Column("detail", "Détail", "text"),
    Column("domaine", "Domaine", "text"),
    Column("objet", "Objet", "text"),
]
FILTER_FIELDS = ("domaine", "du", "au", "utilisateur", "action", "incident", "recherche")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class JournalForm:
    """The filters as typed (kept as they are when one is refused)."""

    domaine: str = ""
    du: str = ""
    au: str = ""
    utilisateur: str = ""
    action: str = ""
    incident: str = ""
    recherche: str = ""

    @classmethod
    def from_query(cls, request: web.Request) -> JournalForm:
        q = request.query
        return cls(**{name: q.get(name, "").strip() for name in cls.__dataclass_fields__})

    def query_string(self) -> str:
        return urlencode({k: v for k, v in vars(self).items() if v})

    def where(self, request: web.Request) -> Selection:
        """What to read (``RequestError`` with French messages by field)."""
        start = _day(self.du, "du")
        end = _day(self.au, "au")
        if start and end and end < start:
            raise RequestError(
                "la date de fin précède la date de début.",
                champs=[{"champ": "au", "erreur": "la date de fin précède la date de début"}],
            )
        if len(self.recherche) > SEARCH_MAX:
            message = f"{SEARCH_MAX} caractères au plus"
            raise RequestError(message, champs=[{"champ": "recherche", "erreur": message}])
        since = datetime.combine(start, time(0), PARIS) if start else None
        until = datetime.combine(end + timedelta(days=1), time(0), PARIS) if end else None
        q = validated(
            EventQuery,
            {"domaine": self.domaine or None, "utilisateur": self.utilisateur or None,
             "action": self.action or None, "incident": self.incident or None,
             "depuis": since, "jusqu_a": until, "limite": JOURNAL_MAX_ROWS},
        )  # fmt: skip
        return Selection.of(request, q)


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        message = f"date invalide « {value} » (AAAA-MM-JJ)"
        raise RequestError(message, champs=[{"champ": name, "erreur": message}]) from exc


def _folded(text: str) -> str:
    """Lower case without accents: « Désactivation » matches « desactivation »."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _matches(event: Event, words: list[str]) -> bool:
    parts = [event.actor, event.detail, ACTION_LABELS.get(event.action, event.action)]
    if isinstance(event, AuditEntry):
        parts += [event.subject, DOMAIN_LABELS[event.domain]]
    elif (content := event.content) is not None:
        parts += [content.label, content.text or "", content.incident or ""]
    folded = _folded(" ".join(parts))
    return all(word in folded for word in words)


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    """One audit line with the same keys as a crisis line (its own columns left empty)."""
    return {
        **dict.fromkeys((c.key for c in CSV_COLUMNS), ""),
        "id": entry.id,
        "date": paris_text(entry.at, seconds=True),
        "utilisateur": entry.actor,
        "action": ACTION_LABELS.get(entry.action, entry.action),
        "action_code": entry.action,
        "detail": entry.detail,
        "domaine": DOMAIN_LABELS[entry.domain],
        "domaine_code": entry.domain,
        "objet": entry.subject,
    }


def event_view(event: Event) -> dict[str, Any]:
    return audit_view(event) if isinstance(event, AuditEntry) else entry_view(event)


def entry_view(entry: JournalEntry) -> dict[str, Any]:
    """One crisis journal line as the page and the CSV show it."""
    c = entry.content
    return {
        "id": entry.id,
        "date": paris_text(entry.at, seconds=True),
        "utilisateur": entry.actor,
        "action": ACTION_LABELS.get(entry.action, entry.action),
        "action_code": entry.action,
        "message": str(entry.message_id) if entry.message_id is not None else "",
        "version": str(entry.version) if entry.version is not None else "",
        "actif": "" if entry.active is None else ("oui" if entry.active else "non"),
        "titre": c.label if c else "",
        "texte": (c.text or f"enregistrement « {c.recording_name or c.recording or ''} »")
        if c
        else "",
        "mode": MODE_LABELS.get(c.mode, c.mode) if c else "",
        "portee": c.scope.describe() if c else "",
        "debut": paris_text(c.start) if c else "",
        "fin": paris_text(c.end) if c else "",
        "incident": (c.incident or "") if c else "",
        "detail": entry.detail,
        "domaine": DOMAIN_LABELS["crise"],
        "domaine_code": "crise",
        "objet": f"message n° {entry.message_id}" if entry.message_id is not None else "",
    }


async def selected_rows(request: web.Request, form: JournalForm) -> list[dict[str, Any]]:
    events = await read_events(request, form.where(request))
    words = _folded(form.recherche).split()
    return [event_view(event) for event in events if not words or _matches(event, words)]


def filter_choices(request: web.Request) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The domains this reader may read, and their actions (« Création (messages de crise) »)."""
    domains = readable_domains(request)
    actions = [
        (action, f"{ACTION_LABELS[action]} ({DOMAIN_LABELS[domain].lower()})")
        for domain in domains
        for action in ACTIONS_BY_DOMAIN[domain]
    ]
    return [(domain, DOMAIN_LABELS[domain]) for domain in domains], actions


@routes.get("/crise/journal")
@requires("crise:lecture")
async def journal_page(request: web.Request) -> web.Response:
    form = JournalForm.from_query(request)
    domains, actions = filter_choices(request)
    context: dict[str, Any] = {
        "form": form,
        "domains": domains,
        "actions": actions,
        "errors": {},
        "rows": [],
        "total": 0,
        "export": "/crise/journal.csv" + (f"?{form.query_string()}" if form.query_string() else ""),
        "page_rows": PAGE_ROWS,
        "max_rows": JOURNAL_MAX_ROWS,
    }
    try:
        rows = await selected_rows(request, form)
    except RequestError as exc:
        context["errors"] = {name: sentence(text) for name, text in _journal_errors(exc).items()}
        return await render(request, "journal.html", status=exc.status, **context)
    context.update(rows=rows[:PAGE_ROWS], total=len(rows))
    return await render(request, "journal.html", **context)


def _journal_errors(exc: RequestError) -> dict[str, str]:
    """Errors by filter field (the API model's names mapped back to the page's)."""
    names = {"depuis": "du", "jusqu_a": "au"}
    found: dict[str, str] = {}
    listed = exc.details.get("champs")
    for item in listed if isinstance(listed, list) else []:
        field = str(item.get("champ", "")).split(".")[0]
        name = names.get(field, field if field in FILTER_FIELDS else "recherche")
        found.setdefault(name, str(item.get("erreur", "")))
    return found or {"recherche": exc.message}


def csv_safe(value: str) -> str:
    """A cell Excel will not run as a formula (user text starting with =, +, -, @)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


@routes.get("/crise/journal.csv")
@requires("crise:lecture")
async def journal_csv(request: web.Request) -> web.Response:
    form = JournalForm.from_query(request)
    try:
        rows = await selected_rows(request, form)
    except RequestError as exc:
        message = "; ".join(f"{k} : {v}" for k, v in _journal_errors(exc).items())
        if exc.status == 403:
            raise web.HTTPForbidden(text=f"Filtres refusés : {message}") from exc
        raise web.HTTPUnprocessableEntity(text=f"Filtres invalides : {message}") from exc
    safe = [{key: csv_safe(str(value)) for key, value in row.items()} for row in rows]
    text = to_csv(Table("Journal des évènements", CSV_COLUMNS, safe))
    day = request.app[CRISIS].clock().astimezone(PARIS).strftime("%Y-%m-%d")
    return web.Response(
        body=text.encode("utf-8-sig"),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="journal-evenements-{day}.csv"',
            "Cache-Control": "no-store",
        },
    )
