"""Typed keys of the objects the web handlers reach through ``request.app``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.acd.control import AcdControl
from svi_acd.config.model import Settings
from svi_acd.prompts.crisis import CrisisMessages
from svi_acd.prompts.surge import SurgeMonitor

SETTINGS = web.AppKey("settings", Settings)
CRISIS = web.AppKey("crisis", CrisisMessages)
SURGE = web.AppKey("surge", SurgeMonitor | None)  # type: ignore[arg-type]
HEALTH = web.AppKey("health", Callable[[], dict[str, Any]])  # type: ignore[arg-type]
ENGINE = web.AppKey("engine", AsyncEngine | None)  # type: ignore[arg-type]
ACD = web.AppKey("acd", AcdControl | None)  # type: ignore[arg-type]
