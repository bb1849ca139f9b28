"""Live state shared by the service instances (crisis snapshot, call arrivals).

``open_live_state`` picks the backend from the settings: Redis when ``service.redis`` is set,
else in memory.
"""

from __future__ import annotations

from svi_acd.config.model import Settings
from svi_acd.live.state import InProcessLiveState, LiveState, LiveStatus, Reload

__all__ = ["InProcessLiveState", "LiveState", "LiveStatus", "open_live_state"]


def open_live_state(settings: Settings, reload: Reload, redis_url: str | None = None) -> LiveState:
    """The backend for these settings (``redis_url`` overrides ``service.redis``); not started."""
    url = redis_url or settings.service.redis_url
    window_s = settings.crisis.surge.window_s
    if url:
        from svi_acd.live.redis_backend import RedisLiveState

        return RedisLiveState(url, reload, window_s)
    return InProcessLiveState(window_s)
