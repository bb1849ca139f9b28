"""Crisis messages in the database: each change updates the message and appends to the journal
in one transaction, so the journal explains every state the line has been in.

Modifications are optimistic: they name the version they start from and fail with « conflit »
when someone else changed the message meanwhile. Switching on/off is conditional on the
current state, so two instances reacting to the same surge journal one activation, not two.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from svi_acd.db.journal import narrowed
from svi_acd.db.journal import utc as journal_utc
from svi_acd.prompts.crisis_errors import CrisisError
from svi_acd.prompts.crisis_tables import CrisisEventRow, CrisisMessageRow
from svi_acd.routing.crisis import CrisisMessage, CrisisSnapshot, Mode, Scope

ACTIONS = ("creation", "modification", "activation", "desactivation")
JOURNAL_MAX_ROWS = 1000


def utc(moment: datetime | None) -> datetime | None:
    """Every instant is written in UTC (``None`` stays ``None``)."""
    return None if moment is None else journal_utc(moment)


@dataclass(frozen=True)
class MessageContent:
    """Everything a supervisor decides about a message, and the audio published for it."""

    label: str
    source: str  # texte | fichier
    mode: Mode
    sound: str  # published file stem (sound-folder relative)
    duration_s: float
    scope: Scope = field(default_factory=Scope)
    text: str | None = None
    recording: str | None = None  # converted upload, re-rendered when the mode changes
    recording_name: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    portal_pointer: bool = False
    incident: str | None = None

    def columns(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "source": self.source,
            "text": self.text,
            "recording": self.recording,
            "recording_name": self.recording_name,
            "mode": self.mode,
            "scope_kind": self.scope.kind,
            "scope_values": ",".join(self.scope.values),
            "starts_at": utc(self.start),
            "ends_at": utc(self.end),
            "sound": self.sound,
            "duration_s": self.duration_s,
            "portal_pointer": self.portal_pointer,
            "incident": self.incident,
        }


@dataclass(frozen=True)
class StoredMessage:
    id: int
    content: MessageContent
    active: bool
    version: int
    origin: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    def routing(self) -> CrisisMessage:
        c = self.content
        return CrisisMessage(
            id=self.id,
            mode=c.mode,
            sound=c.sound,
            scope=c.scope,
            active=self.active,
            start=c.start,
            end=c.end,
            version=self.version,
        )


@dataclass(frozen=True)
class JournalEntry:
    """One line of the « journal des évènements »: who did what, when, and the result."""

    id: int
    at: datetime
    actor: str
    action: str
    message_id: int | None
    version: int | None
    active: bool | None
    content: MessageContent | None
    detail: str


@dataclass(frozen=True)
class JournalFilter:
    message_id: int | None = None
    actor: str | None = None
    action: str | None = None
    incident: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200


def _scope(kind: str | None, values: str | None) -> Scope:
    return Scope(kind, tuple(v for v in (values or "").split(",") if v))  # type: ignore[arg-type]


def _content(row: Any) -> MessageContent:
    return MessageContent(
        label=row.label,
        source=row.source,
        mode=row.mode,
        sound=row.sound,
        duration_s=getattr(row, "duration_s", 0.0) or 0.0,
        scope=_scope(row.scope_kind, row.scope_values),
        text=row.text,
        recording=getattr(row, "recording", None),
        recording_name=getattr(row, "recording_name", None),
        start=utc(row.starts_at),
        end=utc(row.ends_at),
        portal_pointer=bool(getattr(row, "portal_pointer", False)),
        incident=row.incident,
    )


def _message(row: CrisisMessageRow) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        content=_content(row),
        active=row.active,
        version=row.version,
        origin=row.origin,
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        created_by=row.created_by,
        updated_at=utc(row.updated_at),  # type: ignore[arg-type]
        updated_by=row.updated_by,
    )


def _entry(row: CrisisEventRow) -> JournalEntry:
    content = _content(row) if row.mode is not None else None
    return JournalEntry(
        id=row.id,
        at=utc(row.at),  # type: ignore[arg-type]
        actor=row.actor,
        action=row.action,
        message_id=row.message_id,
        version=row.version,
        active=row.active,
        content=content,
        detail=row.detail,
    )


async def _fetch(connection: AsyncConnection, message_id: int) -> StoredMessage | None:
    result = await connection.execute(
        select(CrisisMessageRow.__table__).where(CrisisMessageRow.id == message_id)
    )
    row = result.one_or_none()
    return _message(row) if row is not None else None  # type: ignore[arg-type]


async def _journal(
    connection: AsyncConnection, message: StoredMessage, action: str, actor: str, at: datetime,
    detail: str,
) -> None:  # fmt: skip
    columns = message.content.columns()
    for key in ("recording", "recording_name", "duration_s", "portal_pointer"):
        columns.pop(key)
    await connection.execute(
        insert(CrisisEventRow).values(
            at=utc(at),
            actor=actor,
            action=action,
            message_id=message.id,
            version=message.version,
            active=message.active,
            detail=detail,
            **columns,
        )
    )


def _not_found(message_id: int) -> CrisisError:
    return CrisisError(f"message de crise {message_id} introuvable", "introuvable")


async def insert_message(
    engine: AsyncEngine, content: MessageContent, publish: Callable[[int], Awaitable[str]], *,
    active: bool, actor: str, at: datetime, origin: str = "humain", detail: str = "",
) -> StoredMessage:  # fmt: skip
    """Insert, let ``publish(id)`` write the audio file under the new id (returns its stem),
    record the stem and journal the creation, all in one transaction."""
    async with engine.begin() as connection:
        result = await connection.execute(
            insert(CrisisMessageRow).values(
                active=active,
                version=1,
                origin=origin,
                created_at=utc(at),
                created_by=actor,
                updated_at=utc(at),
                updated_by=actor,
                **content.columns(),
            )
        )
        [message_id] = result.inserted_primary_key or (None,)
        sound = await publish(int(message_id))
        await connection.execute(
            update(CrisisMessageRow).where(CrisisMessageRow.id == message_id).values(sound=sound)
        )
        message = await _fetch(connection, int(message_id))
        assert message is not None
        await _journal(connection, message, "creation", actor, at, detail)
    return message


async def update_message(
    engine: AsyncEngine, message_id: int, expected_version: int, content: MessageContent, *,
    actor: str, at: datetime, detail: str = "",
) -> StoredMessage:  # fmt: skip
    async with engine.begin() as connection:
        result = await connection.execute(
            update(CrisisMessageRow)
            .where(CrisisMessageRow.id == message_id)
            .where(CrisisMessageRow.version == expected_version)
            .values(
                version=expected_version + 1,
                updated_at=utc(at),
                updated_by=actor,
                **content.columns(),
            )
        )
        message = await _fetch(connection, message_id)
        if message is None:
            raise _not_found(message_id)
        if result.rowcount != 1:
            raise CrisisError(
                f"le message {message_id} a été modifié entre-temps (version {message.version}) :"
                " rechargez-le puis recommencez.",
                "conflit",
                version=message.version,
            )
        await _journal(connection, message, "modification", actor, at, detail)
    return message


async def switch_message(
    engine: AsyncEngine, message_id: int, active: bool, *, actor: str, at: datetime,
    detail: str = "",
) -> tuple[StoredMessage, bool]:  # fmt: skip
    """Switch a message on or off; False (and no journal line) when it already was."""
    async with engine.begin() as connection:
        result = await connection.execute(
            update(CrisisMessageRow)
            .where(CrisisMessageRow.id == message_id)
            .where(CrisisMessageRow.active.is_not(active))
            .values(active=active, updated_at=utc(at), updated_by=actor)
        )
        message = await _fetch(connection, message_id)
        if message is None:
            raise _not_found(message_id)
        changed = result.rowcount == 1
        if changed:
            action = "activation" if active else "desactivation"
            await _journal(connection, message, action, actor, at, detail)
    return message, changed


async def get_message(engine: AsyncEngine, message_id: int) -> StoredMessage:
    async with engine.connect() as connection:
        message = await _fetch(connection, message_id)
    if message is None:
        raise _not_found(message_id)
    return message


async def list_messages(engine: AsyncEngine, origin: str | None = None) -> list[StoredMessage]:
    query = select(CrisisMessageRow.__table__).order_by(CrisisMessageRow.id)
    if origin is not None:
        query = query.where(CrisisMessageRow.origin == origin)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [_message(row) for row in rows]  # type: ignore[arg-type]


async def current_revision(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        value = await connection.scalar(select(func.max(CrisisEventRow.id)))
    return int(value or 0)


async def load_snapshot(engine: AsyncEngine) -> CrisisSnapshot:
    """The messages switched on, labelled with the journal revision read first (so the
    snapshot is at least as new as its label; a later reload catches up)."""
    async with engine.connect() as connection:
        revision = await connection.scalar(select(func.max(CrisisEventRow.id)))
        rows = (
            await connection.execute(
                select(CrisisMessageRow.__table__)
                .where(CrisisMessageRow.active.is_(True))
                .order_by(CrisisMessageRow.id)
            )
        ).all()
    messages = tuple(_message(row).routing() for row in rows)  # type: ignore[arg-type]
    return CrisisSnapshot(int(revision or 0), messages)


async def read_journal(engine: AsyncEngine, where: JournalFilter) -> list[JournalEntry]:
    """Newest first; every filter is a bound parameter."""
    query = select(CrisisEventRow.__table__).order_by(CrisisEventRow.id.desc())
    if where.message_id is not None:
        query = query.where(CrisisEventRow.message_id == where.message_id)
    if where.incident:
        query = query.where(CrisisEventRow.incident == where.incident)
    query = narrowed(
        query, CrisisEventRow, actor=where.actor, action=where.action, since=where.since,
        until=where.until, limit=where.limit, max_rows=JOURNAL_MAX_ROWS,
    )  # fmt: skip
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [_entry(row) for row in rows]  # type: ignore[arg-type]


def with_content(message: StoredMessage, **changes: Any) -> MessageContent:
    return replace(message.content, **changes)
