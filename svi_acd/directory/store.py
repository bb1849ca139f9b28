"""The VIP/P0 directory in the database: replaced as a whole on each import, read as a whole.

An import replaces the directory in one transaction, so callers never meet a half-imported
directory, and leaves a line in ``vip_imports`` (who, when, which file, how many entries).
The admin page also adds, changes or removes one entry at a time (``save_entry``,
``delete_entry``); the service re-reads the directory periodically either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Date, DateTime, Integer, String, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from svi_acd.db.base import Base
from svi_acd.routing.directory import DirectoryEntry, VipDirectory


class VipEntryRow(Base):
    __tablename__ = "vip_directory"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    entity: Mapped[str] = mapped_column(String(200), default="")
    site: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(3))
    start: Mapped[date | None] = mapped_column(Date, nullable=True)
    end: Mapped[date | None] = mapped_column(Date, nullable=True)


class VipImportRow(Base):
    __tablename__ = "vip_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(300))
    entries: Mapped[int] = mapped_column(Integer)


def _row(entry: DirectoryEntry) -> dict[str, object]:
    return {
        "number": entry.number,
        "name": entry.name,
        "entity": entry.entity,
        "site": entry.site,
        "level": entry.level,
        "start": entry.start,
        "end": entry.end,
    }


async def replace_directory(
    engine: AsyncEngine, entries: list[DirectoryEntry], *, source: str, imported_by: str
) -> None:
    async with engine.begin() as connection:
        await connection.execute(delete(VipEntryRow))
        if entries:
            await connection.execute(insert(VipEntryRow), [_row(entry) for entry in entries])
        await connection.execute(
            insert(VipImportRow).values(
                imported_at=datetime.now(UTC),
                imported_by=imported_by,
                source=source,
                entries=len(entries),
            )
        )


@dataclass(frozen=True)
class StoredEntry:
    """An entry and its row id, for the pages that edit one entry."""

    id: int
    entry: DirectoryEntry


@dataclass(frozen=True)
class ImportRecord:
    imported_at: datetime
    imported_by: str
    source: str
    entries: int


def _entry_of(row: VipEntryRow) -> DirectoryEntry:
    return DirectoryEntry(
        number=row.number,
        name=row.name,
        entity=row.entity,
        site=row.site,
        level=row.level,  # type: ignore[arg-type]
        start=row.start,
        end=row.end,
    )


async def list_stored(
    engine: AsyncEngine, search: str | None = None, limit: int | None = None
) -> list[StoredEntry]:
    query = select(VipEntryRow).order_by(
        VipEntryRow.name, VipEntryRow.number, VipEntryRow.start, VipEntryRow.id
    )
    if search:
        # Bound parameters, and % or _ typed by the user are literal characters, not wildcards.
        text = search.lower()
        query = query.where(
            func.lower(VipEntryRow.name).contains(text, autoescape=True)
            | func.lower(VipEntryRow.entity).contains(text, autoescape=True)
            | VipEntryRow.number.contains(text, autoescape=True)
        )
    if limit is not None:
        query = query.limit(limit)
    async with AsyncSession(engine) as session:
        rows = (await session.execute(query)).scalars().all()
    return [StoredEntry(row.id, _entry_of(row)) for row in rows]


async def list_entries(engine: AsyncEngine, search: str | None = None) -> list[DirectoryEntry]:
    return [stored.entry for stored in await list_stored(engine, search)]


async def count_entries(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count(VipEntryRow.id))) or 0)


async def get_entry(engine: AsyncEngine, entry_id: int) -> StoredEntry | None:
    async with AsyncSession(engine) as session:
        row = await session.get(VipEntryRow, entry_id)
        return StoredEntry(row.id, _entry_of(row)) if row is not None else None


async def entries_for_number(engine: AsyncEngine, number: str) -> list[StoredEntry]:
    query = select(VipEntryRow).where(VipEntryRow.number == number).order_by(VipEntryRow.id)
    async with AsyncSession(engine) as session:
        rows = (await session.execute(query)).scalars().all()
    return [StoredEntry(row.id, _entry_of(row)) for row in rows]


async def save_entry(
    engine: AsyncEngine, entry: DirectoryEntry, entry_id: int | None = None
) -> int:
    """Add an entry (``entry_id`` None) or replace one; its id (0: no such entry)."""
    async with engine.begin() as connection:
        if entry_id is None:
            result = await connection.execute(insert(VipEntryRow).values(**_row(entry)))
            [new_id] = result.inserted_primary_key or (0,)
            return int(new_id)
        result = await connection.execute(
            update(VipEntryRow).where(VipEntryRow.id == entry_id).values(**_row(entry))
        )
        return entry_id if result.rowcount == 1 else 0


async def delete_entry(engine: AsyncEngine, entry_id: int) -> bool:
    async with engine.begin() as connection:
        result = await connection.execute(delete(VipEntryRow).where(VipEntryRow.id == entry_id))
        return result.rowcount == 1


async def last_import(engine: AsyncEngine) -> ImportRecord | None:
    query = select(VipImportRow).order_by(VipImportRow.id.desc()).limit(1)
    async with AsyncSession(engine) as session:
        row = (await session.execute(query)).scalars().first()
    if row is None:
        return None
    at = row.imported_at if row.imported_at.tzinfo else row.imported_at.replace(tzinfo=UTC)
    return ImportRecord(at, row.imported_by, row.source, row.entries)


async def load_directory(engine: AsyncEngine) -> VipDirectory:
    return VipDirectory(await list_entries(engine))
