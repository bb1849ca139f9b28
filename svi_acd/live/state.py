"""Live state shared by the service instances: the crisis snapshot and the call arrivals.

Every instance keeps a *local* copy of the crisis snapshot that the call path reads without
any network I/O (``snapshot()``). A change is committed to the database first (the source of
truth, so a restart loses nothing), then ``publish``-ed: applied locally at once and
propagated to the other instances by the backend. Snapshots carry the journal revision they
reflect; an instance only ever moves forward (a late or repeated message is ignored).

Backends: ``InProcessLiveState`` (one instance; other processes such as the CLI reach it
through the database, which the service re-reads periodically) and ``RedisLiveState``
(pub/sub between instances; see ``redis_backend``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from svi_acd.routing.crisis import CrisisMessage, CrisisSnapshot, Scope
from svi_acd.routing.surge import ArrivalWindow

Reload = Callable[[], Awaitable[CrisisSnapshot]]
Listener = Callable[[CrisisSnapshot], None]
UNLOADED = CrisisSnapshot(revision=-1)


@dataclass(frozen=True)
class LiveStatus:
    backend: str  # "memoire" | "redis"
    healthy: bool
    detail: str  # French, for people (API, logs, serve)
    revision: int
    since: datetime | None = None  # when the current health state began

    def as_json(self) -> dict[str, Any]:
        return {
            "moteur": self.backend,
            "etat": "normal" if self.healthy else "degrade",
            "detail": self.detail,
            "revision": self.revision,
            "depuis": self.since.isoformat() if self.since else None,
        }


class LiveState(Protocol):
    def snapshot(self) -> CrisisSnapshot:
        """The local copy: no I/O, safe on the call path."""
        ...

    def apply(self, snapshot: CrisisSnapshot) -> bool:
        """Take ``snapshot`` locally if it is newer than the local copy."""
        ...

    async def publish(self, snapshot: CrisisSnapshot) -> bool:
        """Apply locally, then tell the other instances; False when propagation failed."""
        ...

    async def wait_for_revision(self, revision: int, timeout_s: float) -> CrisisSnapshot: ...

    def on_change(self, listener: Listener) -> None: ...

    def note_arrival(self, at: float) -> None:
        """Count one call arrival (no I/O: the call path calls it)."""
        ...

    async def arrivals(self, now: float, window_s: int) -> int:
        """Calls that arrived during the ``window_s`` seconds before ``now`` (all instances)."""
        ...

    def status(self) -> LiveStatus: ...

    async def lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take or renew the lease ``name`` for ``holder``; True while ``holder`` holds it.

        One instance among several does what must be done once (the ACD's overflow sweep).
        """
        ...

    async def start(self, initial: CrisisSnapshot) -> None: ...

    async def stop(self) -> None: ...


class LocalSnapshot:
    """The local copy and the machinery to wait for and announce changes."""

    def __init__(self) -> None:
        self._snapshot = UNLOADED
        self._listeners: list[Listener] = []
        self._waiters: list[tuple[int, asyncio.Future[CrisisSnapshot]]] = []

    def snapshot(self) -> CrisisSnapshot:
        return self._snapshot

    def apply(self, snapshot: CrisisSnapshot) -> bool:
        if snapshot.revision <= self._snapshot.revision:
            return False
        self._snapshot = snapshot
        for listener in self._listeners:
            listener(snapshot)
        still = []
        for revision, future in self._waiters:
            if future.done():
                continue
            if snapshot.revision >= revision:
                future.set_result(snapshot)
            else:
                still.append((revision, future))
        self._waiters = still
        return True

    async def wait_for_revision(self, revision: int, timeout_s: float) -> CrisisSnapshot:
        if self._snapshot.revision >= revision:
            return self._snapshot
        future: asyncio.Future[CrisisSnapshot] = asyncio.get_running_loop().create_future()
        self._waiters.append((revision, future))
        return await asyncio.wait_for(future, timeout_s)

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)


class InProcessLiveState(LocalSnapshot):
    """One instance: publishing is applying; arrivals are counted in memory."""

    def __init__(self, window_s: float) -> None:
        super().__init__()
        self._arrivals = ArrivalWindow(window_s)

    async def start(self, initial: CrisisSnapshot) -> None:
        self.apply(initial)

    async def stop(self) -> None:
        pass

    async def publish(self, snapshot: CrisisSnapshot) -> bool:
        self.apply(snapshot)
        return True

    def note_arrival(self, at: float) -> None:
        self._arrivals.add(at)

    async def lease(self, name: str, holder: str, ttl_s: float) -> bool:
        return True  # alone in its process: it holds every lease

    async def arrivals(self, now: float, window_s: int) -> int:
        return self._arrivals.count(now, window_s)

    def status(self) -> LiveStatus:
        return LiveStatus(
            "memoire",
            True,
            "état en mémoire (une seule instance ; la base est relue périodiquement)",
            self._snapshot.revision,
        )


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def snapshot_to_json(snapshot: CrisisSnapshot) -> str:
    messages = [
        {
            "id": m.id,
            "mode": m.mode,
            "son": m.sound,
            "portee": m.scope.kind,
            "valeurs": list(m.scope.values),
            "actif": m.active,
            "debut": m.start.isoformat() if m.start else None,
            "fin": m.end.isoformat() if m.end else None,
            "version": m.version,
        }
        for m in snapshot.messages
    ]
    return json.dumps({"revision": snapshot.revision, "messages": messages}, ensure_ascii=False)


def snapshot_from_json(text: str | bytes) -> CrisisSnapshot:
    data = json.loads(text)
    messages = tuple(
        CrisisMessage(
            id=int(m["id"]),
            mode=m["mode"],
            sound=m["son"],
            scope=Scope(m["portee"], tuple(m["valeurs"])),
            active=bool(m["actif"]),
            start=_moment(m["debut"]),
            end=_moment(m["fin"]),
            version=int(m["version"]),
        )
        for m in data["messages"]
    )
    return CrisisSnapshot(int(data["revision"]), messages)
