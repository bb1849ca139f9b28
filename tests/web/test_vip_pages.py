"""« Annuaire VIP »: import by upload (errors by line, nothing imported), list and search,
editing one entry and its P0 period, roles, XSS and SQL in what users type."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from svi_acd.directory.store import list_entries, list_stored, replace_directory
from svi_acd.routing.directory import DirectoryEntry
from tests.web.pages_app import PagesClient, checked_values, field_value, pages_client, text_of

GOOD = (
    "numero;nom;entite;site;niveau;debut;fin\n"
    "06 12 34 56 78;Dupont Marie;Direction générale;Paris;VIP;;\n"
    "01 45 67 89 12;Service comptable;DAF;Nantes;P0;01/12/2026;31/12/2026\n"
).encode()
BAD = (
    "numero;nom;entite;site;niveau;debut;fin\n"
    "06 12 34 56 78;Dupont Marie;DG;Paris;VIP;;\n"
    "pas un numéro;Martin Paul;DG;Paris;VIP;;\n"
    "01 45 67 89 12;Compta;DAF;Nantes;P1;;\n"
).encode()
ENTRIES = [
    DirectoryEntry("+33612345678", "Dupont Marie", "Direction générale", "Paris", "VIP"),
    DirectoryEntry("+33145678912", "Service comptable", "DAF", "Nantes", "P0",
                   date(2026, 12, 1), date(2026, 12, 31)),
]  # fmt: skip


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[PagesClient]:
    async with pages_client(tmp_path) as client:
        yield client


async def test_an_admin_imports_the_directory_by_upload(web: PagesClient) -> None:
    response = await web.post(
        "/annuaire/import", role="admin", files=[("fichier", GOOD, "annuaire.csv")]
    )
    assert response.status == 303
    assert response.headers["Location"] == "/annuaire?fait=importe&n=2&vip=1"
    assert [e.name for e in await list_entries(web.engine)] == ["Dupont Marie",
                                                                "Service comptable"]  # fmt: skip
    _, html = await web.get("/annuaire?fait=importe&n=2&vip=1", role="admin")
    page = text_of(html)
    assert "Annuaire importé : 2 entrée(s) (1 VIP, 1 P0)." in page
    assert "Dernier import : « annuaire.csv », 2 entrée(s)" in page and "admin.test" in page
    assert "+33 6 12 34 56 78" in page and "du 01/12/2026 au 31/12/2026" in page


async def test_a_bad_file_is_refused_line_by_line_and_nothing_is_imported(
    web: PagesClient,
) -> None:
    await replace_directory(web.engine, ENTRIES, source="avant.csv", imported_by="test")
    response = await web.post(
        "/annuaire/import", role="admin", files=[("fichier", BAD, "annuaire.csv")]
    )
    assert response.status == 422
    page = text_of(await response.text())
    assert "Import refusé : 2 ligne(s) en erreur, rien n'a été importé." in page
    assert "Ligne 3 : numéro de téléphone invalide « pas un numéro »" in page
    assert "Ligne 4 : niveau invalide « P1 » (VIP ou P0)" in page
    assert await list_entries(web.engine) == ENTRIES


async def test_an_oversized_file_is_refused_before_being_read(web: PagesClient) -> None:
    response = await web.post(
        "/annuaire/import", role="admin",
        files=[("fichier", b"numero;nom\n" + b"0" * 6 * 1024 * 1024, "enorme.csv")],
    )  # fmt: skip
    assert response.status == 413
    assert "Le fichier dépasse 5120 Kio : rien n'a été importé" in text_of(await response.text())


async def test_search_by_name_entity_or_number_and_sql_is_only_text(web: PagesClient) -> None:
    await replace_directory(web.engine, ENTRIES, source="a.csv", imported_by="test")
    _, html = await web.get("/annuaire", q="daf")
    assert "Service comptable" in html and "Dupont Marie" not in html
    assert field_value(html, "q") == "daf"
    for attempt in ("' OR 1=1 --", "%", "'; DROP TABLE vip_directory; --"):
        status, html = await web.get("/annuaire", q=attempt)
        assert status == 200 and "Aucune entrée pour" in text_of(html)
    assert len(await list_entries(web.engine)) == 2


async def test_an_admin_changes_one_entry_and_its_p0_period(web: PagesClient) -> None:
    await replace_directory(web.engine, ENTRIES, source="a.csv", imported_by="test")
    stored = {s.entry.name: s.id for s in await list_stored(web.engine)}
    entry_id = stored["Service comptable"]
    status, html = await web.get(f"/annuaire/{entry_id}", role="admin")
    assert status == 200 and field_value(html, "debut") == "2026-12-01"
    response = await web.post(
        f"/annuaire/{entry_id}", role="admin",
        fields=[("nom", "Service comptable"), ("numero", "01 45 67 89 12"), ("entite", "DAF"),
                ("site", "Nantes"), ("niveau", "P0"), ("debut", "2026-11-15"),
                ("fin", "2027-01-15")],
    )  # fmt: skip
    assert response.status == 303
    assert response.headers["Location"] == f"/annuaire?fait=modifie#entree-{entry_id}"
    changed = next(e for e in await list_entries(web.engine) if e.name == "Service comptable")
    assert (changed.start, changed.end) == (date(2026, 11, 15), date(2027, 1, 15))


async def test_another_p0_period_is_added_for_the_same_person(web: PagesClient) -> None:
    await replace_directory(web.engine, ENTRIES, source="a.csv", imported_by="test")
    source = next(s.id for s in await list_stored(web.engine) if s.entry.level == "P0")
    _, html = await web.get("/annuaire/nouveau", role="admin", depuis=str(source))
    assert field_value(html, "numero") == "+33145678912" and field_value(html, "debut") == ""
    assert checked_values(html, "niveau") == ["P0"]
    response = await web.post(
        "/annuaire/nouveau", role="admin",
        fields=[("nom", "Service comptable"), ("numero", "+33145678912"), ("niveau", "P0"),
                ("debut", "2027-06-01"), ("fin", "2027-06-30")],
    )  # fmt: skip
    assert response.status == 303
    periods = [(e.start, e.end) for e in await list_entries(web.engine, "comptable")]
    assert periods == [(date(2026, 12, 1), date(2026, 12, 31)),
                       (date(2027, 6, 1), date(2027, 6, 30))]  # fmt: skip


async def test_a_wrong_entry_is_refused_and_what_was_typed_is_kept(web: PagesClient) -> None:
    await replace_directory(web.engine, ENTRIES, source="a.csv", imported_by="test")
    fields = [("nom", "Nouveau VIP"), ("numero", "06 12 34 56 78"), ("niveau", "VIP"),
              ("entite", "Cabinet")]  # fmt: skip
    response = await web.post("/annuaire/nouveau", role="admin", fields=fields)
    assert response.status == 422
    html = await response.text()
    assert "Ce numéro est déjà déclaré VIP (Dupont Marie)" in text_of(html)
    assert (field_value(html, "nom"), field_value(html, "entite")) == ("Nouveau VIP", "Cabinet")
    bad_dates = [("nom", "X"), ("numero", "0145678900"), ("niveau", "P0"),
                 ("debut", "2026-12-31"), ("fin", "2026-12-01")]  # fmt: skip
    response = await web.post("/annuaire/nouveau", role="admin", fields=bad_dates)
    html = await response.text()
    assert response.status == 422 and 'id="champ-fin-erreur"' in html
    assert "Période inversée" in text_of(html)
    nothing_right = [("nom", ""), ("numero", "abc"), ("niveau", "VIP")]
    response = await web.post("/annuaire/nouveau", role="admin", fields=nothing_right)
    assert 'id="champ-numero-erreur"' in await response.text()
    assert len(await list_entries(web.engine)) == 2


async def test_an_entry_is_removed(web: PagesClient) -> None:
    await replace_directory(web.engine, ENTRIES, source="a.csv", imported_by="test")
    [first, _] = await list_stored(web.engine)
    response = await web.post(f"/annuaire/{first.id}/supprimer", role="admin")
    assert response.status == 303
    assert [e.name for e in await list_entries(web.engine)] == ["Service comptable"]
    assert (await web.get(f"/annuaire/{first.id}", role="admin"))[0] == 404


async def test_names_with_script_are_rendered_inert(web: PagesClient) -> None:
    xss = DirectoryEntry("+33612345678", '<script>alert("vip")</script>', "<img src=x>", "", "VIP")
    await replace_directory(web.engine, [xss], source="<b>a</b>.csv", imported_by="test")
    [stored] = await list_stored(web.engine)
    for path in ("/annuaire", f"/annuaire/{stored.id}"):
        _, html = await web.get(path, role="admin")
        assert "<script>alert" not in html and "<img src=x>" not in html and "<b>a" not in html
        assert "&lt;script&gt;alert(" in html
    bad = b"numero;nom;niveau\n<script>x</script>;Nom;VIP\n"
    response = await web.post("/annuaire/import", role="admin",
                              files=[("fichier", bad, "a.csv")])  # fmt: skip
    html = await response.text()
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


async def test_supervisors_read_the_directory_and_only_admins_change_it(
    web: PagesClient,
) -> None:
    await replace_directory(web.engine, ENTRIES, source="a.csv", imported_by="test")
    status, html = await web.get("/annuaire", role="superviseur")
    assert status == 200 and "Dupont Marie" in html
    assert "Importer l'annuaire" not in html and "Modifier" not in text_of(html)
    response = await web.post("/annuaire/import", role="superviseur",
                              files=[("fichier", GOOD, "a.csv")])  # fmt: skip
    assert response.status == 403
    assert (await web.get("/annuaire", role="consultation"))[0] == 403
    [first, _] = await list_stored(web.engine)
    assert (await web.get(f"/annuaire/{first.id}", role="superviseur"))[0] == 403
