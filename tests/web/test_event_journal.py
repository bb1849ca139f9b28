"""Every change made on the pages lands in the « journal des évènements » with the user's name;
the journal shows crisis messages, VIP directory, accounts and agents merged by time, filtered
by domain (each role sees only what it may read), with a CSV export and ``GET /api/journal``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from svi_acd.audit.store import AuditEntry, AuditFilter, read_audit, record
from svi_acd.directory.store import list_stored
from svi_acd.prompts.crisis import MessageRequest
from tests.web.pages_app import PARIS, PagesClient, pages_client, text_of

CSV_FILE = (
    "numero;nom;entite;site;niveau;debut;fin\n"
    "06 12 34 56 78;Dupont Marie;Direction générale;Paris;VIP;;\n"
    "01 45 67 89 12;Service comptable;DAF;Nantes;P0;01/12/2026;31/12/2026\n"
).encode()
PASSWORD = "un mot de passe très secret"


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[PagesClient]:
    async with pages_client(tmp_path) as client:
        yield client


async def audit(web: PagesClient) -> list[AuditEntry]:
    return list(reversed(await read_audit(web.engine, AuditFilter())))


async def every_stored_text(web: PagesClient) -> str:
    async with web.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM audit_events"))).all()
    return " ".join(str(value) for row in rows for value in row)


async def test_vip_page_changes_are_journaled_with_the_admin_and_masked_numbers(
    web: PagesClient,
) -> None:
    response = await web.post("/annuaire/import", role="admin",
                              files=[("fichier", CSV_FILE, "annuaire.csv")])  # fmt: skip
    assert response.status == 303
    first = (await list_stored(web.engine))[0]
    fields = [
        ("numero", "06 12 34 56 99"),
        ("nom", "Dupont Marie"),
        ("entite", "DG"),
        ("site", "Paris"),
        ("niveau", "P0"),
        ("debut", "2026-12-01"),
        ("fin", ""),
    ]
    assert (await web.post(f"/annuaire/{first.id}", fields, role="admin")).status == 303
    added = [
        ("numero", "0698765432"),
        ("nom", "Léa Martin"),
        ("entite", "Préfecture"),
        ("site", "Fort-de-France"),
        ("niveau", "VIP"),
        ("debut", ""),
        ("fin", ""),
    ]
    assert (await web.post("/annuaire/nouveau", added, role="admin")).status == 303
    assert (await web.post(f"/annuaire/{first.id}/supprimer", role="admin")).status == 303
    rows = await audit(web)
    assert [(r.actor, r.domain, r.action) for r in rows] == [
        ("admin.test", "annuaire", "import"),
        ("admin.test", "annuaire", "modification_entree"),
        ("admin.test", "annuaire", "ajout_entree"),
        ("admin.test", "annuaire", "suppression_entree"),
    ]  # fmt: skip
    assert rows[0].subject == "annuaire.csv"
    assert rows[0].detail == "annuaire remplacé : 2 entrée(s) (1 VIP, 1 P0)"
    assert rows[1].subject == f"entrée n° {first.id} (Dupont Marie)"
    assert rows[1].detail == (
        "numéro : …5678 → …5699 ; entité : Direction générale → DG ; niveau : VIP → P0 ; "
        "période : permanente → 01/12/2026 – …"
    )
    assert "numéro …5432" in rows[2].detail and "Léa Martin" in rows[2].subject
    assert rows[0].at == rows[3].at == web.clock()
    stored = await every_stored_text(web)
    for number in ("612345678", "612345699", "698765432", "145678912"):
        assert number not in stored


async def test_a_refused_vip_edit_journals_nothing(web: PagesClient) -> None:
    bad = [("numero", "pas un numéro"), ("nom", "X"), ("niveau", "VIP")]
    assert (await web.post("/annuaire/nouveau", bad, role="admin")).status == 422
    assert await audit(web) == []


async def test_account_page_changes_are_journaled_without_the_password(web: PagesClient) -> None:
    created = [("identifiant", "marie.durand"), ("nom", "Marie Durand"), ("role", "superviseur"),
               ("mot_de_passe", PASSWORD), ("confirmation", PASSWORD)]  # fmt: skip
    assert (await web.post("/comptes", created, role="admin")).status == 303
    changed = [("role", "consultation")]
    assert (await web.post("/comptes/marie.durand/role", changed, role="admin")).status == 303
    assert (await web.post("/comptes/marie.durand/desactiver", role="admin")).status == 303
    assert (await web.post("/comptes/marie.durand/activer", role="admin")).status == 303
    rows = await audit(web)
    assert [(r.actor, r.domain, r.action, r.subject, r.detail) for r in rows] == [
        ("admin.test", "comptes", "creation_compte", "marie.durand",
         "rôle superviseur, nom « Marie Durand »"),
        ("admin.test", "comptes", "changement_role", "marie.durand", "superviseur → consultation"),
        ("admin.test", "comptes", "desactivation_compte", "marie.durand", "sessions fermées"),
        ("admin.test", "comptes", "reactivation_compte", "marie.durand", ""),
    ]  # fmt: skip
    assert PASSWORD not in await every_stored_text(web)
    mismatch = [*created[:3], ("mot_de_passe", PASSWORD), ("confirmation", "autre chose")]
    assert (await web.post("/comptes", mismatch, role="admin")).status == 422
    assert len(await audit(web)) == 4


async def _changes_in_every_domain(web: PagesClient) -> None:
    """Crisis at 09:00, directory at 09:10, agents at 09:20, accounts at 09:30 (Paris)."""
    web.clock.moment = datetime(2026, 7, 8, 9, 0, tzinfo=PARIS)
    await web.crisis.create(MessageRequest(text="Panne de la messagerie", label="Messagerie"),
                            "alice")  # fmt: skip
    at = web.clock.moment
    await record(web.engine, "bob", "annuaire", "ajout_entree", "entrée n° 1 (Dupont Marie)",
                 "VIP, numéro …5678", at=at + timedelta(minutes=10))  # fmt: skip
    await record(web.engine, "carole", "acd", "pause_agent", "PJSIP/agent1", "formation",
                 at=at + timedelta(minutes=20))  # fmt: skip
    await record(web.engine, "admin.test", "comptes", "creation_compte", "marie.durand",
                 "rôle superviseur", at=at + timedelta(minutes=30))  # fmt: skip


def column(html: str, header: str) -> list[str]:
    """The cells of one column of the journal table, top to bottom."""
    head = html.split("<thead>")[1].split("</thead>")[0]
    index = [text_of(th) for th in head.split("</th>")[:-1]].index(header)
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [text_of(row.split("</td>")[index]) for row in body.split("</tr>")[:-1]]


async def test_the_journal_merges_every_domain_the_reader_may_read_by_time(
    web: PagesClient,
) -> None:
    await _changes_in_every_domain(web)
    status, html = await web.get("/crise/journal", role="admin")
    assert status == 200 and "4 évènements" in text_of(html)
    assert column(html, "Domaine") == ["Comptes", "Agents et files", "Annuaire VIP",
                                       "Messages de crise"]  # fmt: skip
    assert column(html, "Objet") == ["marie.durand", "PJSIP/agent1",
                                     "entrée n° 1 (Dupont Marie)", "Message n° 1 (v1)"]  # fmt: skip
    assert column(html, "Action")[0] == "Création d'un compte"
    assert "Messagerie" in column(html, "Contenu")[3]  # crisis lines keep their columns
    # A supervisor reads crisis messages, the directory and the agents, not the accounts.
    status, html = await web.get("/crise/journal", role="superviseur")
    assert status == 200 and "3 évènements" in text_of(html)
    assert "marie.durand" not in html and 'value="comptes"' not in html
    assert 'value="acd"' in html and 'value="creation_jeton"' not in html


async def test_the_domain_filter_and_the_csv_export_agree(web: PagesClient) -> None:
    await _changes_in_every_domain(web)
    _, html = await web.get("/crise/journal", role="admin", domaine="acd")
    assert "1 évènement." in text_of(html) and column(html, "Utilisateur") == ["carole"]
    assert 'href="/crise/journal.csv?domaine=acd"' in html
    _, html = await web.get("/crise/journal", role="admin", recherche="dupont")
    assert column(html, "Domaine") == ["Annuaire VIP"]
    _, html = await web.get("/crise/journal", role="admin", action="pause_agent")
    assert column(html, "Utilisateur") == ["carole"]
    _, html = await web.get("/crise/journal", role="admin", incident="INC-1")
    assert "Aucun évènement" in text_of(html)  # only crisis messages name an incident
    response = await web.client.get("/crise/journal.csv", params={"domaine": "annuaire"},
                                     headers=web._headers("admin"))  # fmt: skip
    assert response.status == 200
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig")),
                           delimiter=";"))  # fmt: skip
    header = rows[0]
    assert header[:3] == ["Date (heure de Paris)", "Utilisateur", "Action"]
    assert header[-2:] == ["Domaine", "Objet"]
    assert [dict(zip(header, row, strict=True)) for row in rows[1:]] == [{
        **dict.fromkeys(header, ""),
        "Date (heure de Paris)": "08/07/2026 09:10:00", "Utilisateur": "bob",
        "Action": "Ajout d'une entrée", "Détail": "VIP, numéro …5678",
        "Domaine": "Annuaire VIP", "Objet": "entrée n° 1 (Dupont Marie)",
    }]  # fmt: skip
    response = await web.client.get("/crise/journal.csv", headers=web._headers("admin"))
    assert len((await response.read()).decode("utf-8-sig").splitlines()) == 5


async def test_a_domain_the_role_may_not_read_is_refused_on_the_page_and_the_csv(
    web: PagesClient,
) -> None:
    await _changes_in_every_domain(web)
    status, html = await web.get("/crise/journal", role="superviseur", domaine="comptes")
    assert status == 403 and "votre rôle ne permet pas de lire" in text_of(html).lower()
    assert "marie.durand" not in html
    response = await web.client.get("/crise/journal.csv", params={"domaine": "comptes"},
                                    headers=web._headers("superviseur"))  # fmt: skip
    assert response.status == 403 and "marie.durand" not in await response.text()
    status, _ = await web.get("/crise/journal", role="superviseur", domaine="inconnu")
    assert status == 422


async def test_the_json_journal_follows_the_reader_s_permissions(web: PagesClient) -> None:
    await _changes_in_every_domain(web)
    status, body = await web.get("/api/journal", role="admin")
    events = json.loads(body)["evenements"]
    assert status == 200
    assert [(e["domaine"], e["utilisateur"], e["action"]) for e in events] == [
        ("comptes", "admin.test", "creation_compte"), ("acd", "carole", "pause_agent"),
        ("annuaire", "bob", "ajout_entree"), ("crise", "alice", "creation"),
    ]  # fmt: skip
    assert events[1] == {"domaine": "acd", "id": events[1]["id"],
                         "date": "2026-07-08T07:20:00+00:00", "utilisateur": "carole",
                         "action": "pause_agent", "objet": "PJSIP/agent1",
                         "detail": "formation"}  # fmt: skip
    assert events[3]["titre"] == "Messagerie" and events[3]["objet"] == "message n° 1"
    _, body = await web.get("/api/journal", role="superviseur")
    assert {e["domaine"] for e in json.loads(body)["evenements"]} == {"crise", "annuaire", "acd"}
    status, body = await web.get("/api/journal", role="superviseur", domaine="comptes")
    assert status == 403 and "Comptes" in json.loads(body)["erreur"]
    _, body = await web.get("/api/journal", role="admin", domaine="acd", utilisateur="carole",
                            depuis="2026-07-08T09:15:00+02:00")  # fmt: skip
    assert [e["action"] for e in json.loads(body)["evenements"]] == ["pause_agent"]
    _, body = await web.get("/api/journal", role="admin", limite="2")
    assert len(json.loads(body)["evenements"]) == 2
    status, _ = await web.get("/api/journal", role="admin", action="suppression")
    assert status == 422
    status, body = await web.get("/api/journal", role="consultation")
    assert status == 403 and "marie.durand" not in body
