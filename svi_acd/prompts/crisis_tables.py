"""Crisis message tables: the messages as they stand, and the append-only event journal.

``crisis_messages`` holds one row per message, changed in place (text, scope, on/off…);
``crisis_events`` («journal des évènements») gets one row per change, with the whole message
as it became, and is never updated nor deleted: the migration installs triggers that refuse
it on SQLite and PostgreSQL. The journal's last id is the crisis state's *revision*: every
instance compares revisions to know whether its snapshot is current.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from svi_acd.db.base import Base


class CrisisMessageRow(Base):
    __tablename__ = "crisis_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(8))  # texte | fichier
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    recording: Mapped[str | None] = mapped_column(String(200), nullable=True)  # converted upload
    recording_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    mode: Mapped[str] = mapped_column(String(12))
    scope_kind: Mapped[str] = mapped_column(String(12))
    scope_values: Mapped[str] = mapped_column(String(500), default="")
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    sound: Mapped[str] = mapped_column(String(200))  # published file stem, sound-folder relative
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    portal_pointer: Mapped[bool] = mapped_column(Boolean, default=False)
    incident: Mapped[str | None] = mapped_column(String(100), nullable=True)
    origin: Mapped[str] = mapped_column(String(12), default="humain")  # humain | afflux
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(100))


class CrisisEventRow(Base):
    __tablename__ = "crisis_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str | None] = mapped_column(String(8), nullable=True)
    mode: Mapped[str | None] = mapped_column(String(12), nullable=True)
    scope_kind: Mapped[str | None] = mapped_column(String(12), nullable=True)
    scope_values: Mapped[str | None] = mapped_column(String(500), nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    active: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    sound: Mapped[str | None] = mapped_column(String(200), nullable=True)
    incident: Mapped[str | None] = mapped_column(String(100), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
