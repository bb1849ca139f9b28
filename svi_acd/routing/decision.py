"""The routing decision for one call: served or not, why, and when the caller may call back.

The window rule: a caller is served when the desk is open (Paris hours and holidays) AND, for an
overseas caller, their territory is within its local hours and not on a local holiday. Desk
reasons take precedence. Callers whose territory is unknown are treated as metropolitan.
Everything here is a pure function of (settings, caller, instant, directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from svi_acd.config.model import Settings
from svi_acd.routing.calendar import Calendar
from svi_acd.routing.caller import CallerIdentity, identify
from svi_acd.routing.directory import NOT_LISTED, PriorityStatus, VipDirectory

Reason = Literal["open", "desk_holiday", "desk_hours", "territory_holiday", "territory_hours"]
MAX_STEPS = 2000  # each step reaches the next opening of one calendar: ~2 per day of horizon


@dataclass(frozen=True, slots=True)
class Decision:
    caller: CallerIdentity
    at: datetime
    open: bool
    reason: Reason
    holiday: str | None
    status: PriorityStatus
    next_open: datetime | None  # Europe/Paris; None when open
    next_open_local: datetime | None  # the same instant in the caller's own zone

    @property
    def territory(self) -> str:
        """The territory whose rules apply (metropolitan France for an unknown number)."""
        return self.caller.served_as

    @property
    def vip(self) -> bool:
        return self.status.vip

    @property
    def priority(self) -> str | None:
        return self.status.priority


class Router:
    """Calendars built once from the settings; ``decide`` is then cheap and pure."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.desk = Calendar.for_desk(settings.desk)
        self.territories = {
            code: Calendar.for_territory(territory)
            for code, territory in settings.territories.items()
        }

    def warm_up(self, at: datetime) -> None:
        """Fill the holiday tables of this year and the next: a year's first lookup is slow."""
        for calendar in (self.desk, *self.territories.values()):
            for year in (at.year, at.year + 1):
                calendar.holidays.get(date(year, 1, 1))

    def territory_calendar(self, territory: str | None) -> Calendar | None:
        return self.territories.get(territory or "")

    def local_zone(self, territory: str | None) -> ZoneInfo:
        calendar = self.territory_calendar(territory)
        return calendar.zone if calendar else self.desk.zone

    def window_status(self, territory: str | None, at: datetime) -> tuple[Reason, str | None]:
        desk = self.desk.status(at)
        if not desk.open:
            return ("desk_holiday" if desk.reason == "holiday" else "desk_hours"), desk.holiday
        calendar = self.territory_calendar(territory)
        if calendar is None:
            return "open", None
        local = calendar.status(at)
        if not local.open:
            reason: Reason = "territory_holiday" if local.reason == "holiday" else "territory_hours"
            return reason, local.holiday
        return "open", None

    def next_open(self, territory: str | None, at: datetime) -> datetime | None:
        """The first moment at or after ``at`` when this caller can be served."""
        calendar = self.territory_calendar(territory)
        moment = at
        for _ in range(MAX_STEPS):
            desk_opens = self.desk.next_opening(moment)
            if desk_opens is None or calendar is None:
                return desk_opens
            both_open = calendar.next_opening(desk_opens)
            if both_open is None or self.desk.status(both_open).open:
                return both_open
            moment = both_open
        return None

    def open_until(self, territory: str | None, at: datetime) -> datetime | None:
        """When a caller served at ``at`` stops being served (None: not served at ``at``)."""
        if self.window_status(territory, at)[0] != "open":
            return None
        closings = [self.desk.closing(at)]
        calendar = self.territory_calendar(territory)
        if calendar is not None:
            closings.append(calendar.closing(at))
        known = [moment for moment in closings if moment is not None]
        return min(known) if known else None

    def decide(
        self,
        caller: str | CallerIdentity | None,
        at: datetime,
        directory: VipDirectory | None = None,
    ) -> Decision:
        if at.tzinfo is None:
            raise ValueError("l'instant de l'appel doit porter son fuseau horaire")
        identity = caller if isinstance(caller, CallerIdentity) else identify(caller)
        paris_day = at.astimezone(self.desk.zone).date()
        status = directory.lookup(identity.e164, paris_day) if directory else NOT_LISTED
        reason, holiday = self.window_status(identity.territory, at)
        next_open = local = None
        if reason != "open":
            found = self.next_open(identity.territory, at)
            if found is not None:
                next_open = found.astimezone(self.desk.zone)
                local = found.astimezone(self.local_zone(identity.territory))
        return Decision(
            caller=identity,
            at=at,
            open=reason == "open",
            reason=reason,
            holiday=holiday,
            status=status,
            next_open=next_open,
            next_open_local=local,
        )


REASON_LABELS: dict[Reason, str] = {
    "open": "ouvert",
    "desk_holiday": "guichet fermé (jour férié ou fermeture exceptionnelle)",
    "desk_hours": "guichet fermé (hors horaires d'ouverture)",
    "territory_holiday": "territoire fermé (jour férié local ou fermeture exceptionnelle)",
    "territory_hours": "territoire hors de ses heures locales",
}
