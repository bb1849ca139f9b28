"""Clocks: the real one, and one that starts at a chosen instant (tests, demos, rehearsals).

Decisions never read the time themselves; the composition root hands them a clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def shifted_clock(start: datetime) -> Clock:
    """A clock that reads ``start`` now and then runs at normal speed."""
    if start.tzinfo is None:
        raise ValueError("l'instant de départ de l'horloge doit porter son fuseau horaire")
    origin = time.monotonic()

    def now() -> datetime:
        return start + timedelta(seconds=time.monotonic() - origin)

    return now
