"""« Message de crise » (``/crise``): what callers hear now, and the form supervisors use to
publish, preview, change and withdraw crisis and deterrence messages.

Handlers are thin: the form is read with the JSON API's multipart reader and validated with
its models (``crisis_api``), the change is made by ``CrisisMessages``. A refused form is shown
again, with each error next to its field and everything typed kept (except the file, which
browsers never let a page pre-fill).

Routes (the form fields are the API's: ``texte``, ``titre``, ``mode``, ``portee``, ``debut``,
``fin`` — ``datetime-local``, Paris time —, ``incident``, ``rappel_portail``, ``fichier``;
plus ``branches`` / ``territoires`` checkboxes and the ``publier`` button):

- ``GET  /crise``: messages on the line now, the form, every other message;
- ``POST /crise``: create (``publier=oui``: on the line at once);
- ``POST /crise/apercu``: the audio callers would hear, as WAV, without publishing anything
  (a text is synthesised; a recording is converted); a refusal is the page again, or JSON
  ``{"erreur", "champs"}`` for scripts (``Accept: application/json``);
- ``GET  /crise/{id}`` and ``POST /crise/{id}``: change a message (``version`` guards against
  a concurrent change);
- ``POST /crise/{id}/activer`` and ``/desactiver``: put on / withdraw from the line. Messages
  are never deleted: the journal refers to them; « retirer » is switching off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from svi_acd.accounts.roles import Permission
from svi_acd.config.model import Settings
from svi_acd.prompts.crisis import (
    METROPOLE,
    CrisisMessages,
    known_branches,
    known_territories,
)
from svi_acd.prompts.crisis_audio import ACCEPTED, convert_recording
from svi_acd.prompts.crisis_errors import CrisisError
from svi_acd.prompts.crisis_json import message_json
from svi_acd.prompts.crisis_store import StoredMessage
from svi_acd.web.crisis_api import (
    FormParts,
    MessageIn,
    MessagePatch,
    PreviewIn,
    read_parts,
)
from svi_acd.web.keys import CRISIS, SETTINGS
from svi_acd.web.pages import render
from svi_acd.web.schemas import RequestError, json_response, validated
from svi_acd.web.security import ACCOUNT, acting_user, requires

routes = web.RouteTableDef()

PARIS = ZoneInfo("Europe/Paris")
MODE_LABELS = {
    "information": "Information puis menu",
    "dissuasion": "Dissuasion puis raccroché",
}
SCOPE_LABELS = {"ligne": "Toute la ligne", "branches": "Branches du menu",
                "territoires": "Territoires"}  # fmt: skip
STATUS_BY_KIND = {"trop_volumineux": 413, "introuvable": 404, "conflit": 409,
                  "indisponible": 503}  # fmt: skip
DONE = {
    "publie": "Le message est publié : les prochains appelants l'entendent.",
    "enregistre": "Le message est enregistré sans être diffusé.",
    "modifie": "Le message est modifié.",
    "inchange": "Rien n'a changé.",
    "active": "Le message est diffusé : les prochains appelants l'entendent.",
    "desactive": "Le message est retiré de la ligne.",
}
FIELD_IDS = ("titre", "texte", "mode", "portee", "debut", "fin", "incident", "fichier")


def paris_text(moment: datetime | None, seconds: bool = False) -> str:
    """« 08/07/2026 10:00 », Paris time, for people."""
    if moment is None:
        return ""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def local_input(moment: datetime | None) -> str:
    """The value of a ``datetime-local`` input (Paris time)."""
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M") if moment else ""


def parse_local(value: str, name: str) -> datetime | None:
    """A ``datetime-local`` value read as Paris time (``RequestError`` when unreadable)."""
    text = value.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise field_error(name, f"date et heure invalides « {text} » (JJ/MM/AAAA HH:MM)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def field_error(name: str, message: str) -> RequestError:
    return RequestError(f"{name} : {message}", 422, champs=[{"champ": name, "erreur": message}])


@dataclass
class MessageForm:
    """What the form shows: typed values (strings as typed), kept when the form is refused."""

    titre: str = ""
    texte: str = ""
    mode: str = "information"
    portee: str = "ligne"
    branches: list[str] = field(default_factory=list)
    territoires: list[str] = field(default_factory=list)
    debut: str = ""
    fin: str = ""
    incident: str = ""
    rappel_portail: bool = True
    version: int | None = None
    source: str = "texte"

    @classmethod
    def from_fields(cls, fields: dict[str, list[str]]) -> MessageForm:
        def last(name: str, default: str = "") -> str:
            return fields.get(name, [default])[-1]

        version = last("version")
        return cls(
            titre=last("titre"),
            texte=last("texte"),
            mode=last("mode", "information"),
            portee=last("portee", "ligne"),
            branches=fields.get("branches", []),
            territoires=fields.get("territoires", []),
            debut=last("debut"),
            fin=last("fin"),
            incident=last("incident"),
            rappel_portail=last("rappel_portail") in ("oui", "on"),
            version=int(version) if version.isdigit() else None,
            source=last("source", "texte"),
        )

    @classmethod
    def from_message(cls, message: StoredMessage) -> MessageForm:
        c = message.content
        return cls(
            titre=c.label,
            texte=c.text or "",
            mode=c.mode,
            portee=c.scope.kind,
            branches=list(c.scope.values) if c.scope.kind == "branches" else [],
            territoires=list(c.scope.values) if c.scope.kind == "territoires" else [],
            debut=local_input(c.start),
            fin=local_input(c.end),
            incident=c.incident or "",
            rappel_portail=c.portal_pointer,
            version=message.version,
            source=c.source,
        )

    def body(self, *, with_text: bool) -> dict[str, Any]:
        """The JSON body the API would take for this form (dates as Paris time)."""
        values = self.territoires if self.portee == "territoires" else self.branches
        body: dict[str, Any] = {
            "titre": self.titre.strip() or None,
            "mode": self.mode,
            "portee": {"type": self.portee, "valeurs": values if self.portee != "ligne" else []},
            "debut": parse_local(self.debut, "debut"),
            "fin": parse_local(self.fin, "fin"),
            "incident": self.incident.strip() or None,
            "rappel_portail": self.rappel_portail,
        }
        if with_text:
            body["texte"] = self.texte
        return body


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def refusal(exc: CrisisError | RequestError) -> tuple[str, dict[str, str]]:
    """The general message and the errors by field (``portee.valeurs`` is shown at ``portee``)."""
    by_field: dict[str, str] = {}
    listed = exc.details.get("champs")
    if isinstance(listed, list):
        for item in listed:
            name = str(item.get("champ", "")).split(".")[0]
            by_field.setdefault(name if name in FIELD_IDS else "", str(item.get("erreur", "")))
    elif isinstance(exc.details.get("champ"), str):
        name = str(exc.details["champ"])
        by_field[name if name in FIELD_IDS else ""] = exc.message
    if isinstance(exc, CrisisError) and exc.kind in ("trop_volumineux", "audio_refuse"):
        by_field["fichier"] = exc.message
    general = by_field.pop("", None) or exc.message
    return sentence(general), {name: sentence(text) for name, text in by_field.items()}


def may(request: web.Request, permission: Permission) -> bool:
    """Whether the logged-in user may do this (pages hide the forms they could not send)."""
    account = request.get(ACCOUNT)
    return account is not None and account.may(permission)


def error_status(exc: CrisisError | RequestError) -> int:
    if isinstance(exc, RequestError):
        return exc.status
    return STATUS_BY_KIND.get(exc.kind, 422)


async def read_page_form(request: web.Request) -> FormParts:
    """A page's form: multipart (with a recording) through the API's bounded reader."""
    if request.content_type == "multipart/form-data":
        return await read_parts(request)
    posted = await request.post()
    fields: dict[str, list[str]] = {}
    for name, value in posted.items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return FormParts(fields)


def _choices(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    names = {code: territory.name for code, territory in settings.territories.items()}
    names[METROPOLE] = "Métropole"
    return {
        "modes": list(MODE_LABELS.items()),
        "portees": list(SCOPE_LABELS.items()),
        "branches": [(branch, branch) for branch in known_branches(settings)],
        "territoires": [(code, names.get(code, code)) for code in known_territories()],
    }


def message_view(message: StoredMessage, at: datetime) -> dict[str, Any]:
    """One message as the templates show it (French labels, Paris times)."""
    data = message_json(message, at)
    c = message.content
    return {
        **data,
        "mode_libelle": MODE_LABELS[c.mode],
        "portee_libelle": c.scope.describe(),
        "debut_texte": paris_text(c.start),
        "fin_texte": paris_text(c.end),
        "modifie_texte": paris_text(message.updated_at),
        "audio": f"/api/crise/messages/{message.id}/audio?version={message.version}",
    }


async def crisis_page(
    request: web.Request, form: MessageForm | None = None, *, editing: StoredMessage | None = None,
    error: str | None = None, errors: dict[str, str] | None = None, status: int = 200,
) -> web.Response:  # fmt: skip
    crisis = request.app[CRISIS]
    now = crisis.clock()
    context: dict[str, Any] = {
        "form": form or MessageForm(),
        "error": error,
        "errors": errors or {},
        "choices": _choices(request.app[SETTINGS]),
        "accepted": ACCEPTED,
        "max_mo": crisis.limits.max_bytes / 1_000_000,
        "max_octets": crisis.limits.max_bytes,
        "max_caracteres": request.app[SETTINGS].crisis.max_text_chars,
        "done": DONE.get(request.query.get("fait", "")),
        "can_write": may(request, "crise:ecriture"),
    }
    if editing is not None:
        context["editing"] = message_view(editing, now)
        return await render(request, "crise_modifier.html", status=status, **context)
    messages = [message_view(m, now) for m in reversed(await crisis.list_all())]
    context["on_air"] = [m for m in messages if m["statut"] == "diffuse"]
    context["others"] = [m for m in messages if m["statut"] != "diffuse"]
    return await render(request, "crise.html", status=status, **context)


@routes.get("/crise")
@requires("crise:lecture")
async def crisis_home(request: web.Request) -> web.Response:
    return await crisis_page(request)


@routes.post("/crise")
@requires("crise:ecriture")
async def publish(request: web.Request) -> web.Response:
    crisis = request.app[CRISIS]
    parts = await read_page_form(request)
    form = MessageForm.from_fields(parts.fields)
    active = parts.fields.get("publier", ["oui"])[-1] == "oui"
    try:
        if parts.refused is not None:
            raise parts.refused
        with_text = parts.recording is None or bool(form.texte.strip())
        body = validated(MessageIn, {**form.body(with_text=with_text), "actif": active})
        change = await crisis.create(body.request(parts.recording), acting_user(request))
    except (CrisisError, RequestError) as exc:
        error, errors = refusal(exc)
        return await crisis_page(request, form, error=error, errors=errors,
                                 status=error_status(exc))  # fmt: skip
    done = "publie" if active else "enregistre"
    raise web.HTTPSeeOther(f"/crise?fait={done}#message-{change.message.id}")


@routes.post("/crise/apercu")
@requires("crise:ecriture")
async def preview(request: web.Request) -> web.Response:
    crisis = request.app[CRISIS]
    parts = await read_page_form(request)
    form = MessageForm.from_fields(parts.fields)
    try:
        wav = await _preview_audio(crisis, parts, form)
    except (CrisisError, RequestError) as exc:
        error, errors = refusal(exc)
        if "application/json" in request.headers.get("Accept", ""):
            champs = [{"champ": name, "erreur": text} for name, text in errors.items()]
            return json_response({"erreur": error, "champs": champs}, status=error_status(exc))
        message_id = request.query.get("message", "")
        editing = await crisis.get(int(message_id)) if message_id.isdigit() else None
        return await crisis_page(request, form, editing=editing, error=error, errors=errors,
                                 status=error_status(exc))  # fmt: skip
    return web.Response(
        body=wav,
        content_type="audio/wav",
        headers={"Content-Disposition": 'inline; filename="apercu.wav"',
                 "Cache-Control": "no-store"},
    )  # fmt: skip


async def _preview_audio(crisis: CrisisMessages, parts: FormParts, form: MessageForm) -> bytes:
    if parts.refused is not None:
        raise parts.refused
    if parts.recording is not None and not form.texte.strip():
        converted = await convert_recording(
            parts.recording.data, parts.recording.filename, crisis.limits
        )
        return converted.wav
    body = validated(
        PreviewIn,
        {"texte": form.texte, "mode": form.mode, "rappel_portail": form.rappel_portail},
    )
    return await crisis.preview(body.texte, body.mode, body.rappel_portail)


def _message_id(request: web.Request) -> int:
    return int(request.match_info["id"])


@routes.get(r"/crise/{id:\d+}")
@requires("crise:lecture")
async def edit_form(request: web.Request) -> web.Response:
    try:
        message = await request.app[CRISIS].get(_message_id(request))
    except CrisisError as exc:
        raise web.HTTPNotFound(text=exc.message) from exc
    return await crisis_page(request, MessageForm.from_message(message), editing=message)


@routes.post(r"/crise/{id:\d+}")
@requires("crise:ecriture")
async def update(request: web.Request) -> web.Response:
    crisis = request.app[CRISIS]
    message_id = _message_id(request)
    try:
        message = await crisis.get(message_id)
    except CrisisError as exc:
        raise web.HTTPNotFound(text=exc.message) from exc
    parts = await read_page_form(request)
    form = MessageForm.from_fields(parts.fields)
    form.source = message.content.source
    try:
        if parts.refused is not None:
            raise parts.refused
        with_text = message.content.source == "texte"
        body = validated(MessagePatch, {**form.body(with_text=with_text), "version": form.version})
        change = await crisis.update(
            message_id, body.changes(), acting_user(request),
            version=body.version, recording=parts.recording,
        )  # fmt: skip
    except (CrisisError, RequestError) as exc:
        error, errors = refusal(exc)
        if isinstance(exc, CrisisError) and exc.kind == "conflit":
            message = await crisis.get(message_id)
            form.version = message.version
        return await crisis_page(request, form, editing=message, error=error, errors=errors,
                                 status=error_status(exc))  # fmt: skip
    done = "modifie" if change.changed else "inchange"
    raise web.HTTPSeeOther(f"/crise?fait={done}#message-{message_id}")


async def _switch(request: web.Request, active: bool) -> web.Response:
    crisis = request.app[CRISIS]
    try:
        await crisis.switch(_message_id(request), active, acting_user(request))
    except CrisisError as exc:
        if exc.kind == "introuvable":
            raise web.HTTPNotFound(text=exc.message) from exc
        return await crisis_page(request, error=exc.message, status=error_status(exc))
    done = "active" if active else "desactive"
    raise web.HTTPSeeOther(f"/crise?fait={done}#message-{_message_id(request)}")


@routes.post(r"/crise/{id:\d+}/activer")
@requires("crise:ecriture")
async def activate(request: web.Request) -> web.Response:
    return await _switch(request, True)


@routes.post(r"/crise/{id:\d+}/desactiver")
@requires("crise:ecriture")
async def deactivate(request: web.Request) -> web.Response:
    return await _switch(request, False)
