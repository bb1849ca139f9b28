"""The statistics page's figures straight from the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.config.model import Settings
from svi_acd.stats.waits import wait_distribution
from svi_acd.web.stats_dashboard import build_dashboard
from svi_acd.web.stats_query import Period
from tests.stats.conftest import DAY, THRESHOLDS
from tests.web.stats_app import load_reference_data

# Waits of the reference day's queue calls (tests/stats/conftest.py), by band:
# answered c12 5 s, c13 3 s, c15 8 s | c01 12 s | c14 25 s | c11 40 s;
# abandoned c02 20 s; others c03 2 s, c05 3 s, c18 4 s, c19 (still waiting) | c06 15 s |
# c16 30 s | c04 60 s, c10 90 s.
BANDS = [
    ("0 s à 10 s", 3, 0, 4), ("10 s à 20 s", 1, 0, 1), ("20 s à 30 s", 1, 1, 0),
    ("30 s à 1 min", 1, 0, 1), ("1 min à 2 min", 0, 0, 2), ("2 min à 5 min", 0, 0, 0),
    ("5 min et plus", 0, 0, 0),
]  # fmt: skip


async def test_wait_bands_of_the_reference_day(engine: AsyncEngine, tmp_path: Path) -> None:
    await load_reference_data(engine, tmp_path)
    bands = await wait_distribution(engine, DAY, DAY, THRESHOLDS)
    assert [(b.label, b.answered, b.abandoned, b.other) for b in bands] == BANDS
    assert (bands[-1].low_s, bands[-1].high_s) == (300, None)


async def test_no_call_no_wait(engine: AsyncEngine, tmp_path: Path) -> None:
    await load_reference_data(engine, tmp_path)
    bands = await wait_distribution(engine, date(2026, 10, 15), date(2026, 10, 31), THRESHOLDS)
    assert all(band.calls == 0 for band in bands)


async def test_a_month_dashboard(engine: AsyncEngine, tmp_path: Path, settings: Settings) -> None:
    await load_reference_data(engine, tmp_path)
    dashboard = await build_dashboard(engine, settings, Period.around("mois", DAY), "p1")
    assert len(dashboard.trend.rows) == 31  # every day of October, with or without calls
    assert dashboard.totals["presented"] == 13
    assert [row["ticket"] for row in dashboard.tickets] == ["Ensemble", "T100", "T200"]
    assert dashboard.ticket_totals is None  # a search: no total of all tickets
    assert [m.month for m in dashboard.months] == ["2026-08", "2026-09", "2026-10"]
    tables = dashboard.tables()
    assert tables["evolution"].totals == dashboard.totals
    assert [row["label"] for row in tables["heures"].rows][:3] == ["08 h", "09 h", "10 h"]
