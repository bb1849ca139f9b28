"""Who is calling: the caller number normalised to E.164 and the territory it comes from.

Asterisk hands us whatever the operator presented: ``+596696123456``, ``0596 69 61 23 45``,
``00596…``, ``33612345678``, ``anonymous``… Overseas departments share the French national
numbering plan: a national ``0596…`` is a Martinique number, although phonenumbers also reads it
as a possible +33 5… number, so national numbers are first matched against the overseas
prefixes of the French plan. Numbers only need to be *possible* (right length for their
country): ranges get allocated faster than the library's metadata is updated, and refusing a
real caller's identity costs more than accepting an unallocated one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

# National prefixes of the French plan that belong to an overseas department (ARCEP plan).
_OVERSEAS_NATIONAL_PREFIXES: dict[str, tuple[str, str]] = {
    "0590": ("+590", "GP"),
    "0690": ("+590", "GP"),
    "0691": ("+590", "GP"),
    "0594": ("+594", "GF"),
    "0694": ("+594", "GF"),
    "0596": ("+596", "MQ"),
    "0696": ("+596", "MQ"),
    "0697": ("+596", "MQ"),
    "0262": ("+262", "RE"),
    "0263": ("+262", "RE"),
    "0692": ("+262", "RE"),
    "0693": ("+262", "RE"),
    "0269": ("+262", "YT"),
    "0639": ("+262", "YT"),
}
# Country codes -> territory; +262 is Réunion except Mayotte's 269/639 numbers. Saint-Barthélemy
# and Saint-Martin share Guadeloupe's +590 and are served with Guadeloupe's window.
_TERRITORY_BY_COUNTRY_CODE = {33: "FR", 594: "GF", 596: "MQ", 590: "GP", 508: "PM", 687: "NC"}
# One rule for routing, crisis messages and statistics: a withheld, foreign or unusable number
# is served, and counted, as a call from metropolitan France.
METROPOLE = "FR"
_MAYOTTE_PREFIXES = ("269", "639")
_SEPARATORS = re.compile(r"[\s.\-/()\u00a0]")
_TRUNK_ZERO = re.compile(r"^\+33\(?0\)?")
_WITHHELD = {"anonymous", "anonyme", "unknown", "inconnu", "restricted", "private", "unavailable"}


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """The normalised caller number (None when withheld or unusable) and its territory."""

    raw: str
    e164: str | None
    territory: str | None

    @property
    def known(self) -> bool:
        return self.e164 is not None

    @property
    def served_as(self) -> str:
        """The territory whose rules apply: the number's own, else metropolitan France."""
        return self.territory or METROPOLE


Identity = tuple[str, str | None]  # (E.164, territory)


def _parsed(text: str) -> Identity | None:
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, _territory(number)


def _territory(number: phonenumbers.PhoneNumber) -> str | None:
    if number.country_code == 262:
        national = str(number.national_number)
        return "YT" if national.startswith(_MAYOTTE_PREFIXES) else "RE"
    return _TERRITORY_BY_COUNTRY_CODE.get(number.country_code)


def _national(digits: str) -> Identity | None:
    if len(digits) == 10:
        # Most callers: a 10-digit national number, placed without phonenumbers (parsing is
        # the costliest step of a routing decision, on the way to the first prompt). Every
        # 9-digit +33 number is a possible one.
        code, territory = _OVERSEAS_NATIONAL_PREFIXES.get(digits[:4], ("+33", "FR"))
        return code + digits[1:], territory
    return _parsed("+33" + digits[1:])


def _identity(raw: str | None) -> Identity | None:
    if raw is None:
        return None
    text = _TRUNK_ZERO.sub("+33", raw.strip().replace(" ", ""))  # "+33 (0)1 …"
    text = _SEPARATORS.sub("", text)
    if not text or text.lower() in _WITHHELD:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        return _parsed(text) if text[1:].isdigit() else None
    if not text.isdigit():
        return None
    if text.startswith("0"):
        return _national(text)
    # Some trunks present the country code without "+" (33612345678, 596696123456).
    return _parsed("+" + text)


def normalise_number(raw: str | None) -> str | None:
    """E.164 form of a presented caller number, or None when it cannot be a phone number."""
    found = _identity(raw)  # not through identify's cache: imports would flush the callers
    return found[0] if found else None


@lru_cache(maxsize=16384)  # phonenumbers parsing is the costliest step; callers come back
def identify(raw: str | None) -> CallerIdentity:
    found = _identity(raw)
    if found is None:
        return CallerIdentity(raw=raw or "", e164=None, territory=None)
    return CallerIdentity(raw=raw or "", e164=found[0], territory=found[1])


def served_territory(raw: str | None) -> str:
    """The territory a call from ``raw`` is served and counted as (see ``METROPOLE``)."""
    return identify(raw).served_as
