"""Read the VIP/P0 directory as the ministry provides it: a CSV file saved from Excel.

Columns ``numero;nom;entite;site;niveau;debut;fin`` (accents and case in the header are
tolerated, ``;`` or ``,`` as delimiter). French Excel saves "CSV (séparateur : point-virgule)"
in Windows-1252 and dates as ``31/12/2026``: both are accepted, as are UTF-8 with or without
BOM and ISO dates. Every bad row is reported with its line number; the caller decides to store
nothing when there is any error.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from svi_acd.routing.caller import normalise_number
from svi_acd.routing.directory import DirectoryEntry

COLUMNS = ("numero", "nom", "entite", "site", "niveau", "debut", "fin")
REQUIRED = ("numero", "nom", "niveau")
LEVELS = {"VIP": "VIP", "P0": "P0"}
MAX_BYTES = 5 * 1024 * 1024  # ~50,000 rows: far above the ministry's ~200 VIPs


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # line number in the file, header = 1
    message: str

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.message}"


@dataclass
class ImportResult:
    entries: list[DirectoryEntry] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _header_key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.strip().lower())
    return "".join(char for char in folded if not unicodedata.combining(char))


def _parse_day(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"date invalide « {text} » (AAAA-MM-JJ ou JJ/MM/AAAA)")


def entry_from_row(row: dict[str, str]) -> DirectoryEntry:
    raw_number = row.get("numero", "")
    number = normalise_number(raw_number)
    if number is None:
        raise ValueError(f"numéro de téléphone invalide « {raw_number} »")
    name = row.get("nom", "")
    if not name:
        raise ValueError("nom manquant")
    level = LEVELS.get(row.get("niveau", "").upper())
    if level is None:
        raise ValueError(f"niveau invalide « {row.get('niveau', '')} » (VIP ou P0)")
    start = _parse_day(row["debut"]) if row.get("debut") else None
    end = _parse_day(row["fin"]) if row.get("fin") else None
    if start and end and end < start:
        raise ValueError(f"période inversée : fin {end:%d/%m/%Y} avant début {start:%d/%m/%Y}")
    return DirectoryEntry(
        number=number,
        name=name,
        entity=row.get("entite", ""),
        site=row.get("site", ""),
        level=level,  # type: ignore[arg-type]
        start=start,
        end=end,
    )


def parse_directory_csv(data: bytes) -> ImportResult:
    result = ImportResult()
    if len(data) > MAX_BYTES:
        result.errors.append(RowError(1, f"fichier trop gros (plus de {MAX_BYTES // 1024} Kio)"))
        return result
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [_header_key(name) for name in next(reader)]
    except StopIteration:
        result.errors.append(RowError(1, "fichier vide"))
        return result
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        expected = ";".join(COLUMNS)
        result.errors.append(
            RowError(
                1, f"colonnes manquantes : {', '.join(missing)} (en-tête attendu : {expected})"
            )
        )
        return result
    seen_vip: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue  # Excel leaves blank lines at the end
        if len(values) > len(header):
            result.errors.append(RowError(line, f"{len(values)} colonnes au lieu de {len(header)}"))
            continue
        row = {key: value.strip() for key, value in zip(header, values, strict=False)}
        try:
            entry = entry_from_row(row)
        except ValueError as exc:
            result.errors.append(RowError(line, str(exc)))
            continue
        if entry.level == "VIP":
            if entry.number in seen_vip:
                message = f"numéro {entry.number} déjà déclaré VIP ligne {seen_vip[entry.number]}"
                result.errors.append(RowError(line, message))
                continue
            seen_vip[entry.number] = line
        result.entries.append(entry)
    return result
