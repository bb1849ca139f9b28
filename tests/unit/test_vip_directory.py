"""The VIP/P0 directory: CSV as the ministry saves it from Excel, and the lookup by date."""

from __future__ import annotations

from datetime import date

import pytest

from svi_acd.directory.csv_import import parse_directory_csv
from svi_acd.routing.directory import DirectoryEntry, VipDirectory

HEADER = "numero;nom;entite;site;niveau;debut;fin\n"


def parse(text: str, encoding: str = "utf-8"):
    return parse_directory_csv(text.encode(encoding))


def test_semicolon_file_with_bom_and_french_dates() -> None:
    result = parse_directory_csv(
        b"\xef\xbb\xbf"
        + (
            HEADER
            + "06 12 34 56 78;Dupont Marie;Direction générale;Paris;VIP;;\n"
            + "0145678912;Service comptable;DAF;Nantes;p0;01/12/2026;31/12/2026\n"
        ).encode()
    )
    assert result.ok, result.errors
    assert result.entries == [
        DirectoryEntry("+33612345678", "Dupont Marie", "Direction générale", "Paris", "VIP"),
        DirectoryEntry("+33145678912", "Service comptable", "DAF", "Nantes", "P0",
                       date(2026, 12, 1), date(2026, 12, 31)),
    ]  # fmt: skip


def test_comma_delimiter_quotes_accented_header_and_windows_1252() -> None:
    text = (
        "Numéro,Nom,Entité,Site,Niveau,Début,Fin\r\n"
        '+596696201234,"Léa Béranger, adjointe",Préfecture,Fort-de-France,VIP,,\r\n'
        "\r\n"
    )
    result = parse(text, "cp1252")
    assert result.ok, result.errors
    [entry] = result.entries
    assert (entry.number, entry.name, entry.entity) == (
        "+596696201234", "Léa Béranger, adjointe", "Préfecture",
    )  # fmt: skip


def test_bad_rows_are_reported_with_their_line_numbers() -> None:
    result = parse(
        HEADER
        + "0612345678;Bon;DG;Paris;VIP;;\n"  # line 2
        + "abc;Mauvais numéro;DG;Paris;VIP;;\n"  # line 3
        + "0145678912;;DG;Paris;VIP;;\n"  # line 4
        + "0145678913;Niveau;DG;Paris;VVIP;;\n"  # line 5
        + "0145678914;Date;DG;Paris;P0;2026-13-01;\n"  # line 6
        + "0145678915;Période;DG;Paris;P0;2026-12-31;2026-12-01\n"  # line 7
        + "06 12 34 56 78;Doublon;DG;Paris;VIP;;\n"  # line 8
        + "0145678916;Trop;DG;Paris;P0;;;en trop\n"  # line 9
    )
    assert [(error.line, error.message) for error in result.errors] == [
        (3, "numéro de téléphone invalide « abc »"),
        (4, "nom manquant"),
        (5, "niveau invalide « VVIP » (VIP ou P0)"),
        (6, "date invalide « 2026-13-01 » (AAAA-MM-JJ ou JJ/MM/AAAA)"),
        (7, "période inversée : fin 01/12/2026 avant début 31/12/2026"),
        (8, "numéro +33612345678 déjà déclaré VIP ligne 2"),
        (9, "8 colonnes au lieu de 7"),
    ]
    assert str(result.errors[0]) == "ligne 3 : numéro de téléphone invalide « abc »"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "fichier vide"),
        (b"telephone;nom\n0612345678;X\n", "colonnes manquantes : numero, niveau"),
        (b"x" * (5 * 1024 * 1024 + 1), "fichier trop gros"),
    ],
)
def test_unusable_files_are_refused_at_line_one(content: bytes, message: str) -> None:
    result = parse_directory_csv(content)
    assert not result.entries
    assert result.errors[0].line == 1
    assert result.errors[0].message.startswith(message)


def test_a_p0_period_applies_only_between_its_dates() -> None:
    directory = VipDirectory([
        DirectoryEntry("+33145678912", "Comptables", level="P0",
                       start=date(2026, 12, 1), end=date(2026, 12, 31)),
    ])  # fmt: skip
    assert directory.lookup("+33145678912", date(2026, 11, 30)).priority is None
    assert directory.lookup("+33145678912", date(2026, 12, 1)).priority == "P0"
    assert directory.lookup("+33145678912", date(2026, 12, 31)).priority == "P0"
    assert directory.lookup("+33145678912", date(2027, 1, 1)).priority is None
    assert not directory.lookup("+33145678912", date(2026, 12, 15)).vip


def test_vip_is_always_p0_and_wins_over_a_p0_period() -> None:
    directory = VipDirectory([
        DirectoryEntry("+33612345678", "Groupe", level="P0", start=date(2026, 1, 1)),
        DirectoryEntry("+33612345678", "Dupont Marie", level="VIP"),
    ])  # fmt: skip
    status = directory.lookup("+33612345678", date(2026, 6, 1))
    assert (status.vip, status.priority) == (True, "P0")
    assert status.entry is not None and status.entry.name == "Dupont Marie"
    assert not directory.lookup(None, date(2026, 6, 1)).vip
    assert directory.lookup("+33600000000", date(2026, 6, 1)).priority is None
