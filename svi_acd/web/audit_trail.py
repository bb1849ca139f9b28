"""Pages write the changes their users make to the audit journal through ``record_by_user``:
the acting user and the app's clock, never chosen by the handler."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.audit.store import Change, record_change
from svi_acd.web.keys import CRISIS
from svi_acd.web.security import acting_user


async def record_by_user(request: web.Request, engine: AsyncEngine, change: Change) -> None:
    at = request.app[CRISIS].clock()
    await record_change(engine, acting_user(request), change, at=at)
