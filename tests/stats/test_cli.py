"""``svi-acd stats …`` as staff and other tools use it (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.cli import main
from svi_acd.stats.commands import empty_report_note

DAY = ["--from", "2026-10-14", "--to", "2026-10-14"]
DAY_DATE = date(2026, 10, 14)
REQUIRED = {"presented", "answered", "abandoned", "short_abandoned", "timeout",
            "answer_rate", "abandon_rate", "service_level", "asa_seconds"}  # fmt: skip


@pytest.fixture
def imported(engine: AsyncEngine, database_url: str, reference_log: Path) -> str:
    """A fresh database with the reference day imported through the CLI; returns its URL."""
    assert main(["stats", "import", "--queue-log", str(reference_log), "--db", database_url]) == 0
    return database_url


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_json_report_follows_the_contract(
    imported: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(capsys, "stats", "report", *DAY, "--by", "day", "--format", "json",
                        "--db", imported)  # fmt: skip
    assert set(document) >= {"definitions", "rows", "totals"}
    assert document["definitions"]["answer_rate"]["numerator"] == "answered"
    assert document["definitions"]["answer_rate"]["denominator"] == "presented"
    assert document["definitions"]["abandon_rate"]["numerator"] == "abandoned"
    row = document["rows"][0]
    assert set(row) >= REQUIRED and row["period"] == "2026-10-14"
    assert (row["presented"], row["answered"], row["abandoned"]) == (13, 6, 1)
    assert all(isinstance(row[name], int) for name in ("presented", "answered", "timeout"))
    assert 0 <= row["answer_rate"] <= 1
    assert document["totals"]["presented"] == 13


def test_ticket_report_rows_carry_ticket_and_parent(
    imported: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(capsys, "stats", "report", *DAY, "--by", "ticket", "--db", imported)
    rows = {row["ticket"]: row for row in document["rows"]}
    assert rows["T100"]["parent_ticket"] == "P1"
    assert rows["T300"]["answer_rate"] is None  # nothing presented: null, not 0


def test_csv_report_is_french_excel_csv(imported: str, tmp_path: Path) -> None:
    output = tmp_path / "rapport.csv"
    assert main(["stats", "report", *DAY, "--by", "queue", "--format", "csv",
                 "--output", str(output), "--db", imported]) == 0  # fmt: skip
    raw = output.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the accents
    lines = raw.decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    assert header[:4] == ["File", "Appels présentés", "Appels servis", "Abandons"]
    assert "Taux de décroché (%)" in header
    support = lines[1].split(";")
    assert support[0] == "support" and support[header.index("Taux de décroché (%)")] == "41,7"
    assert lines[-1].startswith("Total;13;6;1")
    assert lines[-2].startswith("(non renseigné);0;0;0")  # calls that never reached a queue


def test_xlsx_report_has_a_formatted_sheet_and_definitions(imported: str, tmp_path: Path) -> None:
    output = tmp_path / "rapport.xlsx"
    assert main(["stats", "report", *DAY, "--by", "hour", "--format", "xlsx",
                 "--output", str(output), "--db", imported]) == 0  # fmt: skip
    book = load_workbook(output)
    assert book.sheetnames == ["Par heure", "Définitions"]
    sheet = book["Par heure"]
    assert sheet["A1"].value == "Heure" and sheet["A1"].font.bold
    assert sheet["A2"].value == "2026-10-14T09:00+02:00"
    rate_column = [cell.value for cell in sheet[1]].index("Taux de décroché") + 1
    assert sheet.cell(row=2, column=rate_column).number_format == "0.0%"
    assert sheet.cell(row=4, column=1).value == "Total"
    names = [row[0].value for row in book["Définitions"].iter_rows(min_row=2)]
    assert "answer_rate" in names and "abandon_rate" in names


def test_abandoned_calls_command_lists_number_and_time(
    imported: str, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(capsys, "stats", "abandoned", *DAY, "--db", imported)
    assert [(r["caller"], r["time"]) for r in document["rows"]] == [
        ("0612345602", "2026-10-14T09:01:00+02:00")]  # fmt: skip
    capsys.readouterr()
    assert main(["stats", "abandoned", *DAY, "--format", "csv", "--db", imported]) == 0
    assert "0612345602" in capsys.readouterr().out.splitlines()[1]


def test_monthly_table_merges_history_tickets_and_journal(
    imported: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "historique.csv"
    history.write_text("month,calls_presented,calls_served,tickets_opened\n"
                       "2026-09,2100,1900,2000\n2026-10,9999,9999,2400\n")  # fmt: skip
    assert main(["stats", "history", str(history), "--db", imported]) == 0
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("numero;date de creation\nT100;14/10/2026 09:00\nT200;15/10/2026 10:00\n")
    assert main(["stats", "tickets", "import", str(tickets), "--db", imported]) == 0
    document = run_json(capsys, "stats", "monthly", "--db", imported)
    months = {row["month"]: row for row in document["rows"]}
    assert list(months) == ["2026-09", "2026-10"]
    assert (months["2026-09"]["presented"], months["2026-09"]["calls_source"]) == (
        2100, "historique")  # fmt: skip
    october = months["2026-10"]
    assert (october["presented"], october["served"], october["tickets_opened"]) == (13, 6, 2)
    assert (october["calls_source"], october["tickets_source"]) == ("journal", "itsm")
    assert october["calls_per_ticket"] == pytest.approx(13 / 2)


def test_import_reports_malformed_lines_in_json(
    engine: AsyncEngine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "queue_log"
    path.write_text("1792000000|a1|support|NONE|ENTERQUEUE||06\nbroken\n")
    document = run_json(capsys, "stats", "import", "--queue-log", str(path), "--json",
                        "--db", database_url)  # fmt: skip
    assert document["files"][0]["malformed"] == [{"line": 2, "reason": "1 champ(s) au lieu "
                                                  "d'au moins 5"}]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "--from", "2026-10-32", "--to", "2026-10-31", "--by", "day"], "date invalide"),
        (["report", "--from", "2026-10-15", "--to", "2026-10-14", "--by", "day"], "précéder"),
        (["report", *DAY, "--by", "day", "--format", "xlsx"], "--output"),
        (["import", "--queue-log", "/nonexistent/queue_log"], "introuvable"),
        (["monthly", "--from-month", "2026-13"], "mois invalide"),
        (["tickets", "sync", *DAY, "--url", "http://127.0.0.1:9"], "SVI_ACD_MATRIX42_TOKEN"),
    ],
)
def test_bad_input_exits_2_with_a_french_message(
    engine: AsyncEngine, database_url: str, argv: list[str], message: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("SVI_ACD_MATRIX42_TOKEN", raising=False)
    assert main(["stats", *argv, "--db", database_url]) == 2
    assert message in capsys.readouterr().err


def test_forget_numbers_blanks_old_callers(
    imported: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "forget-numbers", "--days", "1", "--db", imported]) == 0
    assert "4 appel(s)" in capsys.readouterr().out
    document = run_json(capsys, "stats", "abandoned", *DAY, "--db", imported)
    assert document["rows"][0]["caller"] is None


def test_a_report_on_an_empty_database_says_so_and_names_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'vide.sqlite3'}"
    assert main(["stats", "report", *DAY, "--by", "day", "--db", url, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["totals"]["received"] == 0
    assert "est vide" in captured.err and str(tmp_path / "vide.sqlite3") in captured.err


def test_a_quiet_period_is_told_apart_from_an_empty_database(
    imported: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    day = ["--from", "2026-10-20", "--to", "2026-10-20"]
    assert main(["stats", "report", *day, "--by", "day", "--db", imported, "--format", "json"]) == 0
    err = capsys.readouterr().err
    assert "aucun appel du 20/10/2026 au 20/10/2026" in err and "19 appel(s)" in err


def test_the_note_never_prints_a_database_password() -> None:
    note = empty_report_note("postgresql://svi:s3cret@db.local/svi", DAY_DATE, DAY_DATE, 0)
    assert "s3cret" not in note and "postgresql://svi:***@db.local/svi" in note


def test_a_day_with_calls_prints_no_note(imported: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["stats", "report", *DAY, "--by", "day", "--db", imported, "--format", "json"]) == 0
    assert capsys.readouterr().err == ""


def test_commands_read_the_checkout_file_the_demo_leaves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command typed in a new shell after the demo reads the demo's database."""
    env_file = tmp_path / "var" / "svi-acd.env"
    env_file.parent.mkdir()
    env_file.write_text(f"SVI_ACD_DATA={tmp_path / 'var'}\n", encoding="utf-8")
    for name in ("SVI_ACD_DB_URL", "SVI_ACD_DATA", "SVI_ACD_ENV"):
        monkeypatch.setenv(name, "")  # recorded, so that what the file sets is undone after
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["stats", "report", *DAY, "--by", "day", "--format", "json"]) == 0
    assert str(tmp_path / "var") in capsys.readouterr().err
