"""Statistics tables: calls, agents' pauses, hourly rollups, import checkpoints, ITSM tickets.

``stats_calls`` holds the outcome of every call known to the journal (one row per Asterisk
uniqueid). Reports read ``stats_hourly``, a rollup per local hour and per dimension value
computed in SQL from ``stats_calls``; the period columns (``hour_start``, ``day``, ``week``,
``month``) are those of the call's first event in Europe/Paris time.

``caller`` is personal data (needed for the list of abandoned calls to ring back): it is the
only column holding it, so the retention job blanks it without touching the figures.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from svi_acd.db.base import Base


class StatsCall(Base):
    __tablename__ = "stats_calls"
    __table_args__ = (
        Index("ix_stats_calls_hour_start", "hour_start"),
        Index("ix_stats_calls_outcome_hour_start", "outcome", "hour_start"),
        Index("ix_stats_calls_ticket", "ticket"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callid: Mapped[str] = mapped_column(String(64), unique=True)
    first_epoch: Mapped[int] = mapped_column(BigInteger)
    last_epoch: Mapped[int] = mapped_column(BigInteger)
    hour_start: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[date] = mapped_column(Date)
    week: Mapped[str] = mapped_column(String(8))
    month: Mapped[str] = mapped_column(String(7))
    category: Mapped[str] = mapped_column(String(16))
    flags: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[bool] = mapped_column(Boolean, default=False)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)
    queue: Mapped[str | None] = mapped_column(String(80), nullable=True)
    agent: Mapped[str | None] = mapped_column(String(80), nullable=True)
    wait_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    talk_s: Mapped[int] = mapped_column(Integer, default=0)
    ring_no_answer: Mapped[int] = mapped_column(Integer, default=0)
    transferred: Mapped[bool] = mapped_column(Boolean, default=False)
    caller: Mapped[str | None] = mapped_column(String(40), nullable=True)
    territory: Mapped[str | None] = mapped_column(String(4), nullable=True)
    priority: Mapped[str | None] = mapped_column(String(3), nullable=True)
    branch: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ticket: Mapped[str | None] = mapped_column(String(64), nullable=True)
    parent_ticket: Mapped[str | None] = mapped_column(String(64), nullable=True)
    overflow_rule: Mapped[str | None] = mapped_column(String(64), nullable=True)


class StatsMissedRing(Base):
    """One row per RINGNOANSWER: an agent's phone rang and nobody picked up."""

    __tablename__ = "stats_missed_rings"
    __table_args__ = (Index("ix_stats_missed_rings_hour_start", "hour_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callid: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str] = mapped_column(String(80))
    queue: Mapped[str] = mapped_column(String(80))
    epoch: Mapped[int] = mapped_column(BigInteger)
    hour_start: Mapped[int] = mapped_column(BigInteger)
    ring_ms: Mapped[int] = mapped_column(Integer, default=0)


# The counters of a rollup row, in the order of ``measures.MEASURES``.
HOURLY_MEASURES = (
    "received",
    "closed",
    "territory_closed",
    "deterred",
    "callback",
    "overflow",
    "queued",
    "other",
    "queue_calls",
    "answered",
    "abandoned",
    "short_abandoned",
    "timeout",
    "exit_empty",
    "exit_key",
    "withdrawn",
    "in_queue",
    "answered_in_sl",
    "wait_answered_s",
    "talk_s",
    "max_wait_s",
    "transferred",
    "vip",
)


class StatsAgentPause(Base):
    """One pause of an agent in one queue, from PAUSE to UNPAUSE or REMOVEMEMBER.

    ``end_epoch`` and ``duration_s`` stay null while the pause is open (its end not yet in the
    journal); a later import closes it. ``day`` is the Paris day of its start, as reported.
    """

    __tablename__ = "stats_agent_pauses"
    __table_args__ = (
        Index("ix_stats_agent_pauses_start_epoch", "start_epoch"),
        Index("ix_stats_agent_pauses_end_epoch", "end_epoch"),  # open pauses: end_epoch null
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent: Mapped[str] = mapped_column(String(80))
    queue: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(80))
    start_epoch: Mapped[int] = mapped_column(BigInteger)
    end_epoch: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    duration_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    day: Mapped[date] = mapped_column(Date)


class StatsHourly(Base):
    """Rollup: the measures of the calls that started in one local hour, per dimension value.

    ``dimension`` is ``all`` (value ``''``), ``queue``, ``agent``, ``territory``, ``vip`` or
    ``branch``; a call without a value for the dimension is counted under ``''``.
    """

    __tablename__ = "stats_hourly"
    __table_args__ = (
        PrimaryKeyConstraint("hour_start", "dimension", "value"),
        Index("ix_stats_hourly_dimension_hour_start", "dimension", "hour_start"),
    )

    hour_start: Mapped[int] = mapped_column(BigInteger)
    dimension: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(80))
    day: Mapped[date] = mapped_column(Date)
    week: Mapped[str] = mapped_column(String(8))
    month: Mapped[str] = mapped_column(String(7))
    received: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    territory_closed: Mapped[int] = mapped_column(Integer, default=0)
    deterred: Mapped[int] = mapped_column(Integer, default=0)
    callback: Mapped[int] = mapped_column(Integer, default=0)
    overflow: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    other: Mapped[int] = mapped_column(Integer, default=0)
    queue_calls: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    short_abandoned: Mapped[int] = mapped_column(Integer, default=0)
    timeout: Mapped[int] = mapped_column(Integer, default=0)
    exit_empty: Mapped[int] = mapped_column(Integer, default=0)
    exit_key: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    in_queue: Mapped[int] = mapped_column(Integer, default=0)
    answered_in_sl: Mapped[int] = mapped_column(Integer, default=0)
    wait_answered_s: Mapped[int] = mapped_column(BigInteger, default=0)
    talk_s: Mapped[int] = mapped_column(BigInteger, default=0)
    max_wait_s: Mapped[int] = mapped_column(Integer, default=0)
    transferred: Mapped[int] = mapped_column(Integer, default=0)
    vip: Mapped[int] = mapped_column(Integer, default=0)


class StatsRollupSettings(Base):
    """The thresholds ``stats_hourly`` was computed with (a single row, id 1)."""

    __tablename__ = "stats_rollup_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    short_abandon_s: Mapped[int] = mapped_column(Integer)
    service_level_s: Mapped[int] = mapped_column(Integer)


class StatsSource(Base):
    """Import checkpoint of one queue_log file, identified by the hash of its first line.

    A rotated file keeps its first line, so it is recognised under its new name and resumed
    where the import stopped; a new file after rotation has another first line.
    """

    __tablename__ = "stats_sources"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(500))
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    lines: Mapped[int] = mapped_column(BigInteger, default=0)
    malformed: Mapped[int] = mapped_column(Integer, default=0)
    first_epoch: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StatsTicket(Base):
    """A ticket opened in the ITSM (Matrix42 or a CSV export), for tickets-per-month figures."""

    __tablename__ = "stats_tickets"
    __table_args__ = (Index("ix_stats_tickets_month", "month"),)

    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    month: Mapped[str] = mapped_column(String(7))
    parent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(20))


class StatsMonthlyHistory(Base):
    """Monthly figures from before the journal (the desk's reference table)."""

    __tablename__ = "stats_monthly_history"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    presented: Mapped[int | None] = mapped_column(Integer, nullable=True)
    served: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tickets_opened: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(300))
