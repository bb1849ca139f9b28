"""JSON API for crisis and deterrence messages, the surge alert and the service state.

Handlers are thin: read and validate the request, call ``CrisisMessages``, shape the answer.
A message is created or changed with JSON, or with ``multipart/form-data`` when a recording
is sent (field ``fichier``; the other fields as in JSON, ``portee`` and ``valeurs`` flat).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from aiohttp import BodyPartReader, web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from svi_acd.prompts.crisis import (
    Change,
    MessageRequest,
    Recording,
)
from svi_acd.prompts.crisis_audio import too_large
from svi_acd.prompts.crisis_errors import CrisisError
from svi_acd.prompts.crisis_json import journal_json, message_json
from svi_acd.prompts.crisis_store import ACTIONS, JournalFilter
from svi_acd.routing.crisis import Scope
from svi_acd.web.keys import CRISIS, HEALTH, SURGE
from svi_acd.web.schemas import RequestError, json_response, query, read_json, validated
from svi_acd.web.security import acting_user, requires

routes = web.RouteTableDef()

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields around the file
FIELD_MAX = 16 * 1024
FIELDS_MAX = 100
CHUNK = 64 * 1024
_TRUE = {"oui", "true", "1", "on", "vrai", "yes"}
_FALSE = {"non", "false", "0", "off", "faux", "no"}


PATCH_FIELDS = {
    "texte": "text",
    "titre": "label",
    "mode": "mode",
    "debut": "start",
    "fin": "end",
    "incident": "incident",
    "rappel_portail": "portal_pointer",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScopeIn(_Model):
    type: Literal["ligne", "branches", "territoires"] = "ligne"
    valeurs: list[str] = Field(default_factory=list, max_length=50)

    def scope(self) -> Scope:
        try:
            return Scope(self.type, tuple(v.strip() for v in self.valeurs if v.strip()))
        except ValueError as exc:
            raise CrisisError(f"portée invalide : {exc}.", champ="portee") from exc


class MessageIn(_Model):
    texte: str | None = Field(None, max_length=100_000)
    titre: str | None = Field(None, max_length=1000)
    mode: Literal["information", "dissuasion"] = "information"
    portee: ScopeIn = Field(default_factory=ScopeIn)
    debut: AwareDatetime | None = None
    fin: AwareDatetime | None = None
    incident: str | None = Field(None, max_length=1000)
    actif: bool = False
    rappel_portail: bool | None = None

    def request(self, recording: Recording | None = None) -> MessageRequest:
        return MessageRequest(
            text=self.texte,
            recording=recording,
            label=self.titre,
            mode=self.mode,
            scope=self.portee.scope(),
            start=self.debut,
            end=self.fin,
            incident=self.incident,
            active=self.actif,
            portal_pointer=self.rappel_portail,
        )


class MessagePatch(_Model):
    texte: str | None = Field(None, max_length=100_000)
    titre: str | None = Field(None, max_length=1000)
    mode: Literal["information", "dissuasion"] | None = None
    portee: ScopeIn | None = None
    debut: AwareDatetime | None = None
    fin: AwareDatetime | None = None
    incident: str | None = Field(None, max_length=1000)
    rappel_portail: bool | None = None
    version: int | None = Field(None, ge=1)

    def changes(self) -> dict[str, Any]:
        found = {
            PATCH_FIELDS[k]: getattr(self, k) for k in self.model_fields_set if k in PATCH_FIELDS
        }
        if "portee" in self.model_fields_set and self.portee is not None:
            found["scope"] = self.portee.scope()
        for required in ("mode", "portal_pointer"):
            if required in found and found[required] is None:
                del found[required]
        return found


class PreviewIn(_Model):
    texte: str = Field(max_length=100_000)
    mode: Literal["information", "dissuasion"] = "information"
    rappel_portail: bool | None = None


class JournalQuery(_Model):
    message: int | None = Field(None, ge=1)
    utilisateur: str | None = Field(None, max_length=100)
    action: Literal[ACTIONS] | None = None  # type: ignore[valid-type]
    incident: str | None = Field(None, max_length=100)
    depuis: AwareDatetime | None = None
    jusqu_a: AwareDatetime | None = None
    limite: int = Field(200, ge=1, le=1000)


class AudioQuery(_Model):
    version: int | None = Field(None, ge=1)


class HearingQuery(_Model):
    territoire: str | None = Field(None, max_length=4)
    branche: str | None = Field(None, max_length=100)
    instant: AwareDatetime | None = None


def _message_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _change_json(change: Change, at: datetime) -> dict[str, Any]:
    return {
        "message": message_json(change.message, at),
        "modifie": change.changed,
        "propagation": "immediate" if change.propagated else "differee",
        "revision": change.revision,
    }


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise RequestError(f"{name} : oui ou non attendu.", 422, champ=name)


async def _field_text(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > FIELD_MAX:
            raise RequestError(f"champ « {part.name} » trop long.", 413)
    return data.decode(part.get_charset("utf-8"), errors="replace")


class _Refused(Exception):
    pass


async def _upload(part: BodyPartReader, max_bytes: int) -> Recording:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise _Refused  # stop reading: the rest is never taken in
    return Recording(bytes(data), part.filename or "enregistrement")


@dataclass
class FormParts:
    """The fields of a multipart form (each value bounded) and its file, if any.

    ``refused`` is set when the file was larger than allowed: reading stopped there, so the
    fields sent after it are missing (pages put the file input last).
    """

    fields: dict[str, list[str]] = field(default_factory=dict)
    recording: Recording | None = None
    refused: Exception | None = None


async def read_parts(
    request: web.Request,
    max_bytes: int | None = None,
    too_large_error: Callable[[], Exception] | None = None,
) -> FormParts:
    """Read a multipart form without ever holding more than ``max_bytes`` of file.

    The file (field ``fichier``) is refused without reading any of it when the announced
    length already says it is too large, else as soon as it passes the limit. By default the
    limit and the refusal are the crisis recordings'.
    """
    crisis = request.app[CRISIS]
    if max_bytes is None:
        max_bytes = crisis.limits.max_bytes
    refusal = too_large_error or (lambda: too_large(crisis.limits))
    announced = request.content_length
    reader = await request.multipart()
    parts = FormParts()
    count = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise RequestError("formulaire imbriqué non pris en charge.", 400)
        count += 1
        if count > FIELDS_MAX:
            raise RequestError("formulaire trop long (trop de champs).", 413)
        if part.name == "fichier" and part.filename:
            try:
                if announced is not None and announced > max_bytes + FORM_OVERHEAD:
                    raise _Refused
                parts.recording = await _upload(part, max_bytes)
            except _Refused:
                parts.refused = refusal()
                break
        elif part.name:
            parts.fields.setdefault(part.name, []).append(await _field_text(part))
    return parts


def form_data(fields: dict[str, list[str]]) -> dict[str, Any]:
    """Flat form fields as the JSON body they stand for (``portee`` + ``valeurs``, flags)."""
    data: dict[str, Any] = {}
    for name, values in fields.items():
        if name == "valeurs":
            continue
        if name in ("actif", "rappel_portail"):
            data[name] = _flag(values[-1], name)
        elif name == "portee":
            items = [v for raw in fields.get("valeurs", []) for v in raw.split(",")]
            data[name] = {"type": values[-1], "valeurs": items}
        else:
            data[name] = values[-1]
    return data


async def read_form(request: web.Request) -> tuple[dict[str, Any], Recording | None]:
    """A multipart form as the JSON body it stands for, and its recording if any.

    The size limit is checked on the announced length before reading anything, then while
    reading (a client may not announce it, or lie).
    """
    crisis = request.app[CRISIS]
    max_bytes = crisis.limits.max_bytes
    if request.content_length is not None and request.content_length > max_bytes + FORM_OVERHEAD:
        raise too_large(crisis.limits)
    parts = await read_parts(request)
    if parts.refused is not None:
        raise parts.refused
    return form_data(parts.fields), parts.recording


async def _body(request: web.Request) -> tuple[dict[str, Any] | None, Recording | None]:
    if request.content_type == "multipart/form-data":
        return await read_form(request)
    return None, None


@routes.get("/api/crise/messages")
@requires("crise:lecture")
async def list_messages(request: web.Request) -> web.Response:
    crisis = request.app[CRISIS]
    now = crisis.clock()
    messages = [message_json(m, now) for m in await crisis.list_all()]
    return json_response({"messages": messages, "revision": crisis.live.snapshot().revision})


@routes.post("/api/crise/messages")
@requires("crise:ecriture")
async def create_message(request: web.Request) -> web.Response:
    crisis = request.app[CRISIS]
    form, recording = await _body(request)
    body = validated(MessageIn, form) if form is not None else await read_json(request, MessageIn)
    change = await crisis.create(body.request(recording), acting_user(request))
    location = f"/api/crise/messages/{change.message.id}"
    return json_response(
        _change_json(change, crisis.clock()), status=201, headers={"Location": location}
    )


@routes.get(r"/api/crise/messages/{id:\d+}")
@requires("crise:lecture")
async def get_message(request: web.Request) -> web.Response:
    crisis = request.app[CRISIS]
    message = await crisis.get(_message_id(request))
    return json_response({"message": message_json(message, crisis.clock())})


@routes.patch(r"/api/crise/messages/{id:\d+}")
@requires("crise:ecriture")
async def update_message(request: web.Request) -> web.Response:
    crisis = request.app[CRISIS]
    form, recording = await _body(request)
    body = (
        validated(MessagePatch, form)
        if form is not None
        else await read_json(request, MessagePatch)
    )
    change = await crisis.update(
        _message_id(request), body.changes(), acting_user(request),
        version=body.version, recording=recording,
    )  # fmt: skip
    return json_response(_change_json(change, crisis.clock()))


async def _switch(request: web.Request, active: bool) -> web.Response:
    crisis = request.app[CRISIS]
    change = await crisis.switch(_message_id(request), active, acting_user(request))
    return json_response(_change_json(change, crisis.clock()))


@routes.post(r"/api/crise/messages/{id:\d+}/activer")
@requires("crise:ecriture")
async def activate_message(request: web.Request) -> web.Response:
    return await _switch(request, True)


@routes.post(r"/api/crise/messages/{id:\d+}/desactiver")
@requires("crise:ecriture")
async def deactivate_message(request: web.Request) -> web.Response:
    return await _switch(request, False)


def _wav(data: bytes, filename: str) -> web.Response:
    return web.Response(
        body=data,
        content_type="audio/wav",
        headers={"Content-Disposition": f'inline; filename="{filename}"',
                 "Cache-Control": "no-store"},
    )  # fmt: skip


@routes.get(r"/api/crise/messages/{id:\d+}/audio")
@requires("crise:lecture")
async def message_audio(request: web.Request) -> web.Response:
    version = query(request, AudioQuery).version
    message_id = _message_id(request)
    data = await request.app[CRISIS].audio(message_id, version)
    suffix = f"-v{version}" if version else ""
    return _wav(data, f"crise-{message_id}{suffix}.wav")


@routes.post("/api/crise/apercu")
@requires("crise:ecriture")
async def preview(request: web.Request) -> web.Response:
    body = await read_json(request, PreviewIn)
    data = await request.app[CRISIS].preview(body.texte, body.mode, body.rappel_portail)
    return _wav(data, "apercu.wav")


@routes.get("/api/crise/journal")
@requires("crise:lecture")
async def journal(request: web.Request) -> web.Response:
    q = query(request, JournalQuery)
    where = JournalFilter(
        message_id=q.message, actor=q.utilisateur, action=q.action, incident=q.incident,
        since=q.depuis, until=q.jusqu_a, limit=q.limite,
    )  # fmt: skip
    entries = await request.app[CRISIS].journal(where)
    return json_response({"evenements": [journal_json(e) for e in entries]})


@routes.get("/api/crise/ecoute")
@requires("crise:lecture")
async def hearing(request: web.Request) -> web.Response:
    """What a caller (territory, branch) hears now, from this instance's live snapshot."""
    q = query(request, HearingQuery)
    crisis = request.app[CRISIS]
    heard = crisis.heard_now(q.territoire, q.branche, q.instant)
    return json_response(
        {
            "revision": crisis.live.snapshot().revision,
            "messages": [
                {
                    "id": m.id,
                    "mode": m.mode,
                    "version": m.version,
                    "portee": {"type": m.scope.kind, "valeurs": list(m.scope.values)},
                }
                for m in heard
            ],
        }
    )


@routes.get("/api/afflux")
@requires("supervision:lecture")
async def surge(request: web.Request) -> web.Response:
    monitor = request.app[SURGE]
    if monitor is None:
        raise RequestError("la détection d'afflux ne tourne pas dans ce processus.", 404)
    return json_response(monitor.status.as_json(monitor.settings))


@routes.get("/api/etat")
@requires("supervision:lecture")
async def health(request: web.Request) -> web.Response:
    return json_response(request.app[HEALTH]())
