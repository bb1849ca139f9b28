"""The audit journal on a real database (SQLite and PostgreSQL): rows written and read back
filtered, never edited nor deleted, and background writes that are never lost silently."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.audit import background
from svi_acd.audit.background import BackgroundRecorder
from svi_acd.audit.store import AuditFilter, read_audit, record
from svi_acd.db import models  # noqa: F401 - every table in the metadata
from svi_acd.db.base import Base, create_engine

T0 = datetime(2026, 7, 8, 8, 0, tzinfo=UTC)


async def _three_rows(engine: AsyncEngine) -> None:
    await record(engine, "admin.test", "comptes", "creation_compte", "marie", "rôle admin", at=T0)
    await record(engine, "marie", "acd", "pause_agent", "PJSIP/agent1", "formation",
                 at=T0 + timedelta(minutes=5))  # fmt: skip
    await record(engine, "cli:root", "annuaire", "import", "annuaire.csv", "2 entrée(s)",
                 at=T0 + timedelta(minutes=10))  # fmt: skip


async def test_rows_are_read_back_newest_first_with_their_filters(engine: AsyncEngine) -> None:
    await _three_rows(engine)
    rows = await read_audit(engine, AuditFilter())
    assert [(r.actor, r.domain, r.action, r.subject) for r in rows] == [
        ("cli:root", "annuaire", "import", "annuaire.csv"),
        ("marie", "acd", "pause_agent", "PJSIP/agent1"),
        ("admin.test", "comptes", "creation_compte", "marie"),
    ]
    assert rows[1].at == T0 + timedelta(minutes=5) and rows[1].detail == "formation"
    only = AuditFilter(domains=("acd", "annuaire"))
    assert [r.domain for r in await read_audit(engine, only)] == ["annuaire", "acd"]
    assert await read_audit(engine, AuditFilter(domains=())) == []
    assert [r.action for r in await read_audit(engine, AuditFilter(actor="marie"))] == [
        "pause_agent"]  # fmt: skip
    assert [r.subject for r in await read_audit(engine, AuditFilter(action="import"))] == [
        "annuaire.csv"]  # fmt: skip
    window = AuditFilter(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=10))
    assert [r.action for r in await read_audit(engine, window)] == ["pause_agent"]
    assert len(await read_audit(engine, AuditFilter(limit=2))) == 2
    assert await read_audit(engine, AuditFilter(actor="' OR 1=1 --")) == []


async def test_the_journal_cannot_be_edited_nor_deleted(engine: AsyncEngine) -> None:
    await _three_rows(engine)
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="journal d’audit"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="journal d’audit"):
            async with engine.begin() as connection:
                await connection.execute(text("TRUNCATE audit_events"))
    rows = await read_audit(engine, AuditFilter())
    assert len(rows) == 3 and "x" not in {r.actor for r in rows}


async def test_a_token_slipped_into_a_row_is_masked_and_unknown_domains_are_refused(
    engine: AsyncEngine,
) -> None:
    await record(engine, "admin.test", "comptes", "creation_jeton", "marie",
                 "jeton sviacd_AbC-123_xyz collé par erreur")  # fmt: skip
    [row] = await read_audit(engine, AuditFilter())
    assert "sviacd_" not in row.detail and "[jeton masqué]" in row.detail
    with pytest.raises(ValueError, match="domaine"):
        await record(engine, "x", "crise", "creation", "1")  # type: ignore[arg-type]


async def test_the_table_matches_its_model(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        diffs = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert [diff for diff in diffs if "audit_events" in repr(diff)] == []


async def test_background_writes_keep_their_order_and_are_waited_for_by_flush(
    engine: AsyncEngine,
) -> None:
    recorder = BackgroundRecorder(engine)
    for number in range(5):
        recorder.submit("marie", "acd", "reprise_agent", f"PJSIP/agent{number}", at=T0)
    await recorder.flush()
    assert recorder.pending == 0 and recorder.failures == 0
    rows = await read_audit(engine, AuditFilter())  # same instant: newest id first
    assert [row.subject for row in rows] == [f"PJSIP/agent{n}" for n in (4, 3, 2, 1, 0)]


async def test_a_background_write_that_fails_is_logged_with_what_it_should_have_written(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:  # fmt: skip
    unmigrated = create_engine(f"sqlite:///{tmp_path / 'sans-schema.sqlite3'}")
    recorder = BackgroundRecorder(unmigrated)
    with caplog.at_level(logging.ERROR, logger=background.__name__):
        recorder.submit("marie", "acd", "pause_agent", "PJSIP/agent1", "formation")
        await recorder.flush()
    await unmigrated.dispose()
    assert recorder.failures == 1
    assert "journal d'audit : écriture impossible" in caplog.text
    assert "PJSIP/agent1" in caplog.text and "pause_agent" in caplog.text


def test_outside_an_event_loop_a_write_is_counted_lost_and_logged(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:  # fmt: skip
    recorder = BackgroundRecorder(create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    with caplog.at_level(logging.ERROR, logger=background.__name__):
        recorder.submit("marie", "acd", "pause_agent", "PJSIP/agent1")
    assert recorder.failures == 1 and "hors boucle asyncio" in caplog.text


async def test_submit_returns_before_the_row_is_written(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()
    real_record = background.record

    async def slow_record(*args: object, **kwargs: object) -> None:
        await release.wait()
        await real_record(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(background, "record", slow_record)
    recorder = BackgroundRecorder(engine)
    recorder.submit("marie", "acd", "pause_agent", "PJSIP/agent1", "formation")
    await asyncio.sleep(0.05)
    assert recorder.pending == 1 and await read_audit(engine, AuditFilter()) == []
    release.set()
    await recorder.flush()
    assert [r.action for r in await read_audit(engine, AuditFilter())] == ["pause_agent"]
