"""« Annuaire VIP » (``/annuaire``): the VIP/P0 directory for administrators.

Routes (reading needs ``annuaire:lecture``, everything else ``annuaire:ecriture``):

- ``GET  /annuaire``: search (``q``: name, entity or number) and list, with each entry's
  level and P0 period; the import form;
- ``POST /annuaire/import``: replace the whole directory with a CSV file (field ``fichier``,
  ``numero;nom;entite;site;niveau;debut;fin``, as ``svi-acd vip import``); when a line is
  wrong nothing is imported and every wrong line is listed with its number;
- ``GET|POST /annuaire/nouveau``: add an entry (``?depuis=ID``: another P0 period for the
  same person);
- ``GET|POST /annuaire/{id}``: change one entry (number, name, entity, site, VIP or P0, P0
  period); ``POST /annuaire/{id}/supprimer``: remove it.

Entries are checked by the CSV import's own rules (``csv_import``), so a number, a level or a
period refused in a file is refused here too. The service re-reads the directory every few
seconds: changes reach calls without a restart. Each change is written to the audit journal
with the acting user (``directory.audit``: numbers only by their last four digits).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import phonenumbers
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.directory.audit import directory_imported, entry_added, entry_changed, entry_removed
from svi_acd.directory.csv_import import MAX_BYTES, entry_from_row, parse_directory_csv
from svi_acd.directory.store import (
    StoredEntry,
    count_entries,
    delete_entry,
    entries_for_number,
    get_entry,
    last_import,
    list_stored,
    replace_directory,
    save_entry,
)
from svi_acd.routing.directory import DirectoryEntry
from svi_acd.web.audit_trail import record_by_user
from svi_acd.web.crisis_api import read_parts
from svi_acd.web.crisis_pages import PARIS, may, paris_text, sentence
from svi_acd.web.keys import CRISIS, ENGINE
from svi_acd.web.pages import render
from svi_acd.web.schemas import RequestError
from svi_acd.web.security import acting_user, requires

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

LISTED_MAX = 500
TEXT_MAX = {"numero": 40, "nom": 200, "entite": 200, "site": 200}
LEVELS = [("VIP", "VIP (toujours prioritaire)"), ("P0", "P0 (prioritaire pendant sa période)")]
DONE = {
    "ajoute": "L'entrée est ajoutée.",
    "modifie": "L'entrée est modifiée.",
    "supprime": "L'entrée est supprimée.",
}


def shown_number(number: str) -> str:
    """« +33 6 12 34 56 78 » for people (the directory keeps E.164)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def period_text(entry: DirectoryEntry) -> str:
    start, end = entry.start, entry.end
    if start and end:
        return f"du {start:%d/%m/%Y} au {end:%d/%m/%Y}"
    if start:
        return f"à partir du {start:%d/%m/%Y}"
    if end:
        return f"jusqu'au {end:%d/%m/%Y}"
    return "permanente"


def entry_view(stored: StoredEntry, today: date) -> dict[str, Any]:
    e = stored.entry
    return {
        "id": stored.id,
        "nom": e.name,
        "numero": shown_number(e.number),
        "entite": e.entity,
        "site": e.site,
        "niveau": e.level,
        "periode": period_text(e),
        "en_vigueur": e.in_force(today),
    }


@dataclass
class EntryForm:
    """The entry form as typed (kept when refused)."""

    numero: str = ""
    nom: str = ""
    entite: str = ""
    site: str = ""
    niveau: str = "VIP"
    debut: str = ""
    fin: str = ""

    @classmethod
    def from_post(cls, posted: Any) -> EntryForm:
        return cls(**{f.name: str(posted.get(f.name, "")).strip() for f in fields(cls)})

    @classmethod
    def from_entry(cls, entry: DirectoryEntry) -> EntryForm:
        return cls(
            numero=entry.number, nom=entry.name, entite=entry.entity, site=entry.site,
            niveau=entry.level, debut=entry.start.isoformat() if entry.start else "",
            fin=entry.end.isoformat() if entry.end else "",
        )  # fmt: skip

    def entry(self) -> DirectoryEntry:
        """The entry, checked as a CSV line would be (``EntryRefused`` by field)."""
        too_long = {
            name: f"{limit} caractères au plus"
            for name, limit in TEXT_MAX.items()
            if len(getattr(self, name)) > limit
        }
        if too_long:
            raise EntryRefused(too_long)
        try:
            return entry_from_row(vars(self))
        except ValueError as exc:
            raise EntryRefused({self._field_of(str(exc)): str(exc)}) from exc

    def _field_of(self, message: str) -> str:
        if message.startswith("numéro"):
            return "numero"
        if message.startswith("nom"):
            return "nom"
        if message.startswith("niveau"):
            return "niveau"
        if message.startswith("date invalide") and self.debut and f"« {self.debut} »" in message:
            return "debut"
        return "fin"


