"""The VIP/P0 directory as the routing sees it: an immutable lookup by E.164 number and date.

A VIP is priority P0 whenever their entry is in force; a P0 entry gives P0 only between its
optional ``start`` and ``end`` dates (inclusive, e.g. the accounting department during the
budget closure). Storage and CSV import live in ``svi_acd.directory``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

Level = Literal["VIP", "P0"]


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    number: str  # E.164
    name: str
    entity: str = ""
    site: str = ""
    level: Level = "VIP"
    start: date | None = None
    end: date | None = None

    def in_force(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class PriorityStatus:
    vip: bool
    priority: Literal["P0"] | None
    entry: DirectoryEntry | None = None


NOT_LISTED = PriorityStatus(vip=False, priority=None)


class VipDirectory:
    """Entries grouped by number; several P0 periods may exist for one number."""

    def __init__(self, entries: Iterable[DirectoryEntry] = ()) -> None:
        grouped: dict[str, list[DirectoryEntry]] = defaultdict(list)
        for entry in entries:
            grouped[entry.number].append(entry)
        self._by_number = {number: tuple(items) for number, items in grouped.items()}

    def __len__(self) -> int:
        return sum(len(items) for items in self._by_number.values())

    def lookup(self, e164: str | None, day: date) -> PriorityStatus:
        if e164 is None:
            return NOT_LISTED
        in_force = [entry for entry in self._by_number.get(e164, ()) if entry.in_force(day)]
        if not in_force:
            return NOT_LISTED
        # A VIP entry wins over a P0 period: the agent should see "VIP".
        best = next((entry for entry in in_force if entry.level == "VIP"), in_force[0])
        return PriorityStatus(vip=best.level == "VIP", priority="P0", entry=best)
