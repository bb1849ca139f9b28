"""The directory in a real database (SQLite and PostgreSQL): replace, list, search, CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.cli import main
from svi_acd.directory.store import list_entries, load_directory, replace_directory
from svi_acd.routing.directory import DirectoryEntry

ENTRIES = [
    DirectoryEntry("+33612345678", "Dupont Marie", "Direction générale", "Paris", "VIP"),
    DirectoryEntry("+33145678912", "Service comptable", "DAF", "Nantes", "P0",
                   date(2026, 12, 1), date(2026, 12, 31)),
]  # fmt: skip


async def test_import_replaces_the_whole_directory(engine: AsyncEngine) -> None:
    await replace_directory(engine, ENTRIES, source="a.csv", imported_by="test")
    await replace_directory(engine, ENTRIES[:1], source="b.csv", imported_by="test")
    assert await list_entries(engine) == ENTRIES[:1]


async def test_directory_loaded_from_the_database_answers_lookups(engine: AsyncEngine) -> None:
    await replace_directory(engine, ENTRIES, source="a.csv", imported_by="test")
    directory = await load_directory(engine)
    assert directory.lookup("+33145678912", date(2026, 12, 2)).priority == "P0"
    assert directory.lookup("+33612345678", date(2026, 12, 2)).vip


@pytest.mark.parametrize(
    "search", ["' OR 1=1 --", "%", "_", "\\", "'; DROP TABLE vip_directory; --"]
)
async def test_search_text_is_never_sql(engine: AsyncEngine, search: str) -> None:
    await replace_directory(engine, ENTRIES, source="a.csv", imported_by="test")
    assert await list_entries(engine, search) == []
    assert len(await list_entries(engine)) == 2


async def test_search_by_name_entity_or_number(engine: AsyncEngine) -> None:
    await replace_directory(engine, ENTRIES, source="a.csv", imported_by="test")
    assert [e.name for e in await list_entries(engine, "dupont")] == ["Dupont Marie"]
    assert [e.name for e in await list_entries(engine, "daf")] == ["Service comptable"]
    assert [e.name for e in await list_entries(engine, "14567")] == ["Service comptable"]


def test_cli_refuses_a_file_with_a_bad_row_and_keeps_the_directory(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text("numero;nom;entite;site;niveau;debut;fin\n0612345678;Dupont;DG;Paris;VIP;;\n")
    assert main(["vip", "import", str(good), "--db", database_url]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "numero;nom;entite;site;niveau;debut;fin\n0145678912;Autre;DG;Paris;VIP;;\nxx;Y;Z;W;VIP;;\n"
    )
    capsys.readouterr()
    assert main(["vip", "import", str(bad), "--db", database_url]) == 2
    assert "ligne 3 : numéro de téléphone invalide « xx »" in capsys.readouterr().err
    assert main(["vip", "list", "--json", "--db", database_url]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["numero"] for row in rows] == ["+33612345678"]


def test_route_json_contract_with_a_vip(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "vip.csv"
    csv_file.write_text(
        "numero;nom;entite;site;niveau;debut;fin\n0696201234;Léa;Préfecture;FdF;VIP;;\n"
    )
    assert main(["vip", "import", str(csv_file), "--db", database_url]) == 0
    capsys.readouterr()
    argv = ["route", "--caller", "0696 20 12 34", "--at", "2026-07-08T13:00:00+02:00", "--json"]
    assert main([*argv, "--db", database_url]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "caller": "+596696201234",
        "caller_raw": "0696 20 12 34",
        "territory": "MQ",
        "territory_name": "Martinique",
        "at": "2026-07-08T13:00:00+02:00",
        "open": False,
        "reason": "territory_hours",
        "reason_text": "territoire hors de ses heures locales",
        "holiday": None,
        "vip": True,
        "priority": "P0",
        "directory": {"name": "Léa", "entity": "Préfecture", "site": "FdF", "level": "VIP"},
        "open_until": None,
        "next_open": "2026-07-08T14:00:00+02:00",
        "next_open_local": "2026-07-08T08:00:00-04:00",
    }
