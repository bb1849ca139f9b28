"""« Statistiques » over HTTP on the reference day: the figures shown, the exports equal to
them, French errors that keep what was typed, and filters that injection cannot turn."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from svi_acd.config.model import Settings
from svi_acd.web.stats_dashboard import TABLE_NAMES
from tests.web.stats_app import StatsClient, as_csv, parse_page, stats_client, unit_free

DAY = {"periode": "jour", "date": "2026-10-14"}
# Hand count of the reference day: see tests/stats/test_reports.py (DAY_TOTALS).
SHOWN = {
    "presented": "13", "answered": "6", "abandoned": "1", "short_abandoned": "2",
    "answer_rate": "46,2 %", "abandon_rate": "7,7 %", "service_level": "83,3 %",
    "asa_seconds": "15,5 s", "aht_seconds": "123,3 s", "max_wait_seconds": "90 s",
    "received": "19", "closed": "1", "territory_closed": "1", "deterred": "1",
    "overflow": "1", "callback": "1", "queued": "13", "other": "1", "vip": "2",
}  # fmt: skip


@pytest.fixture
async def client(settings: Settings, tmp_path: Path) -> AsyncIterator[StatsClient]:
    async with stats_client(settings, tmp_path) as test_client:
        yield test_client


def read_csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff"), "UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


async def test_the_day_page_shows_the_hand_counted_figures(client: StatsClient) -> None:
    status, html, _ = await client.get("/statistiques", **DAY)
    assert status == 200
    page = parse_page(html)
    assert page.values == SHOWN
    assert "Mercredi 14 octobre 2026" in html


async def test_each_indicator_shows_its_definition(client: StatsClient) -> None:
    _, html, _ = await client.get("/statistiques", **DAY)
    assert "Appels servis ÷ Appels présentés" in html  # taux de décroché
    assert "Abandons ÷ Appels présentés" in html  # taux d'abandon
    assert "appels servis avec une attente ≤ 30 s ÷ Appels servis" in html
    assert "Appels en file moins les abandons courts (&lt; 5 s)" in html


async def test_without_parameters_the_page_shows_today_in_paris(client: StatsClient) -> None:
    _, html, _ = await client.get("/statistiques")
    assert parse_page(html).values == SHOWN  # the service clock reads 2026-10-14 12:00


async def test_tables_by_territory_hour_wait_and_month(client: StatsClient) -> None:
    _, html, _ = await client.get("/statistiques", **DAY)
    tables = parse_page(html).tables
    territories = {row[0]: row for row in tables["territoires"][1:]}
    assert territories["Métropole (FR)"][1:6] == ["16", "0", "12", "5", "1"]  # withheld: FR
    assert "(non renseigné)" not in territories
    assert territories["Martinique (MQ)"][2] == "1"  # hors fenêtre du territoire
    assert territories["Total"][1] == "19"
    hours = {row[0]: row[1:] for row in tables["heures"][1:]}
    assert hours["09 h"] == ["10", "6", "1", "1"] and hours["10 h"] == ["9", "7", "5", "0"]
    waits = tables["attente"][1:]
    assert sum(int(row[1]) for row in waits) == 6  # answered
    assert sum(int(row[2]) for row in waits) == 1  # abandoned
    assert sum(int(row[1]) + int(row[2]) + int(row[3]) for row in waits) == 15  # queue calls
    months = {row[0]: row[1:4] for row in tables["mensuel"][1:]}
    assert months == {"2026-08": ["900", "850", "300"], "2026-09": ["1000", "930", "320"],
                      "2026-10": ["13", "6", "3"]}  # fmt: skip


async def test_tickets_are_grouped_under_their_parent(client: StatsClient) -> None:
    _, html, _ = await client.get("/statistiques", **DAY)
    rows = [row[:5] for row in parse_page(html).tables["tickets"][1:]]
    assert rows == [
        ["P1", "Ensemble", "2", "2", "2"],
        ["P1", "T100", "1", "1", "1"],
        ["P1", "T200", "1", "1", "1"],
        ["(aucun)", "T300", "1", "0", "0"],  # no parent; its only call was a short abandon
        ["Total", "", "3", "2", "2"],
    ]


async def test_searching_a_ticket_keeps_its_group(client: StatsClient) -> None:
    _, html, _ = await client.get("/statistiques", **DAY, ticket="t10")
    rows = [row[:2] for row in parse_page(html).tables["tickets"][1:]]
    assert rows == [["P1", "Ensemble"], ["P1", "T100"]]
    _, html, _ = await client.get("/statistiques", **DAY, ticket="P1")
    assert [row[1] for row in parse_page(html).tables["tickets"][1:]] == [
        "Ensemble", "T100", "T200"]  # fmt: skip
    assert 'value="P1"' in html  # the search stays in its field


@pytest.mark.parametrize("name", TABLE_NAMES)
async def test_each_csv_export_equals_the_table_on_screen(client: StatsClient, name: str) -> None:
    _, html, _ = await client.get("/statistiques", **DAY)
    status, text, headers = await client.get("/statistiques/export.csv", **DAY, tableau=name)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert headers["Content-Disposition"] == (
        f'attachment; filename="statistiques_2026-10-14_{name}.csv"')  # fmt: skip
    exported = read_csv(text)
    page = parse_page(html)
    if name == "indicateurs":  # the tiles and the table of calls received
        labels = {row[0]: row[1] for row in page.tables["recus"][1:]}
        header, row = exported
        assert row[0] == "mercredi 14 octobre 2026"
        assert labels["Appels reçus"] == row[header.index("Appels reçus")] == "19"
        shown = [unit_free(page.values[key]) for key in SHOWN]
        assert sorted(shown) == sorted(row[1:])
        return
    on_screen = [[as_csv(cell) for cell in row] for row in page.tables[name]]
    assert exported == on_screen


async def test_the_evolution_export_total_is_the_indicators(client: StatsClient) -> None:
    _, text, _ = await client.get("/statistiques/export.csv", **DAY)  # default table
    header, *rows = read_csv(text)
    total = dict(zip(header, rows[-1], strict=True))
    assert rows[-1][0] == "Total"
    assert (total["Appels présentés"], total["Appels servis"], total["Abandons"]) == (
        "13", "6", "1")  # fmt: skip
    assert total["Taux de décroché (%)"] == "46,2"


async def test_a_week_has_a_row_per_day_even_without_calls(client: StatsClient) -> None:
    status, html, _ = await client.get("/statistiques", periode="semaine", date="2026-10-16")
    assert status == 200
    assert "Semaine 42, du 12/10/2026 au 18/10/2026" in html
    rows = parse_page(html).tables["evolution"][1:]
    assert [row[0] for row in rows] == ["lun. 12/10/2026", "mar. 13/10/2026", "mer. 14/10/2026",
                                        "jeu. 15/10/2026", "ven. 16/10/2026", "sam. 17/10/2026",
                                        "dim. 18/10/2026", "Total"]  # fmt: skip
    assert rows[0][1:4] == ["0", "0", "0"] and rows[0][6] == "—"  # no rate without calls
    assert rows[2][1:4] == ["19", "13", "6"]


async def test_xlsx_export_has_every_table_and_the_definitions(
    client: StatsClient, tmp_path: Path
) -> None:
    status, body = await client.get_bytes("/statistiques/export.xlsx", **DAY)
    assert status == 200
    path = tmp_path / "export.xlsx"
    path.write_bytes(body)
    workbook = load_workbook(path)
    assert workbook.sheetnames == [
        "Indicateurs", "Évolution (heure)", "Appels par heure", "Répartition des attentes",
        "Par territoire", "Par ticket", "Tableau mensuel", "Définitions"]  # fmt: skip
    trend = list(workbook["Évolution (heure)"].values)
    assert trend[-1][:4] == ("Total", 19, 13, 6)
    definitions = [row[0] for row in workbook["Définitions"].values]
    assert "answer_rate" in definitions and definitions.count("from") == 1


async def test_a_free_period_with_bad_dates_explains_and_keeps_what_was_typed(
    client: StatsClient,
) -> None:
    status, html, _ = await client.get("/statistiques", periode="libre", du="2026-13-45",
                                       au="14/10/2026", ticket="T100")  # fmt: skip
    assert status == 400
    assert "Date invalide « 2026-13-45 » : saisissez-la comme 14/10/2026." in html
    assert 'value="2026-13-45"' in html and 'value="14/10/2026"' in html
    assert 'value="T100"' in html
    assert 'id="periode-affichee"' not in html  # no figures for a period that does not exist


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"periode": "libre", "du": "2026-10-14", "au": "2026-10-01"}, "au",
         "La date de fin doit être le même jour que la date de début ou après."),
        ({"periode": "libre", "au": "2026-10-01"}, "du", "Indiquez la date de début"),
        ({"periode": "libre", "du": "2025-01-01", "au": "2026-10-01"}, "au",
         "Période trop longue : 366 jours au plus."),
        ({"periode": "trimestre"}, "periode", "Choisissez jour, semaine, mois"),
        ({"periode": "jour", "ticket": "T" * 65}, "ticket", "Numéro de ticket trop long"),
    ],
)  # fmt: skip
async def test_form_errors_are_french_and_point_at_their_field(
    client: StatsClient, query: dict[str, str], field: str, message: str
) -> None:
    status, html, _ = await client.get("/statistiques", **query)
    assert status == 400
    assert message in html
    assert f'href="#champ-{field}"' in html  # the error summary links to the field


async def test_typed_markup_comes_back_inert(client: StatsClient) -> None:
    payload = '"><script>alert(1)</script>'
    _, html, _ = await client.get("/statistiques", periode="jour", date=payload)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "search",
    ["' OR '1'='1", "T100' --", "%", "_", "'; DROP TABLE stats_calls; --", '" OR ""="'],
)
async def test_injection_in_the_ticket_search_finds_nothing_and_breaks_nothing(
    client: StatsClient, search: str
) -> None:
    status, html, _ = await client.get("/statistiques", **DAY, ticket=search)
    assert status == 200
    rows = parse_page(html).tables["tickets"][1:]
    assert rows == [["Aucun appel sur cette période."]]
    _, text, _ = await client.get("/statistiques/export.csv", **DAY, tableau="tickets",
                                  ticket=search)  # fmt: skip
    assert len(read_csv(text)) == 1  # the header only
    _, html, _ = await client.get("/statistiques", **DAY)
    assert parse_page(html).values == SHOWN  # the data is still all there


@pytest.mark.parametrize(
    "day", ["2026-10-14' OR 1=1 --", "2026-10-14; DROP TABLE stats_calls", "1 UNION SELECT 1"]
)
async def test_injection_in_the_dates_is_a_date_error(client: StatsClient, day: str) -> None:
    status, html, _ = await client.get("/statistiques", periode="jour", date=day)
    assert status == 400 and "Date invalide" in html
    status, _, _ = await client.get("/statistiques/export.csv", periode="jour", date=day)
    assert status == 400
    _, html, _ = await client.get("/statistiques", **DAY)
    assert parse_page(html).values == SHOWN


async def test_an_unknown_export_table_is_refused_in_french(client: StatsClient) -> None:
    status, text, _ = await client.get("/statistiques/export.csv", **DAY, tableau="comptes")
    assert status == 400 and text.startswith("Tableau inconnu")


async def test_previous_and_next_links_keep_the_kind_of_period(client: StatsClient) -> None:
    _, html, _ = await client.get("/statistiques", periode="mois", date="2026-10-14")
    assert 'href="/statistiques?periode=mois&amp;date=2026-09-01"' in html
    assert 'href="/statistiques?periode=mois&amp;date=2026-11-01"' in html


async def test_without_login_the_page_sends_to_the_login_form(
    settings: Settings, tmp_path: Path
) -> None:
    async with stats_client(settings, tmp_path, with_data=False) as test_client:
        response = await test_client.client.get("/statistiques", allow_redirects=False)
        assert response.status in (302, 303)
        assert response.headers["Location"].startswith("/connexion")
        export = await test_client.client.get("/statistiques/export.csv", allow_redirects=False)
        assert export.status in (302, 303, 401)
