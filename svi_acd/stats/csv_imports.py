"""CSV files staff bring: ticket exports from the ITSM, and the desk's monthly history.

Both accept ``;`` or ``,`` as delimiter, UTF-8 (with or without BOM) or Windows-1252, headers
in any case and with or without accents. Every bad row is reported with its line number
(header = line 1) and the caller stores nothing when there is any error.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from svi_acd.stats.itsm import Ticket
from svi_acd.stats.outcome import PARIS

T = TypeVar("T")
MAX_BYTES = 50 * 1024 * 1024

TICKET_HEADERS = {
    "number": ("numero", "numero de ticket", "ticket", "ticketnumber", "n ticket", "reference"),
    "opened": ("date de creation", "createddate", "date_creation", "cree le", "ouvert le",
               "date d'ouverture", "created"),
    "parent": ("parent", "ticket parent", "parentticket", "incident parent", "ticket_parent"),
}  # fmt: skip
HISTORY_HEADERS = {
    "month": ("month", "mois"),
    "presented": ("calls_presented", "appels presentes", "presentes"),
    "served": ("calls_served", "appels servis", "servis"),
    "tickets": ("tickets_opened", "tickets ouverts", "tickets"),
}


@dataclass
class Parsed(Generic[T]):
    items: list[T] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MonthFigures:
    month: str
    presented: int | None
    served: int | None
    tickets_opened: int | None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.strip().lower().replace("°", ""))
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())


def _rows(
    data: bytes, headers: dict[str, tuple[str, ...]]
) -> tuple[dict[str, int], list[list[str]]]:
    text = _decode(data)
    delimiter = (
        ";" if text.split("\n", 1)[0].count(";") >= text.split("\n", 1)[0].count(",") else ","
    )
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        return {}, []
    found = {_key(name): index for index, name in enumerate(rows[0])}
    columns = {
        name: next((found[s] for s in synonyms if s in found), -1)
        for name, synonyms in headers.items()
    }
    return columns, rows[1:]


def _missing(columns: dict[str, int], required: tuple[str, ...], headers: dict) -> list[str]:
    return [
        f"ligne 1 : colonne « {headers[name][0]} » absente"
        for name in required
        if columns.get(name, -1) < 0
    ]


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if 0 <= index < len(row) else ""


def parse_opened_at(text: str) -> datetime:
    """``2026-10-14T09:12:00Z``, ``2026-10-14 09:12``, ``14/10/2026 09:12[:00]`` or a date."""
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    else:
        for pattern in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            raise ValueError(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def parse_ticket_csv(data: bytes) -> Parsed[Ticket]:
    """Tickets from an ITSM export (number, opening date, optional parent ticket)."""
    columns, rows = _rows(data, TICKET_HEADERS)
    result: Parsed[Ticket] = Parsed(errors=_missing(columns, ("number", "opened"), TICKET_HEADERS))
    if result.errors:
        return result
    for line, row in enumerate(rows, 2):
        if not any(cell.strip() for cell in row):
            continue
        number, opened = _cell(row, columns["number"]), _cell(row, columns["opened"])
        if not number:
            result.errors.append(f"ligne {line} : numéro de ticket vide")
            continue
        try:
            when = parse_opened_at(opened)
        except ValueError:
            result.errors.append(f"ligne {line} : date de création invalide « {opened[:30]} »")
            continue
        result.items.append(Ticket(number, when, _cell(row, columns["parent"]) or None))
    return result


def _count(text: str) -> int | None:
    if not text:
        return None
    value = int(text.replace(" ", "").replace("\u202f", ""))
    if value < 0:
        raise ValueError(text)
    return value


def parse_history_csv(data: bytes) -> Parsed[MonthFigures]:
    """The monthly table ``month,calls_presented,calls_served,tickets_opened``."""
    columns, rows = _rows(data, HISTORY_HEADERS)
    result: Parsed[MonthFigures] = Parsed(errors=_missing(columns, ("month",), HISTORY_HEADERS))
    if result.errors:
        return result
    for line, row in enumerate(rows, 2):
        if not any(cell.strip() for cell in row):
            continue
        month = _cell(row, columns["month"])
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            result.errors.append(f"ligne {line} : mois invalide « {month[:20]} » (AAAA-MM)")
            continue
        try:
            figures = [
                _count(_cell(row, columns[name])) for name in ("presented", "served", "tickets")
            ]
        except ValueError:
            result.errors.append(f"ligne {line} : nombre invalide")
            continue
        result.items.append(MonthFigures(month, *figures))
    return result
