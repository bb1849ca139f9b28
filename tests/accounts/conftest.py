"""Fixtures of the account tests: a store on each database, with cheap argon2 parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.accounts.passwords import Passwords
from svi_acd.accounts.store import AccountStore
from tests.accounts.helpers import cheap_hasher

START = datetime(2026, 7, 8, 8, 0, tzinfo=UTC)


class StepClock:
    def __init__(self, moment: datetime = START) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def store(engine: AsyncEngine, clock: StepClock) -> AccountStore:
    return AccountStore(engine, Passwords(cheap_hasher()), clock)
