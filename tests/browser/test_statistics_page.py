"""« Statistiques » in a real headless Chromium, for a ``consultation`` user, on the
statistics reference day: the figures shown, the CSV export equal to them, accessibility."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from svi_acd.web.app import WebResources
from tests.browser.harness import Credentials, Customize
from tests.web.stats_app import as_csv, load_reference_data

Login = Callable[[Any, str], Credentials]
DAY_URL = "/statistiques?periode=jour&date=2026-10-14"
# The reference day counted by hand (tests/stats/test_reports.py).
SHOWN = {
    "presented": "13", "answered": "6", "abandoned": "1", "short_abandoned": "2",
    "answer_rate": "46,2 %", "abandon_rate": "7,7 %", "service_level": "83,3 %",
    "asa_seconds": "15,5 s", "aht_seconds": "123,3 s", "max_wait_seconds": "90 s",
    "received": "19", "closed": "1", "territory_closed": "1", "deterred": "1",
    "overflow": "1", "callback": "1", "queued": "13", "vip": "2",
}  # fmt: skip


@pytest.fixture
def customize_resources(tmp_path: Path) -> Customize:
    async def with_reference_day(resources: WebResources, stack: AsyncExitStack) -> WebResources:
        assert resources.engine is not None
        folder = tmp_path / "journal"
        folder.mkdir()
        await load_reference_data(resources.engine, folder)
        return resources

    return with_reference_day


def shown_figures(page: Any) -> dict[str, str]:
    return {name: " ".join(page.locator(f'[data-mesure="{name}"]').inner_text().split())
            for name in SHOWN}  # fmt: skip


def table_cells(page: Any, name: str) -> list[list[str]]:
    return page.eval_on_selector(
        f"#tableau-{name} table",
        """table => [...table.rows].map(row =>
               [...row.cells].map(cell => cell.textContent.trim().replace(/\\s+/g, ' ')))""",
    )


def test_a_consultation_user_sees_the_figures_and_downloads_the_same_ones(
    page: Any, login: Login, screenshot: Callable, assert_accessible: Callable, tmp_path: Path
) -> None:
    login(page, "consultation")
    page.goto(DAY_URL)
    assert page.title().startswith("Statistiques – mercredi 14 octobre 2026")
    assert shown_figures(page) == SHOWN
    assert page.get_by_text("Appels servis ÷ Appels présentés").count() == 1
    assert page.get_by_role("img", name="Taux de décroché et d'abandon – mercredi 14 octobre "
                                         "2026").count() == 1  # fmt: skip
    screenshot(page, "statistiques")
    assert_accessible(page)

    on_screen = table_cells(page, "evolution")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger « Évolution (heure) » au format CSV").click()
    download = download_info.value
    assert download.suggested_filename == "statistiques_2026-10-14_evolution.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    exported = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig")),
                               delimiter=";"))  # fmt: skip
    assert exported == [[as_csv(cell) for cell in row] for row in on_screen]
    total = dict(zip(exported[0], exported[-1], strict=True))
    assert (total["Appels présentés"], total["Appels servis"], total["Abandons"]) == (
        "13", "6", "1")  # fmt: skip
    assert total["Taux de décroché (%)"] == "46,2"


def test_the_period_form_and_its_errors(
    page: Any, login: Login, screenshot: Callable, assert_accessible: Callable
) -> None:
    login(page, "consultation")
    page.goto("/statistiques")
    page.get_by_label("Période libre", exact=True).check(force=True)  # DSFR draws the radio
    page.locator("#champ-du").fill("2026-10-01")
    page.locator("#champ-au").fill("2026-10-31")
    page.get_by_role("button", name="Afficher les statistiques").click()
    page.wait_for_load_state()
    assert "du=2026-10-01" in page.url and "au=2026-10-31" in page.url
    assert page.locator("#periode-affichee").inner_text() == "Du 01/10/2026 au 31/10/2026"
    assert shown_figures(page) == SHOWN  # the whole month holds just the reference day
    assert len(table_cells(page, "evolution")) == 1 + 31 + 1  # header, every day, total

    page.goto("/statistiques?periode=libre&du=2026-10-31&au=2026-10-01")
    alert = page.get_by_role("alert")
    assert "La date de fin doit être le même jour que la date de début ou après." in (
        alert.inner_text())  # fmt: skip
    assert page.locator("#champ-au").input_value() == "2026-10-01"  # kept as typed
    assert page.locator("#champ-au").get_attribute("aria-invalid") == "true"
    screenshot(page, "statistiques-erreur")
    assert_accessible(page)


def test_the_page_works_on_a_narrow_screen(
    page: Any, login: Login, screenshot: Callable, assert_accessible: Callable
) -> None:
    login(page, "consultation")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(DAY_URL + "&ticket=P1")
    assert shown_figures(page) == SHOWN
    assert [row[1] for row in table_cells(page, "tickets")[1:]] == ["Ensemble", "T100", "T200"]
    overflow = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "la page déborde horizontalement sur un écran étroit"
    screenshot(page, "statistiques-ecran-etroit")
    assert_accessible(page)
