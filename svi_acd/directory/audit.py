"""What the audit journal says about a change of the VIP directory (the page « Annuaire VIP »
and ``svi-acd vip import``). Numbers are personal data: only their last four digits are
written."""

from __future__ import annotations

from collections.abc import Sequence

from svi_acd.audit.store import Change
from svi_acd.routing.directory import DirectoryEntry


def masked(number: str) -> str:
    return number if len(number) <= 4 else "…" + number[-4:]


def _period(entry: DirectoryEntry) -> str:
    start = f"{entry.start:%d/%m/%Y}" if entry.start else ""
    end = f"{entry.end:%d/%m/%Y}" if entry.end else ""
    if start or end:
        return f"{start or '…'} – {end or '…'}"
    return "permanente"


def _fields(entry: DirectoryEntry) -> dict[str, str]:
    return {
        "numéro": masked(entry.number),
        "nom": entry.name,
        "entité": entry.entity,
        "site": entry.site,
        "niveau": entry.level,
        "période": _period(entry),
    }


def _subject(entry_id: int, entry: DirectoryEntry) -> str:
    return f"entrée n° {entry_id} ({entry.name})"


def _described(entry: DirectoryEntry) -> str:
    fields = _fields(entry)
    return (f"{fields['niveau']}, numéro {fields['numéro']}, période {fields['période']}, "
            f"entité « {fields['entité']} », site « {fields['site']} »")  # fmt: skip


def directory_imported(source: str, entries: Sequence[DirectoryEntry]) -> Change:
    vip = sum(1 for entry in entries if entry.level == "VIP")
    return Change("annuaire", "import", source,
                  f"annuaire remplacé : {len(entries)} entrée(s) ({vip} VIP, "
                  f"{len(entries) - vip} P0)")  # fmt: skip


def entry_added(entry_id: int, entry: DirectoryEntry) -> Change:
    return Change("annuaire", "ajout_entree", _subject(entry_id, entry), _described(entry))


def entry_changed(entry_id: int, before: DirectoryEntry, after: DirectoryEntry) -> Change:
    old, new = _fields(before), _fields(after)
    changes = [f"{name} : {old[name]} → {new[name]}" for name in new if old[name] != new[name]]
    if before.number != after.number and old["numéro"] == new["numéro"]:
        changes.insert(0, f"numéro : changé (toujours {new['numéro']})")
    return Change("annuaire", "modification_entree", _subject(entry_id, after),
                  " ; ".join(changes) or "aucun changement")  # fmt: skip


def entry_removed(entry_id: int, entry: DirectoryEntry) -> Change:
    return Change("annuaire", "suppression_entree", _subject(entry_id, entry), _described(entry))
