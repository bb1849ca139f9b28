"""Fixtures for the crisis message tests: the service object on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.config.model import Settings
from svi_acd.live import InProcessLiveState
from svi_acd.prompts.catalog import SoundFolder
from svi_acd.prompts.crisis import CrisisMessages
from svi_acd.prompts.crisis_files import CrisisSoundFiles
from svi_acd.prompts.crisis_store import load_snapshot

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 7, 8, 10, 0, tzinfo=PARIS)


class SettableClock:
    def __init__(self, moment: datetime = NOW) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def crisis_settings(settings: Settings) -> Settings:
    """Small limits so that refusals are quick to provoke."""
    crisis = settings.crisis.model_copy(
        update={"max_duration_s": 20, "max_upload_mb": 0.5, "kept_versions": 2}
    )
    return settings.model_copy(update={"crisis": crisis})


@pytest.fixture
async def crisis(
    crisis_settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[CrisisMessages]:
    live = InProcessLiveState(crisis_settings.crisis.surge.window_s)
    await live.start(await load_snapshot(engine))
    files = CrisisSoundFiles(SoundFolder(tmp_path / "sons", "/sons"), 2)
    yield CrisisMessages(crisis_settings, engine, live, files, SettableClock())
    await live.stop()
