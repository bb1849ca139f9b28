"""Caller numbers forgotten on schedule by the service (same erasure as the command)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.clock import Clock
from svi_acd.config.model import PrivacySettings, Settings
from svi_acd.db.base import create_engine
from svi_acd.stats.retention import forget_numbers_forever, forget_numbers_once
from svi_acd.stats.tables import StatsCall
from tests.stats.conftest import load
from tests.stats.queue_logs import PARIS

TWO_DAYS_LATER = datetime(2026, 10, 16, 12, 0, tzinfo=PARIS)  # the calls were on 14/10


def keeping_one_day(settings: Settings) -> Settings:
    return settings.model_copy(update={"privacy": PrivacySettings(conservation_numeros_jours=1)})


def at(moment: datetime) -> Clock:
    return lambda: moment


async def numbers_kept(engine: AsyncEngine) -> int:
    query = select(func.count(StatsCall.id)).where(StatsCall.caller.is_not(None))
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


class Sleeps:
    """An injected sleep: records each pause and cancels the task after ``passes`` of them."""

    def __init__(self, passes: int) -> None:
        self.passes = passes
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if len(self.pauses) >= self.passes:
            raise asyncio.CancelledError


async def test_one_pass_forgets_numbers_past_the_retention_and_says_how_many(
    engine: AsyncEngine, reference_log: Path, settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    await load(engine, reference_log)
    assert await numbers_kept(engine) == 4
    sleeps = Sleeps(passes=1)
    with caplog.at_level(logging.INFO), pytest.raises(asyncio.CancelledError):
        await forget_numbers_forever(engine, keeping_one_day(settings), at(TWO_DAYS_LATER),
                                     interval_s=3600, sleep=sleeps)  # fmt: skip
    assert await numbers_kept(engine) == 0
    assert sleeps.pauses == [3600]
    assert "numéros d'appelants effacés : 4 appel(s) antérieur(s) au 15/10/2026" in caplog.text


async def test_numbers_within_the_retention_are_kept(
    engine: AsyncEngine, reference_log: Path, settings: Settings
) -> None:
    await load(engine, reference_log)
    next_day = datetime(2026, 10, 15, 9, 0, tzinfo=PARIS)
    assert await forget_numbers_once(engine, keeping_one_day(settings), at(next_day)) == 0
    assert await numbers_kept(engine) == 4


async def test_a_database_failure_is_logged_and_retried_never_raised(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    dead = create_engine("postgresql://svi@127.0.0.1:9/absente")  # nothing listens there
    sleeps = Sleeps(passes=2)
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(asyncio.CancelledError):
            await forget_numbers_forever(dead, settings, at(TWO_DAYS_LATER), sleep=sleeps)
    finally:
        await dead.dispose()
    assert sleeps.pauses == [300, 300]  # retried within five minutes, not the next hour
    assert caplog.text.count("effacement des numéros d'appelants impossible") == 2
