"""CSV (``;``, French headers, decimal comma: what Excel in France opens as is) and XLSX.

A ``Table`` is what both formats render: typed columns, rows, an optional totals row, and the
definitions and parameters that go in the workbook's « Définitions » sheet.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # openpyxl is loaded by the xlsx export only (0.1 s at every command)
    from openpyxl import Workbook

from svi_acd.stats.reports import Report

KEY_LABELS = {
    "period": "Période",
    "queue": "File",
    "agent": "Agent",
    "territory": "Territoire",
    "priority": "VIP / P0",
    "branch": "Branche du menu",
    "ticket": "Ticket",
    "parent_ticket": "Ticket parent",
}
PERIOD_LABELS = {"hour": "Heure", "day": "Jour", "week": "Semaine ISO", "month": "Mois"}
SHEET_TITLES = {
    "hour": "Par heure",
    "day": "Par jour",
    "week": "Par semaine",
    "month": "Par mois",
    "queue": "Par file",
    "agent": "Par agent",
    "territory": "Par territoire",
    "vip": "VIP et P0",
    "branch": "Par branche",
    "ticket": "Par ticket",
    "parent_ticket": "Par ticket parent",
}
REPORT_MEASURES = (
    "presented", "answered", "abandoned", "short_abandoned", "timeout", "exit_empty",
    "exit_key", "withdrawn", "in_queue", "answer_rate", "abandon_rate", "service_level",
    "asa_seconds", "aht_seconds", "max_wait_seconds", "received", "closed", "territory_closed",
    "deterred", "overflow", "callback", "queued", "other", "queue_calls", "vip", "transferred",
)  # fmt: skip
RATES = {"answer_rate", "abandon_rate", "service_level", "calls_per_ticket"}
SECONDS = {"asa_seconds", "aht_seconds"}
HEADER_COLOUR = "000091"  # DSFR blue France


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: str = "int"  # int, rate, seconds, text
    empty: str = ""  # shown for a missing value (null in JSON)


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    definitions: dict[str, dict[str, str]] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)


def _kind(name: str) -> str:
    return "rate" if name in RATES else "seconds" if name in SECONDS else "int"


def report_table(report: Report) -> Table:
    meta = report.as_json()
    labels = meta["definitions"]
    keys = ["ticket", "parent_ticket"] if report.by == "ticket" else []
    keys = keys or (["period"] if report.by in PERIOD_LABELS else [_key_name(report.by)])
    columns = [
        Column(k, PERIOD_LABELS.get(report.by, KEY_LABELS[k]) if k == "period" else KEY_LABELS[k],
               "text", "(non renseigné)")
        for k in keys
    ]  # fmt: skip
    columns += [Column(name, labels[name]["label"], _kind(name)) for name in REPORT_MEASURES]
    if report.by == "agent":
        columns.append(Column("ring_no_answer", "Sonneries sans réponse"))
    return Table(
        SHEET_TITLES[report.by], columns, report.rows, report.totals, labels, meta["parameters"]
    )


def _key_name(by: str) -> str:
    return "priority" if by == "vip" else by


def _french_number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def csv_cell(value: Any, kind: str, empty: str = "") -> str:
    if value is None:
        return empty
    if kind == "rate":
        return _french_number(value * 100, 1)
    if kind == "seconds":
        return _french_number(value, 1)
    return str(value)


def _csv_header(column: Column) -> str:
    return f"{column.label} (%)" if column.kind == "rate" else column.label


def to_csv(table: Table) -> str:
    """CSV text; write it encoded ``utf-8-sig`` so that Excel reads the accents."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_csv_header(column) for column in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(row.get(c.key), c.kind, c.empty) for c in table.columns])
    if table.totals is not None:
        total = ["Total" if i == 0 else csv_cell(table.totals.get(c.key), c.kind)
                 for i, c in enumerate(table.columns)]  # fmt: skip
        writer.writerow(total)
    return out.getvalue()


def _xlsx_cell(value: Any, column: Column) -> Any:
    return column.empty or None if value is None else value


def _sheet(workbook: Workbook, table: Table, first: bool) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = workbook.active if first else workbook.create_sheet()
    assert sheet is not None
    sheet.title = table.title[:31]
    sheet.append([column.label for column in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_COLOUR)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in table.rows:
        sheet.append([_xlsx_cell(row.get(column.key), column) for column in table.columns])
    if table.totals is not None:
        sheet.append(["Total", *(table.totals.get(c.key) for c in table.columns[1:])])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for index, column in enumerate(table.columns, 1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = 26 if column.kind == "text" else 14
        number_format = {"rate": "0.0%", "seconds": "0.0"}.get(column.kind)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"


def _definitions_sheet(workbook: Workbook, tables: list[Table]) -> None:
    from openpyxl.styles import Font, PatternFill

    sheet = workbook.create_sheet("Définitions")
    sheet.append(["Indicateur", "Libellé", "Numérateur", "Dénominateur", "Définition"])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_COLOUR)
    seen: set[str] = set()
    for table in tables:
        for name, meaning in table.definitions.items():
            if name not in seen:
                seen.add(name)
                sheet.append([name, meaning.get("label"), meaning.get("numerator"),
                              meaning.get("denominator"), meaning.get("description")])  # fmt: skip
    sheet.append([])
    sheet.append(["Paramètres"])
    sheet[sheet.max_row][0].font = Font(bold=True)
    for table in tables:
        for name, value in table.parameters.items():
            sheet.append([name, str(value)])
    for letter, width in zip("ABCDE", (20, 34, 22, 16, 70), strict=True):
        sheet.column_dimensions[letter].width = width


def write_xlsx(tables: list[Table], path: Path) -> None:
    """One formatted sheet per table, then the « Définitions » sheet."""
    from openpyxl import Workbook

    workbook = Workbook()
    for index, table in enumerate(tables):
        _sheet(workbook, table, index == 0)
    _definitions_sheet(workbook, tables)
    workbook.save(path)
