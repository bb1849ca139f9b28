"""The surge monitor: counts call arrivals, raises the « afflux » alert, and optionally switches
on the configured deterrence message (journaled as a change by « système »).

The call path only notes an arrival (no I/O); a background task reads the count over the
sliding window every ``tick_s`` seconds (from every instance when Redis is used) and applies
the pure rule of ``routing.surge``. Switching the message off stays a human decision: the
requirement is that it be removed after agreement of the support groups.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from svi_acd.config.model import SurgeSettings
from svi_acd.live.state import LiveState
from svi_acd.prompts.crisis import CrisisMessages
from svi_acd.routing.surge import SurgeReading, next_alert, transition

log = logging.getLogger(__name__)


@dataclass
class SurgeStatus:
    alert: bool = False
    reading: SurgeReading | None = None
    since: datetime | None = None
    checked_at: datetime | None = None
    auto_message_id: int | None = None
    auto_error: str | None = None

    def as_json(self, settings: SurgeSettings) -> dict[str, Any]:
        reading = self.reading
        return {
            "alerte": self.alert,
            "appels": reading.arrivals if reading else 0,
            "appels_par_minute": round(reading.per_minute, 1) if reading else 0.0,
            "fenetre_s": settings.window_s,
            "seuil_appels": settings.threshold_calls,
            "depuis": self.since.isoformat() if self.since else None,
            "verifie_le": self.checked_at.isoformat() if self.checked_at else None,
            "dissuasion_auto": settings.auto_deterrence,
            "message_dissuasion": self.auto_message_id,
            "erreur_dissuasion": self.auto_error,
        }


class SurgeMonitor:
    def __init__(
        self, settings: SurgeSettings, live: LiveState, messages: CrisisMessages,
        now: Callable[[], float] = time.time, tick_s: float = 1.0,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.live = live
        self.messages = messages
        self.now = now
        self.tick_s = tick_s
        self.status = SurgeStatus()

    def note_arrival(self) -> None:
        self.live.note_arrival(self.now())

    async def check(self) -> SurgeStatus:
        moment = self.now()
        window_s = self.settings.window_s
        reading = SurgeReading(
            await self.live.arrivals(moment, window_s), window_s, self.settings.threshold_calls
        )
        before = self.status.alert
        after = next_alert(before, reading)
        status = self.status
        status.reading, status.alert = reading, after
        status.checked_at = datetime.fromtimestamp(moment, UTC)
        change = transition(before, after)
        if change == "debut":
            status.since = status.checked_at
            log.warning(
                "afflux d'appels : %s appels en %s s (seuil %s)",
                reading.arrivals, reading.window_s, reading.threshold,
                extra={"alerte": "afflux", "appels": reading.arrivals},
            )  # fmt: skip
            if self.settings.auto_deterrence:
                await self._deter(reading)
        elif change == "fin":
            status.since = status.checked_at
            log.info(
                "fin de l'afflux d'appels : %s appels en %s s", reading.arrivals, reading.window_s,
                extra={"alerte": "afflux", "appels": reading.arrivals},
            )  # fmt: skip
        return status

    async def _deter(self, reading: SurgeReading) -> None:
        detail = (
            f"afflux détecté : {reading.arrivals} appels en {reading.window_s} s "
            f"(seuil {reading.threshold}) ; dissuasion automatique"
        )
        try:
            change = await self.messages.activate_surge_deterrence(detail)
        except Exception as exc:  # the alert stands even if the message cannot be switched on
            log.exception("dissuasion automatique impossible")
            self.status.auto_error = str(exc)
            return
        self.status.auto_message_id, self.status.auto_error = change.message.id, None
        log.warning("message de dissuasion %s activé automatiquement", change.message.id)

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                await self.check()
            except Exception:
                log.exception("contrôle de l'afflux d'appels impossible")
