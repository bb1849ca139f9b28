"""Opening calendars: weekly ranges in a place's own time zone, its holidays, exceptional days.

A calendar answers two questions about an instant (an aware datetime): is the place open, and
when does it next open. Both are computed from the same local instants, so that
``next_opening`` always returns a moment at which ``status`` says open. Ranges are stored as
local clock times and converted with the IANA zone each day: never a fixed offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from svi_acd.config.model import DayException, DeskSettings, TerritorySettings

DAY_SECONDS = 24 * 3600
HORIZON_DAYS = 400  # a closure longer than this is a configuration mistake, not a calendar
EXCEPTIONAL_CLOSURE = "Fermeture exceptionnelle"

Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What a local day looks like: its opening ranges, and why it is closed if it is."""

    ranges: Ranges
    holiday: str | None = None  # set when closed for a holiday or an exceptional closure


@dataclass(frozen=True, slots=True)
class Status:
    open: bool
    reason: str | None  # None when open, else "holiday" or "hours"
    holiday: str | None = None


def french_holidays(subdivision: str | None) -> holidays.HolidayBase:
    # `language="fr"` gives the names callers and supervisors expect ("Lundi de Pâques").
    return holidays.France(subdiv=subdivision, language="fr")


def _local_instant(zone: ZoneInfo, day: date, seconds: int) -> datetime:
    if seconds >= DAY_SECONDS:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    hours, rest = divmod(seconds, 3600)
    return datetime.combine(day, time(hours, rest // 60, rest % 60), tzinfo=zone)


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    weekly: Mapping[int, Ranges]
    holidays: holidays.HolidayBase = field(compare=False)
    exceptions: Mapping[date, DayException] = field(default_factory=dict)

    @classmethod
    def for_desk(cls, desk: DeskSettings) -> Calendar:
        return cls(
            zone=ZoneInfo(desk.timezone),
            weekly=dict(desk.hours),
            holidays=french_holidays(desk.holidays),
            exceptions=dict(desk.exceptions),
        )

    @classmethod
    def for_territory(cls, territory: TerritorySettings) -> Calendar:
        day_range = ((territory.opening, territory.closing or DAY_SECONDS),)
        return cls(
            zone=ZoneInfo(territory.timezone),
            weekly={weekday: day_range for weekday in territory.days},
            holidays=french_holidays(territory.holidays),
            exceptions=dict(territory.exceptions),
        )

    def plan(self, day: date) -> DayPlan:
        exception = self.exceptions.get(day)
        if exception is not None:
            label = None if exception.ranges else (exception.label or EXCEPTIONAL_CLOSURE)
            return DayPlan(exception.ranges, label)
        holiday = self.holidays.get(day)
        if holiday:
            return DayPlan((), holiday)
        return DayPlan(self.weekly.get(day.weekday(), ()))

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        intervals = []
        for start, end in self.plan(day).ranges:
            opens, closes = (
                _local_instant(self.zone, day, start),
                _local_instant(self.zone, day, end),
            )
            if opens < closes:
                intervals.append((opens, closes))
        return intervals

    def status(self, instant: datetime) -> Status:
        day = instant.astimezone(self.zone).date()
        plan = self.plan(day)
        if plan.holiday is not None:
            return Status(False, "holiday", plan.holiday)
        if any(opens <= instant < closes for opens, closes in self._intervals(day)):
            return Status(True, None)
        return Status(False, "hours")

    def closing(self, instant: datetime) -> datetime | None:
        """When the opening under way at ``instant`` ends (None: closed at ``instant``)."""
        if self.plan(instant.astimezone(self.zone).date()).holiday is not None:
            return None
        day = instant.astimezone(self.zone).date()
        for opens, closes in self._intervals(day):
            if opens <= instant < closes:
                return closes
        return None

    def next_opening(self, instant: datetime) -> datetime | None:
        """The first moment at or after ``instant`` when this place is open."""
        first_day = instant.astimezone(self.zone).date()
        for offset in range(HORIZON_DAYS):
            for opens, closes in self._intervals(first_day + timedelta(days=offset)):
                if closes > instant:
                    return max(opens, instant)
        return None
