"""The « journal des évènements » as users read it: the crisis messages' journal and the audit
journal (VIP directory, accounts, agents and queues) merged by time, newest first.

Each domain is read with its own permission: ``crise:lecture`` for crisis messages,
``annuaire:lecture`` for the VIP directory, ``supervision:lecture`` for agents and queues,
``comptes:gestion`` for accounts. A reader never gets a row of a domain their role may not
read: asking for one explicitly is refused (403), reading « every domain » means every domain
they may read.

Route: ``GET /api/journal`` (filters ``domaine``, ``utilisateur``, ``action``, ``incident``,
``depuis``, ``jusqu_a``, ``limite``), the JSON twin of the page ``/crise/journal``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from svi_acd.accounts.roles import Permission
from svi_acd.audit.store import ACTIONS as AUDIT_ACTIONS
from svi_acd.audit.store import DOMAINS as AUDIT_DOMAINS
from svi_acd.audit.store import AuditEntry, AuditFilter, read_audit
from svi_acd.prompts.crisis_json import journal_json
from svi_acd.prompts.crisis_store import ACTIONS as CRISIS_ACTIONS
from svi_acd.prompts.crisis_store import JOURNAL_MAX_ROWS, JournalEntry, JournalFilter
from svi_acd.web.keys import CRISIS, ENGINE
from svi_acd.web.schemas import RequestError, json_response, query
from svi_acd.web.security import ACCOUNT, requires

routes = web.RouteTableDef()

Domain = Literal["crise", "annuaire", "comptes", "acd"]
Event = JournalEntry | AuditEntry
DOMAIN_LABELS: dict[str, str] = {
    "crise": "Messages de crise",
    "annuaire": "Annuaire VIP",
    "comptes": "Comptes",
    "acd": "Agents et files",
}
DOMAIN_PERMISSIONS: dict[str, Permission] = {
    "crise": "crise:lecture",
    "annuaire": "annuaire:lecture",
    "comptes": "comptes:gestion",
    "acd": "supervision:lecture",
}
assert set(DOMAIN_LABELS) == set(DOMAIN_PERMISSIONS) == {"crise", *AUDIT_DOMAINS}
assert set(get_args(Domain)) == set(DOMAIN_LABELS)
ACTION_LABELS: dict[str, str] = {
    "creation": "Création",
    "modification": "Modification",
    "activation": "Activation",
    "desactivation": "Désactivation (retrait)",
    "import": "Import de l'annuaire",
    "ajout_entree": "Ajout d'une entrée",
    "modification_entree": "Modification d'une entrée",
    "suppression_entree": "Suppression d'une entrée",
    "creation_compte": "Création d'un compte",
    "mot_de_passe": "Changement de mot de passe",
    "changement_role": "Changement de rôle",
    "desactivation_compte": "Désactivation d'un compte",
    "reactivation_compte": "Réactivation d'un compte",
    "creation_jeton": "Création d'un jeton d'API",
    "connexion_agent": "Connexion d'un agent",
    "deconnexion_agent": "Déconnexion d'un agent",
    "pause_agent": "Pause d'un agent",
    "reprise_agent": "Fin de pause d'un agent",
    "priorite_appelant": "Priorité d'un appelant",
    "regle_debordement": "Règle de débordement",
}
ACTIONS_BY_DOMAIN: dict[str, tuple[str, ...]] = {"crise": CRISIS_ACTIONS, **AUDIT_ACTIONS}
ALL_ACTIONS = tuple(action for actions in ACTIONS_BY_DOMAIN.values() for action in actions)
assert set(ACTION_LABELS) == set(ALL_ACTIONS)


class EventQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    domaine: Domain | None = Field(
        None, description="un seul domaine (défaut : tous ceux que le rôle permet de lire)"
    )
    utilisateur: str | None = Field(None, max_length=100, description="identifiant exact")
    action: Literal[ALL_ACTIONS] | None = None  # type: ignore[valid-type]
    incident: str | None = Field(
        None, max_length=100, description="incident ou ticket (messages de crise seulement)"
    )
    depuis: AwareDatetime | None = None
    jusqu_a: AwareDatetime | None = None
    limite: int = Field(200, ge=1, le=JOURNAL_MAX_ROWS)


def readable_domains(request: web.Request) -> tuple[str, ...]:
    account = request.get(ACCOUNT)
    if account is None:
        return ()
    return tuple(d for d, permission in DOMAIN_PERMISSIONS.items() if account.may(permission))


@dataclass(frozen=True)
class Selection:
    """What to read, within what the reader may read."""

    domains: tuple[str, ...]
    actor: str | None = None
    action: str | None = None
    incident: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200

    @classmethod
    def of(cls, request: web.Request, q: EventQuery) -> Selection:
        readable = readable_domains(request)
        if q.domaine is not None and q.domaine not in readable:
            raise RequestError(
                f"votre rôle ne permet pas de lire le journal « {DOMAIN_LABELS[q.domaine]} ».",
                403,
                champs=[
                    {"champ": "domaine", "erreur": "votre rôle ne permet pas de lire ce domaine"}
                ],
            )
        return cls(
            domains=(q.domaine,) if q.domaine else readable,
            actor=q.utilisateur, action=q.action, incident=q.incident,
            since=q.depuis, until=q.jusqu_a, limit=q.limite,
        )  # fmt: skip

    def crisis_filter(self) -> JournalFilter | None:
        if "crise" not in self.domains or (self.action and self.action not in CRISIS_ACTIONS):
            return None
        return JournalFilter(
            actor=self.actor, action=self.action, incident=self.incident,
            since=self.since, until=self.until, limit=self.limit,
        )  # fmt: skip

    def audit_filter(self) -> AuditFilter | None:
        if self.incident:  # only crisis messages name an incident
            return None
        domains = tuple(
            d for d in self.domains
            if d in AUDIT_ACTIONS and (not self.action or self.action in AUDIT_ACTIONS[d])
        )  # fmt: skip
        if not domains:
            return None
        return AuditFilter(domains, self.actor, self.action, self.since, self.until, self.limit)


async def read_events(request: web.Request, selection: Selection) -> list[Event]:
    """Both journals, newest first, at most ``selection.limit`` rows."""
    crisis_rows: list[JournalEntry] = []
    audit_rows: list[AuditEntry] = []
    if (crisis_filter := selection.crisis_filter()) is not None:
        crisis_rows = await request.app[CRISIS].journal(crisis_filter)
    engine = request.app[ENGINE]
    if (audit_filter := selection.audit_filter()) is not None and engine is not None:
        audit_rows = await read_audit(engine, audit_filter)
    both: Iterable[Event] = heapq.merge(
        crisis_rows, audit_rows, key=lambda event: event.at, reverse=True
    )
    return list(both)[: selection.limit]


def domain_of(event: Event) -> str:
    return event.domain if isinstance(event, AuditEntry) else "crise"


def event_json(event: Event) -> dict[str, Any]:
    if isinstance(event, AuditEntry):
        return {
            "domaine": event.domain, "id": event.id, "date": event.at.isoformat(),
            "utilisateur": event.actor, "action": event.action, "objet": event.subject,
            "detail": event.detail,
        }  # fmt: skip
    subject = f"message n° {event.message_id}" if event.message_id is not None else ""
    return {"domaine": "crise", **journal_json(event), "objet": subject}


@routes.get("/api/journal")
@requires("crise:lecture")
async def event_journal(request: web.Request) -> web.Response:
    selection = Selection.of(request, query(request, EventQuery))
    events = await read_events(request, selection)
    return json_response({"evenements": [event_json(event) for event in events]})
