"""The VIP/P0 directory in the database: replaced as a whole on each import, read as a whole.

An import replaces the directory in one transaction, so callers never meet a half-imported
directory, and leaves a line in ``vip_imports`` (who, when, which file, how many entries).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Date, DateTime, Integer, String, delete, func, insert, select
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


async def list_entries(engine: AsyncEngine, search: str | None = None) -> list[DirectoryEntry]:
    query = select(VipEntryRow).order_by(VipEntryRow.name, VipEntryRow.number, VipEntryRow.start)
    if search:
        # Bound parameters, and % or _ typed by the user are literal characters, not wildcards.
        text = search.lower()
        query = query.where(
            func.lower(VipEntryRow.name).contains(text, autoescape=True)
            | func.lower(VipEntryRow.entity).contains(text, autoescape=True)
            | VipEntryRow.number.contains(text, autoescape=True)
        )
    async with AsyncSession(engine) as session:
        rows = (await session.execute(query)).scalars().all()
    return [
        DirectoryEntry(
            number=row.number,
            name=row.name,
            entity=row.entity,
            site=row.site,
            level=row.level,  # type: ignore[arg-type]
            start=row.start,
            end=row.end,
        )
        for row in rows
    ]


async def load_directory(engine: AsyncEngine) -> VipDirectory:
    return VipDirectory(await list_entries(engine))
