"""The JSON shape of crisis messages and journal lines, shared by the web API and the CLI.

Keys are French (the words supervisors use); instants are ISO 8601 with their offset (UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from svi_acd.prompts.crisis_store import JournalEntry, MessageContent, StoredMessage
from svi_acd.routing.crisis import STATUS_LABELS, message_status


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _content_json(content: MessageContent) -> dict[str, Any]:
    return {
        "titre": content.label,
        "source": content.source,
        "texte": content.text,
        "fichier_origine": content.recording_name,
        "mode": content.mode,
        "portee": {"type": content.scope.kind, "valeurs": list(content.scope.values)},
        "debut": _iso(content.start),
        "fin": _iso(content.end),
        "rappel_portail": content.portal_pointer,
        "incident": content.incident,
        "duree_s": content.duration_s,
    }


def message_json(message: StoredMessage, at: datetime) -> dict[str, Any]:
    status = message_status(message.routing(), at)
    return {
        "id": message.id,
        **_content_json(message.content),
        "actif": message.active,
        "statut": status,
        "statut_libelle": STATUS_LABELS[status],
        "version": message.version,
        "origine": message.origin,
        "cree_le": _iso(message.created_at),
        "cree_par": message.created_by,
        "modifie_le": _iso(message.updated_at),
        "modifie_par": message.updated_by,
    }


def journal_json(entry: JournalEntry) -> dict[str, Any]:
    content = _content_json(entry.content) if entry.content else {}
    content.pop("duree_s", None)
    content.pop("fichier_origine", None)
    content.pop("rappel_portail", None)
    return {
        "id": entry.id,
        "date": _iso(entry.at),
        "utilisateur": entry.actor,
        "action": entry.action,
        "message": entry.message_id,
        "version": entry.version,
        "actif": entry.active,
        **content,
        "detail": entry.detail,
    }