class EntryRefused(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = {name: sentence(text) for name, text in errors.items()}


def _engine(request: web.Request) -> AsyncEngine:
    engine = request.app[ENGINE]
    if engine is None:
        raise web.HTTPServiceUnavailable(text="Annuaire indisponible : pas de base de données.")
    return engine


def _today(request: web.Request) -> date:
    return request.app[CRISIS].clock().astimezone(PARIS).date()


async def directory_page(
    request: web.Request, *, import_errors: list[str] | None = None, import_error: str = "",
    status: int = 200,
) -> web.Response:  # fmt: skip
    engine = _engine(request)
    search = request.query.get("q", "").strip()[:100]
    stored = await list_stored(engine, search or None, limit=LISTED_MAX + 1)
    today = _today(request)
    record = await last_import(engine)
    done = DONE.get(request.query.get("fait", ""))
    if request.query.get("fait") == "importe":
        total, vip = request.query.get("n", ""), request.query.get("vip", "")
        if total.isdigit() and vip.isdigit():
            done = f"Annuaire importé : {total} entrée(s) ({vip} VIP, {int(total) - int(vip)} P0)."
    return await render(
        request, "annuaire.html", status=status,
        search=search, entries=[entry_view(s, today) for s in stored[:LISTED_MAX]],
        truncated=len(stored) > LISTED_MAX, listed_max=LISTED_MAX,
        total=await count_entries(engine), done=done,
        last_import=record, last_import_at=paris_text(record.imported_at) if record else "",
        import_errors=import_errors or [], import_error=import_error,
        can_write=may(request, "annuaire:ecriture"), max_ko=MAX_BYTES // 1024,
    )  # fmt: skip


@routes.get("/annuaire")
@requires("annuaire:lecture")
async def directory_home(request: web.Request) -> web.Response:
    return await directory_page(request)


def _too_large() -> RequestError:
    return RequestError(
        f"le fichier dépasse {MAX_BYTES // 1024} Kio : rien n'a été importé. Vérifiez qu'il "
        "s'agit bien de l'annuaire enregistré en CSV.",
        413,
    )


@routes.post("/annuaire/import")
@requires("annuaire:ecriture")
async def import_directory(request: web.Request) -> web.Response:
    engine = _engine(request)
    if request.content_type != "multipart/form-data":
        return await directory_page(request, import_error="Choisissez un fichier CSV.", status=422)
    parts = await read_parts(request, MAX_BYTES, _too_large)
    if parts.refused is not None:
        return await directory_page(request, import_error=sentence(str(parts.refused)), status=413)
    if parts.recording is None or not parts.recording.data:
        return await directory_page(request, import_error="Choisissez un fichier CSV.", status=422)
    result = parse_directory_csv(parts.recording.data)
    if not result.ok:
        return await directory_page(
            request,
            import_error=f"Import refusé : {len(result.errors)} ligne(s) en erreur, rien n'a été "
            "importé. Corrigez le fichier puis importez-le de nouveau.",
            import_errors=[sentence(str(error)) for error in result.errors],
            status=422,
        )
    actor = acting_user(request)
    source = parts.recording.filename[:300]
    await replace_directory(engine, result.entries, source=source, imported_by=actor)
    await record_by_user(request, engine, directory_imported(source, result.entries))
    vip = sum(1 for entry in result.entries if entry.level == "VIP")
    log.info("annuaire VIP importé par %s : %s entrées", actor, len(result.entries))
    raise web.HTTPSeeOther(f"/annuaire?fait=importe&n={len(result.entries)}&vip={vip}")


async def entry_page(
    request: web.Request, form: EntryForm, stored: StoredEntry | None,
    errors: dict[str, str] | None = None, status: int = 200,
) -> web.Response:  # fmt: skip
    return await render(
        request, "annuaire_entree.html", status=status,
        form=form, stored=stored, errors=errors or {}, levels=LEVELS,
        action=f"/annuaire/{stored.id}" if stored else "/annuaire/nouveau",
    )  # fmt: skip


async def _stored(request: web.Request) -> StoredEntry:
    stored = await get_entry(_engine(request), int(request.match_info["id"]))
    if stored is None:
        raise web.HTTPNotFound(text="Cette entrée n'existe plus dans l'annuaire.")
    return stored


async def _checked(engine: AsyncEngine, form: EntryForm, entry_id: int | None) -> DirectoryEntry:
    entry = form.entry()
    if entry.level == "VIP":
        for other in await entries_for_number(engine, entry.number):
            if other.id != entry_id and other.entry.level == "VIP":
                raise EntryRefused(
                    {"numero": f"ce numéro est déjà déclaré VIP ({other.entry.name})"}
                )
    return entry


@routes.get("/annuaire/nouveau")
@requires("annuaire:ecriture")
async def new_entry_form(request: web.Request) -> web.Response:
    form = EntryForm()
    source = request.query.get("depuis", "")
    if source.isdigit():
        model = await get_entry(_engine(request), int(source))
        if model is not None:
            form = EntryForm.from_entry(model.entry)
            form.niveau, form.debut, form.fin = "P0", "", ""
    return await entry_page(request, form, None)


@routes.post("/annuaire/nouveau")
@requires("annuaire:ecriture")
async def add_entry(request: web.Request) -> web.Response:
    engine = _engine(request)
    form = EntryForm.from_post(await request.post())
    try:
        entry = await _checked(engine, form, None)
    except EntryRefused as exc:
        return await entry_page(request, form, None, exc.errors, status=422)
    entry_id = await save_entry(engine, entry)
    await record_by_user(request, engine, entry_added(entry_id, entry))
    log.info("annuaire VIP : entrée %s ajoutée par %s", entry_id, acting_user(request))
    raise web.HTTPSeeOther(f"/annuaire?fait=ajoute#entree-{entry_id}")


@routes.get(r"/annuaire/{id:\d+}")
@requires("annuaire:ecriture")
async def edit_entry_form(request: web.Request) -> web.Response:
    stored = await _stored(request)
    return await entry_page(request, EntryForm.from_entry(stored.entry), stored)


@routes.post(r"/annuaire/{id:\d+}")
@requires("annuaire:ecriture")
async def edit_entry(request: web.Request) -> web.Response:
    engine = _engine(request)
    stored = await _stored(request)
    form = EntryForm.from_post(await request.post())
    try:
        entry = await _checked(engine, form, stored.id)
    except EntryRefused as exc:
        return await entry_page(request, form, stored, exc.errors, status=422)
    if not await save_entry(engine, entry, stored.id):
        raise web.HTTPNotFound(text="Cette entrée n'existe plus dans l'annuaire.")
    await record_by_user(request, engine, entry_changed(stored.id, stored.entry, entry))
    log.info("annuaire VIP : entrée %s modifiée par %s", stored.id, acting_user(request))
    raise web.HTTPSeeOther(f"/annuaire?fait=modifie#entree-{stored.id}")


@routes.post(r"/annuaire/{id:\d+}/supprimer")
@requires("annuaire:ecriture")
async def remove_entry(request: web.Request) -> web.Response:
    engine = _engine(request)
    stored = await _stored(request)
    if await delete_entry(engine, stored.id):
        await record_by_user(request, engine, entry_removed(stored.id, stored.entry))
    log.info("annuaire VIP : entrée %s supprimée par %s", stored.id, acting_user(request))
    raise web.HTTPSeeOther("/annuaire?fait=supprime")
