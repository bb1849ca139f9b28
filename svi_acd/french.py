"""French wording of dates and times for people (pages, reports, command output)."""

from __future__ import annotations

from datetime import datetime

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")  # fmt: skip


def long_date(moment: datetime) -> str:
    """'lundi 28 décembre 2026' (1er for the first of the month, as written in French)."""
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{DAYS[moment.weekday()]} {day} {MONTHS[moment.month - 1]} {moment.year}"


def long_moment(moment: datetime) -> str:
    """'lundi 28 décembre 2026 à 08 h 00'."""
    return f"{long_date(moment)} à {moment:%H} h {moment:%M}"
