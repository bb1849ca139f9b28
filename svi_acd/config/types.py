"""Value types of the configuration file: clock times, time ranges, weekdays, zones, holidays.

Every parser raises a ``PydanticCustomError`` whose message is a French sentence quoting the bad
value, so that the loader can print ``territoires.MQ.ouverture: heure invalide « 25:00 »``.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BeforeValidator, PlainSerializer
from pydantic_core import PydanticCustomError

DAY_SECONDS = 24 * 3600

WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
CLOSED_WORDS = {"fermé", "ferme", "closed"}

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _fail(kind: str, message: str, value: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message + " « {valeur} »", {"valeur": str(value)})


def parse_clock(value: Any, *, allow_midnight_end: bool = False) -> int:
    """'08:00' -> seconds since midnight. '24:00' only as the end of a range."""
    if not isinstance(value, str):
        raise _fail("heure", "heure invalide (format HH:MM attendu)", value)
    match = _CLOCK.match(value.strip())
    if not match:
        raise _fail("heure", "heure invalide (format HH:MM attendu)", value)
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    limit = DAY_SECONDS if allow_midnight_end else DAY_SECONDS - 1
    if minutes > 59 or seconds > 59 or total > limit:
        raise _fail("heure", "heure invalide", value)
    return total


def format_clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def parse_range(value: Any) -> tuple[int, int]:
    """'08:00-18:30' -> (28800, 66600): open at the start, closed from the end on."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        value = f"{value[0]}-{value[1]}"
    if not isinstance(value, str) or value.count("-") != 1:
        raise _fail("plage", "plage horaire invalide (format HH:MM-HH:MM attendu)", value)
    start_text, end_text = value.split("-")
    start = parse_clock(start_text.strip())
    end = parse_clock(end_text.strip(), allow_midnight_end=True)
    if end <= start:
        raise _fail("plage", "plage horaire vide ou inversée", value)
    return start, end


def parse_ranges(value: Any) -> tuple[tuple[int, int], ...]:
    """A day's opening: 'fermé', one range, or a list of ranges (sorted, not overlapping)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in CLOSED_WORDS):
        return ()
    items = value if isinstance(value, list) else [value]
    ranges = sorted(parse_range(item) for item in items)
    for (_, end), (start, _) in pairwise(ranges):
        if start < end:
            raise _fail("plage", "plages horaires qui se chevauchent", value)
    return tuple(ranges)


def format_ranges(ranges: tuple[tuple[int, int], ...]) -> str | list[str]:
    if not ranges:
        return "fermé"
    texts = [f"{format_clock(a)}-{format_clock(b)}" for a, b in ranges]
    return texts[0] if len(texts) == 1 else texts


def parse_weekday(value: Any) -> int:
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS_FR:
        return WEEKDAYS_FR.index(value.strip().lower())
    raise _fail("jour", "jour de la semaine invalide (lundi … dimanche)", value)


def parse_zone(value: Any) -> str:
    if isinstance(value, str):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return value
    raise _fail("fuseau", "fuseau horaire inconnu (nom IANA attendu, ex. Europe/Paris)", value)


def parse_subdivision(value: Any) -> str | None:
    """A French holidays subdivision ('972', 'NC'…); None means metropolitan holidays only."""
    if value is None or value == "" or value == "metropole":
        return None
    text = str(value)
    if text not in holidays.France.subdivisions:
        known = ", ".join(holidays.France.subdivisions)
        raise _fail("feries", f"calendrier de jours fériés inconnu (valeurs : {known})", value)
    return text


def parse_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise _fail("date", "date invalide (format AAAA-MM-JJ attendu)", value) from None


ClockTime = Annotated[
    int, BeforeValidator(parse_clock), PlainSerializer(format_clock, return_type=str)
]
EndClockTime = Annotated[
    int,
    BeforeValidator(lambda v: parse_clock(v, allow_midnight_end=True)),
    PlainSerializer(format_clock, return_type=str),
]
Ranges = Annotated[
    tuple[tuple[int, int], ...],
    BeforeValidator(parse_ranges),
    PlainSerializer(format_ranges),
]
Weekday = Annotated[
    int, BeforeValidator(parse_weekday), PlainSerializer(lambda d: WEEKDAYS_FR[d], return_type=str)
]
ZoneName = Annotated[str, BeforeValidator(parse_zone)]
Subdivision = Annotated[str | None, BeforeValidator(parse_subdivision)]
Day = Annotated[date, BeforeValidator(parse_date)]
