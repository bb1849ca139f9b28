"""What the statistics page and its exports are asked for: a period and a ticket search.

The form is read from the query string (``GET``: a period is a bookmarkable address):
``periode`` (``jour``, ``semaine``, ``mois`` or ``libre``), ``date`` (the day the day, week or
month is taken around), ``du`` and ``au`` (the bounds of a free period, inclusive) and
``ticket`` (part of a ticket number). Dates are Paris dates, ``AAAA-MM-JJ`` as a date field
sends them, or ``JJ/MM/AAAA`` as people type them. Errors are French, one per field, and the
values typed are kept to be shown again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from svi_acd.french import MONTHS, long_date

PERIOD_KINDS = {"jour": "Jour", "semaine": "Semaine", "mois": "Mois", "libre": "Période libre"}
MAX_DAYS = 366
TICKET_MAX = 64


def parse_day(text: str) -> date:
    """A date typed or sent by a date field; ``ValueError`` with a French message otherwise."""
    cleaned = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    shown = cleaned if len(cleaned) <= 40 else cleaned[:40] + "…"
    raise ValueError(f"date invalide « {shown} » : saisissez-la comme 14/10/2026")


def short_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Period:
    """Inclusive Paris dates, and how they were chosen."""

    kind: str  # a key of PERIOD_KINDS
    start: date
    end: date

    @classmethod
    def around(cls, kind: str, day: date) -> Period:
        if kind == "semaine":
            monday = day - timedelta(days=day.weekday())
            return cls(kind, monday, monday + timedelta(days=6))
        if kind == "mois":
            return cls(kind, day.replace(day=1), _month_end(day))
        return cls("jour", day, day)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.kind == "jour":
            return long_date(datetime.combine(self.start, time(0)))
        if self.kind == "mois":
            return f"{MONTHS[self.start.month - 1]} {self.start.year}"
        prefix = f"semaine {self.start.isocalendar()[1]}, " if self.kind == "semaine" else ""
        return f"{prefix}du {short_date(self.start)} au {short_date(self.end)}"

    @property
    def trend_by(self) -> str:
        """The report the figures over time are given by: hours of a day, else days or weeks."""
        if self.days == 1:
            return "hour"
        return "day" if self.days <= 62 else "week"

    def shifted(self, step: int) -> Period:
        """The previous (-1) or next (+1) period of the same kind and length."""
        if self.kind == "mois":
            anchor = self.start - timedelta(days=1) if step < 0 else self.end + timedelta(days=1)
            return Period.around("mois", anchor)
        length = timedelta(days=self.days * step)
        return Period(self.kind, self.start + length, self.end + length)

    def query(self) -> dict[str, str]:
        """The query string that asks for this period again."""
        if self.kind == "libre":
            return {"periode": "libre", "du": self.start.isoformat(), "au": self.end.isoformat()}
        return {"periode": self.kind, "date": self.start.isoformat()}


@dataclass(frozen=True, slots=True)
class StatsForm:
    """The values as typed (shown again in the form), the period they make, the errors."""

    kind: str
    day: str
    start: str
    end: str
    ticket: str
    period: Period | None
    errors: dict[str, str]

    def query(self) -> dict[str, str]:
        """The query string of this request (exports ask for exactly what is on screen)."""
        found = self.period.query() if self.period is not None else {}
        if self.ticket:
            found["ticket"] = self.ticket
        return found


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + "."


def read_form(values: Mapping[str, str], today: date) -> StatsForm:
    """The form of a query string; without any parameter: today (Paris)."""
    kind = values.get("periode", "").strip() or "jour"
    day, start, end = (values.get(name, "").strip() for name in ("date", "du", "au"))
    ticket = values.get("ticket", "").strip()
    errors: dict[str, str] = {}
    period: Period | None = None
    if kind not in PERIOD_KINDS:
        errors["periode"] = "Choisissez jour, semaine, mois ou période libre."
    elif kind == "libre":
        period = _free_period(start, end, errors)
    else:
        try:
            period = Period.around(kind, parse_day(day) if day else today)
        except ValueError as exc:
            errors["date"] = _sentence(str(exc))
    if len(ticket) > TICKET_MAX:
        errors["ticket"] = f"Numéro de ticket trop long : {TICKET_MAX} caractères au plus."
    if errors:
        period = None
    return StatsForm(kind, day, start, end, ticket, period, errors)


def _free_period(start_text: str, end_text: str, errors: dict[str, str]) -> Period | None:
    bounds: list[date] = []
    for name, text, missing in (
        ("du", start_text, "Indiquez la date de début de la période."),
        ("au", end_text, "Indiquez la date de fin de la période."),
    ):
        if not text:
            errors[name] = missing
            continue
        try:
            bounds.append(parse_day(text))
        except ValueError as exc:
            errors[name] = _sentence(str(exc))
    if len(bounds) < 2:
        return None
    start, end = bounds
    if start > end:
        errors["au"] = "La date de fin doit être le même jour que la date de début ou après."
        return None
    if (end - start).days + 1 > MAX_DAYS:
        errors["au"] = f"Période trop longue : {MAX_DAYS} jours au plus."
        return None
    return Period("libre", start, end)
