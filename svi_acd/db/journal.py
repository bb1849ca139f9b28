"""What the append-only journals (crisis messages, audit) share: instants and filters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select

Query = TypeVar("Query", bound=Select[Any])


def utc(moment: datetime) -> datetime:
    """SQLite keeps no zone and hands back naive values: every instant is written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def narrowed(
    query: Query,
    table: Any,
    *,
    actor: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    max_rows: int,
) -> Query:
    """``query`` on a journal ``table`` (columns actor, action, at) with the usual filters;
    every value is a bound parameter."""
    if actor:
        query = query.where(table.actor == actor)
    if action:
        query = query.where(table.action == action)
    if since is not None:
        query = query.where(table.at >= utc(since))
    if until is not None:
        query = query.where(table.at < utc(until))
    return query.limit(max(1, min(limit, max_rows)))
