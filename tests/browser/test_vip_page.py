"""« Annuaire VIP » in a real headless Chromium: an administrator imports the directory (a bad
line is listed with its number and nothing is imported), searches and edits one entry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from svi_acd.directory.store import list_entries
from tests.browser.harness import Credentials, WebServer

Login = Callable[[Any, str], Credentials]
HEADER = "numero;nom;entite;site;niveau;debut;fin\n"
GOOD = (
    HEADER + "06 12 34 56 78;Dupont Marie;Direction générale;Paris;VIP;;\n"
    "01 45 67 89 12;Service comptable;DAF;Nantes;P0;01/12/2026;31/12/2026\n"
)
BAD = HEADER + "06 12 34 56 78;Dupont Marie;DG;Paris;VIP;;\npas un numéro;Martin Paul;DG;;VIP;;\n"


def upload(page: Any, path: Path) -> None:
    page.get_by_label("Fichier CSV de l'annuaire").set_input_files(str(path))
    page.get_by_role("button", name="Importer et remplacer l'annuaire").click()
    page.wait_for_load_state()


def test_an_admin_imports_the_directory_and_a_bad_line_is_shown(
    page: Any, web_server: WebServer, login: Login, tmp_path: Path, screenshot: Callable,
    assert_accessible: Callable,
) -> None:  # fmt: skip
    bad, good = tmp_path / "mauvais.csv", tmp_path / "annuaire.csv"
    bad.write_text(BAD, encoding="cp1252")
    good.write_text(GOOD, encoding="utf-8")
    login(page, "admin")
    page.goto("/annuaire")
    upload(page, bad)
    errors = page.locator("#erreurs-import")
    expect(errors).to_contain_text("Import refusé : 1 ligne(s) en erreur, rien n'a été importé.")
    expect(errors).to_contain_text("Ligne 3 : numéro de téléphone invalide « pas un numéro »")
    assert web_server.run(list_entries(web_server.engine)) == []
    screenshot(page, "annuaire-erreur-import")
    assert_accessible(page)

    upload(page, good)
    expect(page.locator(".fr-alert--success")).to_contain_text("Annuaire importé : 2 entrée(s)")
    expect(page.locator("tbody")).to_contain_text("Dupont Marie")
    expect(page.locator("tbody")).to_contain_text("du 01/12/2026 au 31/12/2026")
    screenshot(page, "annuaire")
    assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})
    screenshot(page, "annuaire-ecran-etroit")
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 720})

    page.get_by_label("Rechercher par nom, entité ou numéro").fill("daf")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_load_state()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Modifier Service comptable").click()
    page.wait_for_load_state()
    expect(page.get_by_label("Début")).to_have_value("2026-12-01")
    page.get_by_label("Fin").fill("2026-12-20")
    screenshot(page, "annuaire-entree")
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer les modifications").click()
    page.wait_for_load_state()
    expect(page.locator(".fr-alert--success")).to_contain_text("L'entrée est modifiée.")
    expect(page.locator("tbody")).to_contain_text("du 01/12/2026 au 20/12/2026")


def test_a_name_with_script_is_shown_as_text(
    page: Any, web_server: WebServer, login: Login, tmp_path: Path
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    path = tmp_path / "annuaire.csv"
    path.write_text(HEADER + '0612345678;<img src=x onerror="alert(1)">;DG;;VIP;;\n')
    login(page, "admin")
    page.goto("/annuaire")
    upload(page, path)
    expect(page.locator("tbody")).to_contain_text('<img src=x onerror="alert(1)">')
    assert page.locator("tbody img").count() == 0 and dialogs == []
