"""Scheduled forgetting of caller numbers, the task the service runs beside the calls.

The erasure is the one of ``svi-acd stats forget-numbers``: numbers of calls that started
before (today in Paris − ``donnees_personnelles.conservation_numeros_jours``) are blanked,
figures untouched. The task runs it at once, then every ``interval_s``; a failure (database
down) is logged and tried again sooner, and never ends the task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.clock import Clock
from svi_acd.config.model import Settings
from svi_acd.stats.abandoned import forget_caller_numbers
from svi_acd.stats.outcome import PARIS

log = logging.getLogger(__name__)
RETRY_S = 300.0  # after a failure, try again within five minutes


def forget_before(now: datetime, retention_days: int) -> date:
    """The first Paris day whose caller numbers are kept."""
    return now.astimezone(PARIS).date() - timedelta(days=retention_days)


async def forget_numbers_once(engine: AsyncEngine, settings: Settings, clock: Clock) -> int:
    """Blank the caller numbers past the retention period; returns how many calls changed."""
    before = forget_before(clock(), settings.privacy.caller_number_retention_days)
    count = await forget_caller_numbers(engine, before)
    log.info(
        "numéros d'appelants effacés : %d appel(s) antérieur(s) au %s",
        count,
        f"{before:%d/%m/%Y}",
        extra={"erased": count, "before": before.isoformat()},
    )
    return count


async def forget_numbers_forever(
    engine: AsyncEngine,
    settings: Settings,
    clock: Clock,
    interval_s: float = 3600,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Run ``forget_numbers_once`` now and every ``interval_s``, until cancelled."""
    while True:
        try:
            await forget_numbers_once(engine, settings, clock)
            pause = interval_s
        except Exception:
            pause = min(interval_s, RETRY_S)
            log.exception(
                "effacement des numéros d'appelants impossible ; nouvel essai dans %d s",
                round(pause),
            )
        await sleep(pause)
