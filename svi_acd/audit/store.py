"""Writing one change to the audit journal, and reading the journal back filtered.

A row says when, who (the login, « système », or ``cli:<compte Unix>``), in which domain, what
(an action code), on what (the subject: a login, an agent interface, a directory entry…) and a
short detail. Writers never put a password, a token or a caller's full number in a row; as a
last guard, anything shaped like an API token is masked before it is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, get_args

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.audit.tables import AuditEventRow
from svi_acd.db.journal import narrowed, utc

AuditDomain = Literal["annuaire", "comptes", "acd"]
DOMAINS: tuple[AuditDomain, ...] = get_args(AuditDomain)
# The actions each domain writes (the ACD's are ``Desk``'s own codes).
ACTIONS: dict[AuditDomain, tuple[str, ...]] = {
    "annuaire": ("import", "ajout_entree", "modification_entree", "suppression_entree"),
    "comptes": (
        "creation_compte", "mot_de_passe", "changement_role", "desactivation_compte",
        "reactivation_compte", "creation_jeton",
    ),
    "acd": (
        "connexion_agent", "deconnexion_agent", "pause_agent", "reprise_agent",
        "priorite_appelant", "regle_debordement",
    ),
}  # fmt: skip
AUDIT_MAX_ROWS = 1000
ACTOR_MAX, SUBJECT_MAX, DETAIL_MAX = 100, 200, 1000
_TOKEN_SHAPE = re.compile(r"sviacd_[A-Za-z0-9_-]+")


def _cleaned(text: str, limit: int) -> str:
    return _TOKEN_SHAPE.sub("[jeton masqué]", " ".join(text.split()))[:limit]


class Change(NamedTuple):
    """What a writer says about one change, before it knows who made it and when."""

    domain: AuditDomain
    action: str
    subject: str
    detail: str = ""


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    domain: str
    action: str
    subject: str
    detail: str


@dataclass(frozen=True)
class AuditFilter:
    """Which rows to read; ``domains`` is also what the reader may see (empty: nothing)."""

    domains: tuple[str, ...] = DOMAINS
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200


async def record(
    engine: AsyncEngine, actor: str, domain: AuditDomain, action: str, subject: str,
    detail: str = "", *, at: datetime | None = None,
) -> None:  # fmt: skip
    """Append one change to the journal (its own transaction)."""
    if domain not in DOMAINS:
        raise ValueError(f"domaine du journal inconnu « {domain} »")
    async with engine.begin() as connection:
        await connection.execute(
            insert(AuditEventRow).values(
                at=utc(at or datetime.now(UTC)),
                actor=_cleaned(actor, ACTOR_MAX) or "?",
                domain=domain,
                action=action[:40],
                subject=_cleaned(subject, SUBJECT_MAX),
                detail=_cleaned(detail, DETAIL_MAX),
            )
        )


async def record_change(
    engine: AsyncEngine, actor: str, change: Change, *, at: datetime | None = None
) -> None:
    await record(engine, actor, change.domain, change.action, change.subject, change.detail, at=at)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(row.id, utc(row.at), row.actor, row.domain, row.action, row.subject,
                      row.detail)  # fmt: skip


async def read_audit(engine: AsyncEngine, where: AuditFilter) -> list[AuditEntry]:
    """Newest first; every filter is a bound parameter."""
    if not where.domains:
        return []
    table = AuditEventRow
    query = (
        select(AuditEventRow.__table__)
        .where(table.domain.in_(where.domains))
        .order_by(table.at.desc(), table.id.desc())
    )
    query = narrowed(
        query, table, actor=where.actor, action=where.action, since=where.since,
        until=where.until, limit=where.limit, max_rows=AUDIT_MAX_ROWS,
    )  # fmt: skip
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [_entry(row) for row in rows]
