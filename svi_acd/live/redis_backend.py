"""Live state over Redis: the crisis snapshot in a key, changes announced on a pub/sub channel,
call arrivals counted in per-second buckets shared by every instance.

- ``publish`` applies the snapshot locally, then a Lua script stores it only if its revision
  is newer than Redis's and announces it; an instance that learns Redis holds a newer one
  takes it.
- A listener task subscribes to the channel and applies what others publish. When Redis goes
  away, the service keeps answering calls from its last known snapshot, reports a degraded
  status (API, logs) and retries; once reconnected it reloads the snapshot from the database
  (the source of truth: a change committed while Redis was down is not lost) and publishes it.
- Arrivals are counted locally at once (no I/O on the call path) and flushed to Redis when the
  surge monitor asks for the count; without Redis each instance counts its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from datetime import UTC, datetime

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from svi_acd.live.state import (
    LiveStatus,
    LocalSnapshot,
    Reload,
    snapshot_from_json,
    snapshot_to_json,
)
from svi_acd.routing.crisis import CrisisSnapshot
from svi_acd.routing.surge import ArrivalWindow

log = logging.getLogger(__name__)

OPERATION_TIMEOUT_S = 2.0
POLL_S = 1.0  # pub/sub read timeout: also how often the listener checks it should ping
PING_EVERY_S = 5.0
RETRY_MAX_S = 5.0
FAILURES = (RedisError, OSError, asyncio.TimeoutError)

# KEYS[1] state key, KEYS[2] channel; ARGV[1] snapshot JSON, ARGV[2] its revision.
_STORE_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local revision = cjson.decode(current)['revision']
  if revision >= tonumber(ARGV[2]) then return current end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', KEYS[2], ARGV[1])
return false
"""


# KEYS[1] lease key; ARGV[1] holder, ARGV[2] TTL in ms. Renew if held, else take if free.
_LEASE = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""


class RedisLiveState(LocalSnapshot):
    def __init__(self, url: str, reload: Reload, window_s: int, prefix: str = "svi-acd") -> None:
        super().__init__()
        self.url = url
        self._reload = reload
        self._window_s = window_s
        self.key = f"{prefix}:crise:etat"
        self.channel = f"{prefix}:crise:changements"
        self._arrivals_key = f"{prefix}:arrivees"
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=OPERATION_TIMEOUT_S,
            socket_timeout=OPERATION_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        self._store = self._client.register_script(_STORE_IF_NEWER)
        self._lease = self._client.register_script(_LEASE)
        self._prefix = prefix
        self._local_arrivals = ArrivalWindow(window_s)
        self._pending: Counter[int] = Counter()
        self._healthy = False
        self._detail = "connexion à Redis en cours"
        self._since: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()

    # -- health -------------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _degraded(self, error: BaseException | str) -> None:
        reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        if self._healthy or self._since is None:
            self._since = self._now()
            log.warning(
                "Redis injoignable (%s) : le service continue avec le dernier état connu "
                "(révision %s) et réessaie",
                reason,
                self._snapshot.revision,
                extra={"redis": self.url},
            )
        self._healthy = False
        self._detail = (
            f"Redis injoignable ({reason}) : dernier état connu conservé "
            f"(révision {self._snapshot.revision}), changements des autres instances en attente"
        )

    def _recovered(self) -> None:
        if not self._healthy:
            log.info("Redis joignable : état partagé rétabli", extra={"redis": self.url})
            self._since = self._now()
        self._healthy = True
        self._detail = "état partagé par Redis"

    def status(self) -> LiveStatus:
        return LiveStatus(
            "redis", self._healthy, self._detail, self._snapshot.revision, self._since
        )

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, initial: CrisisSnapshot, wait_s: float = OPERATION_TIMEOUT_S) -> None:
        """Apply ``initial`` and start listening; returns once connected or after ``wait_s``
        (a Redis that is down at start-up only makes the status degraded)."""
        self.apply(initial)
        self._task = asyncio.create_task(self._listen_forever(), name="redis-live-state")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._first_attempt.wait(), wait_s)

    async def lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Held in Redis with a TTL; with Redis unreachable nobody holds it (the work waits
        rather than being done twice)."""
        key = f"{self._prefix}:bail:{name}"
        try:
            return bool(await self._lease(keys=[key], args=[holder, round(ttl_s * 1000)]))
        except FAILURES as exc:
            self._degraded(exc)
            return False

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(*FAILURES):
            await self._client.aclose()

    async def _listen_forever(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except FAILURES as exc:
                self._degraded(exc)
            except Exception as exc:  # a bad message must not stop propagation for good
                log.exception("écoute Redis interrompue")
                self._degraded(exc)
            self._first_attempt.set()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    async def _listen(self) -> None:
        pubsub = self._client.pubsub()
        try:
            await asyncio.wait_for(pubsub.subscribe(self.channel), OPERATION_TIMEOUT_S)
            await self._reconcile()
            self._recovered()
            self._first_attempt.set()
            last_ping = time.monotonic()
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_S)
                received = message is not None and message.get("type") == "message"
                if received and self.apply(snapshot_from_json(message["data"])):
                    log.info("état de crise reçu (révision %s)", self._snapshot.revision)
                if time.monotonic() - last_ping >= PING_EVERY_S:
                    await asyncio.wait_for(self._client.ping(), OPERATION_TIMEOUT_S)
                    last_ping = time.monotonic()
        finally:
            with contextlib.suppress(*FAILURES):
                await pubsub.aclose()

    async def _reconcile(self) -> None:
        """After (re)connecting: the database's state, then Redis's if it is even newer."""
        try:
            self.apply(await self._reload())
        except Exception:
            log.exception("relecture de l'état de crise dans la base impossible")
        await self._store_if_newer(self._snapshot)

    async def _store_if_newer(self, snapshot: CrisisSnapshot) -> None:
        newer = await asyncio.wait_for(
            self._store(keys=[self.key, self.channel],
                        args=[snapshot_to_json(snapshot), snapshot.revision]),
            OPERATION_TIMEOUT_S,
        )  # fmt: skip
        if newer:
            self.apply(snapshot_from_json(newer))

    # -- changes -------------------------------------------------------------------------

    async def publish(self, snapshot: CrisisSnapshot) -> bool:
        self.apply(snapshot)
        try:
            await self._store_if_newer(self._snapshot)
        except FAILURES as exc:
            self._degraded(exc)
            return False
        return True

    # -- arrivals ------------------------------------------------------------------------

    def note_arrival(self, at: float) -> None:
        self._local_arrivals.add(at)
        self._pending[int(at)] += 1

    async def arrivals(self, now: float, window_s: int) -> int:
        local = self._local_arrivals.count(now, window_s)
        if not self._healthy:
            return local
        second = int(now)
        oldest = second - window_s + 1
        for stale in [s for s in self._pending if s < oldest]:
            del self._pending[stale]
        keys = [f"{self._arrivals_key}:{s}" for s in range(oldest, second + 1)]
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for moment, count in self._pending.items():
                    pipe.incrby(f"{self._arrivals_key}:{moment}", count)
                    pipe.expire(f"{self._arrivals_key}:{moment}", window_s + 60)
                pipe.mget(keys)
                replies = await asyncio.wait_for(pipe.execute(), OPERATION_TIMEOUT_S)
        except FAILURES as exc:
            self._degraded(exc)
            return local
        self._pending.clear()
        return sum(int(value) for value in replies[-1] if value is not None)
