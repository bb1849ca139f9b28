"""Live state over a real redis-server: two instances see each other's changes at once; with
Redis killed each keeps answering from its last known state and says so; once Redis is back
they catch up from the database, including a change made during the outage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.config.model import Settings
from svi_acd.db.base import create_engine
from svi_acd.db.migrate import upgrade
from svi_acd.live.crisis_source import LiveCrisisSource
from svi_acd.live.redis_backend import RedisLiveState
from svi_acd.prompts.catalog import SoundFolder
from svi_acd.prompts.crisis import CrisisMessages, MessageRequest
from svi_acd.prompts.crisis_files import CrisisSoundFiles
from svi_acd.prompts.crisis_store import load_snapshot
from tests.integration.conftest import NOW, SettableClock
from tests.servers import RedisServer, redis_server

pytestmark = pytest.mark.integration

PROPAGATION_S = 2.0


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
async def shared_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


Instance = tuple[RedisLiveState, CrisisMessages]


@pytest.fixture
async def instances(
    settings: Settings, shared_engine: AsyncEngine, redis: RedisServer, tmp_path: Path
) -> AsyncIterator[list[Instance]]:
    """Two service instances on one database and one Redis (as two hosts would be)."""
    started: list[Instance] = []
    for _ in range(2):
        live = RedisLiveState(redis.url, lambda: load_snapshot(shared_engine), 300)
        await live.start(await load_snapshot(shared_engine))
        files = CrisisSoundFiles(SoundFolder(tmp_path / "sons", "/sons"), 5)
        started.append(
            (live, CrisisMessages(settings, shared_engine, live, files, SettableClock()))
        )
    assert all(live.status().healthy for live, _ in started)
    yield started
    for live, _ in started:
        await live.stop()


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for a state that no event announces (health changes are only observed)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition jamais remplie")
        await asyncio.sleep(0.02)


async def test_a_change_on_one_instance_is_seen_at_once_by_the_other(
    instances: list[Instance],
) -> None:
    (_live_a, crisis_a), (live_b, _) = instances
    change = await crisis_a.create(MessageRequest(text="Panne réseau.", active=True), "durand")
    assert change.propagated
    started = time.monotonic()
    snapshot = await live_b.wait_for_revision(change.revision, PROPAGATION_S)
    assert time.monotonic() - started < 0.5
    assert [m.id for m in snapshot.messages] == [change.message.id]
    # The other instance's flow reads it from memory, with its own view of the sound folder.
    source = LiveCrisisSource(live_b, lambda stem: f"/chroot/sons/{stem}")
    [playback] = source.current("ligne", "FR", None, NOW)
    assert playback.sound == f"/chroot/sons/{change.message.content.sound}"
    off = await crisis_a.switch(change.message.id, False, "durand")
    assert (await live_b.wait_for_revision(off.revision, PROPAGATION_S)).messages == ()


async def test_an_older_snapshot_never_replaces_a_newer_one(instances: list[Instance]) -> None:
    (_live_a, crisis_a), (live_b, _) = instances
    first = await crisis_a.create(MessageRequest(text="Un.", active=True), "a")
    second = await crisis_a.create(MessageRequest(text="Deux.", active=True), "a")
    await live_b.wait_for_revision(second.revision, PROPAGATION_S)
    stale = await load_snapshot(crisis_a.engine)
    assert not live_b.apply(stale.__class__(first.revision, stale.messages[:1]))
    assert len(live_b.snapshot().messages) == 2


async def test_with_redis_killed_calls_use_the_last_known_state_and_status_says_degraded(
    instances: list[Instance], redis: RedisServer,
) -> None:  # fmt: skip
    (live_a, crisis_a), (live_b, _) = instances
    known = await crisis_a.create(MessageRequest(text="Panne réseau.", active=True), "durand")
    await live_b.wait_for_revision(known.revision, PROPAGATION_S)

    redis.kill()
    await until(lambda: not live_b.status().healthy)
    status = live_b.status()
    assert status.as_json()["etat"] == "degrade"
    assert "Redis injoignable" in status.detail and "dernier état connu" in status.detail
    source = LiveCrisisSource(live_b, lambda stem: stem)
    assert [p.message_id for p in source.current(None, "FR", None, NOW)] == [
        f"crise-{known.message.id}"
    ]

    # A change made during the outage is committed; the other instance learns it once Redis
    # is back, from the database.
    during = await crisis_a.switch(known.message.id, False, "durand")
    assert during.changed and not during.propagated
    assert live_b.snapshot().revision == known.revision

    redis.start()
    await live_b.wait_for_revision(during.revision, 15)
    assert live_b.snapshot().messages == ()
    await until(lambda: live_a.status().healthy and live_b.status().healthy)


async def test_call_arrivals_are_counted_across_instances(instances: list[Instance]) -> None:
    (live_a, _), (live_b, _) = instances
    now = time.time()
    for _ in range(3):
        live_a.note_arrival(now)
    for _ in range(2):
        live_b.note_arrival(now)
    assert await live_b.arrivals(now, 60) == 2  # flushes B's arrivals to Redis
    assert await live_a.arrivals(now, 60) == 5
    assert await live_a.arrivals(now + 120, 60) == 0


async def test_one_instance_at_a_time_holds_the_overflow_lease(instances: list[Instance]) -> None:
    (live_a, _), (live_b, _) = instances
    assert await live_a.lease("acd-debordement", "a", 0.3)
    assert await live_a.lease("acd-debordement", "a", 0.3), "the holder renews it"
    assert not await live_b.lease("acd-debordement", "b", 0.3)
    # The holder stops renewing (it died): the lease lapses and the other instance takes it.
    deadline = time.monotonic() + 5
    while not await live_b.lease("acd-debordement", "b", 0.3):
        assert time.monotonic() < deadline, "le bail aurait dû expirer"
        await asyncio.sleep(0.05)
    assert not await live_a.lease("acd-debordement", "a", 0.3)


async def test_an_instance_started_while_redis_is_down_answers_from_the_database(
    settings: Settings, shared_engine: AsyncEngine, tmp_path: Path, redis: RedisServer,
) -> None:  # fmt: skip
    files = CrisisSoundFiles(SoundFolder(tmp_path / "sons", "/sons"), 5)
    writer = RedisLiveState(redis.url, lambda: load_snapshot(shared_engine), 300)
    crisis = CrisisMessages(settings, shared_engine, writer, files, SettableClock())
    change = await crisis.create(MessageRequest(text="Panne.", active=True), "durand")
    await writer.stop()
    redis.kill()
    late = RedisLiveState(redis.url, lambda: load_snapshot(shared_engine), 300)
    await late.start(await load_snapshot(shared_engine), wait_s=5)
    try:
        assert not late.status().healthy
        assert [m.id for m in late.snapshot().messages] == [change.message.id]
    finally:
        await late.stop()
