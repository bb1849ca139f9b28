"""Surge ("afflux") detection: call arrivals over a sliding window against a threshold. Pure.

The alert starts when the number of calls that arrived during the last ``window_s`` seconds
exceeds ``threshold`` and ends when it falls back to ``END_RATIO`` of the threshold or less,
so that a rate hovering around the threshold does not make the alert flap.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

END_RATIO = 0.8


@dataclass(frozen=True, slots=True)
class SurgeReading:
    arrivals: int
    window_s: int
    threshold: int

    @property
    def per_minute(self) -> float:
        return self.arrivals * 60.0 / self.window_s


def next_alert(alert: bool, reading: SurgeReading) -> bool:
    """Whether the alert is on after this reading, given whether it was on before."""
    if reading.arrivals > reading.threshold:
        return True
    if alert:
        return reading.arrivals > math.floor(reading.threshold * END_RATIO)
    return False


Transition = Literal["debut", "fin"]


def transition(before: bool, after: bool) -> Transition | None:
    if before == after:
        return None
    return "debut" if after else "fin"


class ArrivalWindow:
    """Arrival instants (seconds) of the last ``window_s`` seconds, counted at a given time."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._arrivals: deque[float] = deque()

    def add(self, at: float) -> None:
        self._arrivals.append(at)

    def count(self, now: float, window_s: float | None = None) -> int:
        horizon = now - (self.window_s if window_s is None else window_s)
        while self._arrivals and self._arrivals[0] <= horizon:
            self._arrivals.popleft()
        return len(self._arrivals)
