"""Crisis and deterrence messages: what supervisors create, change, switch on and off.

``CrisisMessages`` is the one place that changes them, for the web API, the CLI and the surge
monitor alike. Every change goes the same way:

1. validate (French errors, nothing changed when refused);
2. render the audio off the event loop (espeak-ng, or the uploaded recording converted by
   ffmpeg), with the portal pointer appended to deterrence messages;
3. publish the file under a new name (atomic rename; older versions kept);
4. commit the message and its journal line in one transaction (the database is the source of
   truth);
5. publish the new snapshot to the live state: this instance at once, the others through
   Redis; the next call's flow reads it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.audit import SYSTEM_ACTOR
from svi_acd.config.flow import QueueNode, SetVariableNode
from svi_acd.config.model import TERRITORY_CODES, Settings
from svi_acd.live.state import LiveState
from svi_acd.prompts.crisis_audio import (
    Audio,
    AudioLimits,
    audio_of,
    convert_recording,
    join,
    speak,
)
from svi_acd.prompts.crisis_errors import CrisisError
from svi_acd.prompts.crisis_files import CrisisSoundFiles
from svi_acd.prompts.crisis_store import (
    JournalEntry,
    JournalFilter,
    MessageContent,
    StoredMessage,
    current_revision,
    get_message,
    insert_message,
    list_messages,
    load_snapshot,
    read_journal,
    switch_message,
    update_message,
)
from svi_acd.routing.crisis import MODES, CrisisMessage, Mode, Scope, select_messages

log = logging.getLogger(__name__)

BRANCH_VARIABLE = "branche"
METROPOLE = "FR"
LABEL_MAX = 200
INCIDENT_MAX = 100
SURGE_ORIGIN = "afflux"
SURGE_LABEL = "Dissuasion automatique (afflux d'appels)"
CHANGEABLE = frozenset(
    {"label", "text", "mode", "scope", "start", "end", "incident", "portal_pointer"}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Recording:
    """An uploaded file, already bounded in size by whoever read it."""

    data: bytes
    filename: str


@dataclass(frozen=True)
class MessageRequest:
    text: str | None = None
    recording: Recording | None = None
    label: str | None = None
    mode: Mode = "information"
    scope: Scope = field(default_factory=Scope)
    start: datetime | None = None
    end: datetime | None = None
    incident: str | None = None
    active: bool = False
    portal_pointer: bool | None = None  # None: deterrence messages point to the portal


@dataclass(frozen=True)
class Change:
    message: StoredMessage
    changed: bool  # False: nothing to do (already on, already off)
    propagated: bool  # False: committed, but other instances learn it later (Redis down)
    revision: int


def known_branches(settings: Settings) -> tuple[str, ...]:
    """Menu branches of the configured flow (``branche`` variables and queue branches)."""
    found: list[str] = []
    for node in settings.flow.nodes.values():
        if isinstance(node, SetVariableNode) and node.name == BRANCH_VARIABLE:
            found.append(node.value)
        elif isinstance(node, QueueNode) and node.branch:
            found.append(node.branch)
    return tuple(dict.fromkeys(found))


def known_territories() -> tuple[str, ...]:
    return (METROPOLE, *TERRITORY_CODES)


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


class CrisisMessages:
    def __init__(
        self, settings: Settings, engine: AsyncEngine, live: LiveState, files: CrisisSoundFiles,
        clock: Callable[[], datetime], voice: str = "fr",
    ) -> None:  # fmt: skip
        self.settings = settings
        self.engine = engine
        self.live = live
        self.files = files
        self.clock = clock
        self.voice = voice
        crisis = settings.crisis
        self.limits = AudioLimits(int(crisis.max_upload_mb * 1_000_000), crisis.max_duration_s)
        self._portal_audio: Audio | None = None

    # -- validation ----------------------------------------------------------------------

    def validated_text(self, text: str) -> str:
        cleaned = _clean(text)
        if not cleaned:
            raise CrisisError(
                "le texte du message est vide : écrivez ce que les appelants entendront.",
                champ="texte",
            )
        limit = self.settings.crisis.max_text_chars
        if len(cleaned) > limit:
            raise CrisisError(
                f"le texte fait {len(cleaned)} caractères, le maximum est {limit} : "
                "raccourcissez-le.",
                champ="texte",
            )
        return cleaned

    def validated_scope(self, scope: Scope) -> Scope:
        if scope.kind == "ligne":
            return scope
        allowed = known_branches(self.settings) if scope.kind == "branches" else known_territories()
        unknown = [value for value in scope.values if value not in allowed]
        if unknown:
            what = (
                "branche(s) inconnue(s)" if scope.kind == "branches" else "territoire(s) inconnu(s)"
            )
            raise CrisisError(
                f"{what} : {', '.join(unknown)} (valeurs possibles : {', '.join(allowed)}).",
                champ="portee",
            )
        return Scope(scope.kind, tuple(dict.fromkeys(scope.values)))

    def validated_period(
        self, start: datetime | None, end: datetime | None, now: datetime
    ) -> tuple[datetime | None, datetime | None]:
        for moment in (start, end):
            if moment is not None and moment.tzinfo is None:
                raise CrisisError("les dates doivent porter leur fuseau horaire.", champ="debut")
        if start and end and end <= start:
            raise CrisisError("la fin doit être après le début.", champ="fin")
        if end is not None and end <= now:
            raise CrisisError("la fin est déjà passée : choisissez une fin à venir.", champ="fin")
        return start, end

    @staticmethod
    def _short(value: str | None, limit: int, name: str) -> str | None:
        if value is None:
            return None
        cleaned = _clean(value)
        if len(cleaned) > limit:
            raise CrisisError(f"{name} : {limit} caractères au plus.", champ=name)
        return cleaned or None

    @staticmethod
    def _default_label(text: str | None, recording: str | None) -> str:
        if text:
            return text if len(text) <= 60 else text[:59].rstrip() + "…"
        return recording or "Message enregistré"

    # -- audio ---------------------------------------------------------------------------

    def portal_sentence(self) -> str:
        return f"Vous pouvez déclarer ou suivre votre demande sur {self.settings.crisis.portal}."

    @staticmethod
    def pointer_default(source: str, text: str | None, mode: Mode) -> bool:
        if mode != "dissuasion":
            return False
        return source == "fichier" or "portail" not in (text or "").lower()

    async def render(self, content: MessageContent) -> Audio:
        """The audio callers hear for this content (no file written)."""
        pointer = content.mode == "dissuasion" and content.portal_pointer
        if content.source == "texte":
            text = content.text or ""
            spoken = f"{text} {self.portal_sentence()}" if pointer else text
            return await speak(spoken, self.limits, self.voice)
        assert content.recording is not None
        base = audio_of(await self.files.read(content.recording))
        if not pointer:
            return base
        if self._portal_audio is None:
            self._portal_audio = await speak(self.portal_sentence(), self.limits, self.voice)
        combined = join(base, self._portal_audio)
        if combined.duration_s > self.limits.max_duration_s:
            raise CrisisError(
                f"avec le rappel du portail, le message dure {combined.duration_s:.0f} s, le "
                f"maximum est {self.limits.max_duration_s:.0f} s : raccourcissez "
                "l'enregistrement ou retirez le rappel du portail.",
                "audio_refuse",
            )
        return combined

    async def preview(
        self, text: str, mode: Mode = "information", pointer: bool | None = None
    ) -> bytes:
        """The WAV a text would give, without publishing anything."""
        text = self.validated_text(text)
        portal = self.pointer_default("texte", text, mode) if pointer is None else pointer
        content = MessageContent("aperçu", "texte", mode, "", 0.0, text=text, portal_pointer=portal)
        return (await self.render(content)).wav

    # -- changes -------------------------------------------------------------------------

    async def create(
        self, request: MessageRequest, actor: str, *, origin: str = "humain", detail: str = ""
    ) -> Change:
        now = self.clock()
        if request.mode not in MODES:
            raise CrisisError(f"mode inconnu « {request.mode} » (information ou dissuasion).")
        text = self.validated_text(request.text) if request.text is not None else None
        start, end = self.validated_period(request.start, request.end, now)
        recording = recording_name = None
        if request.recording is not None:
            converted = await convert_recording(
                request.recording.data, request.recording.filename, self.limits
            )
            recording = await self.files.keep_recording(converted.wav)
            recording_name = self._short(request.recording.filename, LABEL_MAX, "fichier")
        elif text is None:
            raise CrisisError("donnez le texte du message ou un enregistrement.", champ="texte")
        source = "fichier" if recording else "texte"
        pointer = request.portal_pointer
        if pointer is None:
            pointer = self.pointer_default(source, text, request.mode)
        content = MessageContent(
            label=self._short(request.label, LABEL_MAX, "titre")
            or self._default_label(text, recording_name),
            source=source,
            mode=request.mode,
            sound="",
            duration_s=0.0,
            scope=self.validated_scope(request.scope),
            text=text,
            recording=recording,
            recording_name=recording_name,
            start=start,
            end=end,
            portal_pointer=pointer,
            incident=self._short(request.incident, INCIDENT_MAX, "incident"),
        )
        audio = await self.render(content)
        content = replace(content, duration_s=round(audio.duration_s, 2))
        message = await insert_message(
            self.engine,
            content,
            lambda message_id: self.files.publish(message_id, 1, audio.wav),
            active=request.active,
            actor=actor,
            at=now,
            origin=origin,
            detail=detail or ("créé et activé" if request.active else "créé"),
        )
        log.info("message de crise %s créé par %s", message.id, actor)
        return await self._propagate(message, True)

    async def update(
        self, message_id: int, changes: Mapping[str, Any], actor: str, *,
        version: int | None = None, recording: Recording | None = None, detail: str = "",
    ) -> Change:  # fmt: skip
        now = self.clock()
        message = await get_message(self.engine, message_id)
        if version is not None and version != message.version:
            raise CrisisError(
                f"le message {message_id} a été modifié entre-temps (version {message.version}) :"
                " rechargez-le puis recommencez.",
                "conflit",
                version=message.version,
            )
        before = message.content
        content = self._merged(before, changes, now)
        if recording is not None:
            converted = await convert_recording(recording.data, recording.filename, self.limits)
            content = replace(
                content,
                source="fichier",
                recording=await self.files.keep_recording(converted.wav),
                recording_name=self._short(recording.filename, LABEL_MAX, "fichier"),
            )
        elif content.source == "texte" and not content.text:
            raise CrisisError("le texte du message est vide.", champ="texte")
        audible = ("text", "mode", "portal_pointer", "source")
        if recording is not None or any(getattr(content, n) != getattr(before, n) for n in audible):
            audio = await self.render(content)
            stem = await self.files.publish(message_id, message.version + 1, audio.wav)
            content = replace(content, sound=stem, duration_s=round(audio.duration_s, 2))
        what = detail or describe_changes(before, content, recording is not None)
        if not what:
            return Change(message, False, True, self.live.snapshot().revision)
        updated = await update_message(
            self.engine, message_id, message.version, content, actor=actor, at=now, detail=what
        )
        await self.files.prune(message_id, updated.content.sound)
        log.info("message de crise %s modifié par %s : %s", message_id, actor, what)
        return await self._propagate(updated, True)

    def _merged(
        self, before: MessageContent, changes: Mapping[str, Any], now: datetime
    ) -> MessageContent:
        """``before`` with the requested changes, each validated like at creation."""
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise CrisisError(f"champ(s) non modifiable(s) : {', '.join(sorted(unknown))}.")
        values = dict(changes)
        if values.get("text") is not None:
            values["text"] = self.validated_text(values["text"])
        if "scope" in values:
            values["scope"] = self.validated_scope(values["scope"])
        if "label" in values:
            values["label"] = self._short(values["label"], LABEL_MAX, "titre") or before.label
        if "incident" in values:
            values["incident"] = self._short(values["incident"], INCIDENT_MAX, "incident")
        if values.get("mode", before.mode) not in MODES:
            raise CrisisError(f"mode inconnu « {values['mode']} » (information ou dissuasion).")
        content = replace(before, **values)
        if "start" in values or "end" in values:
            self.validated_period(content.start, content.end, now)
        if content.mode != before.mode and "portal_pointer" not in values:
            pointer = self.pointer_default(content.source, content.text, content.mode)
            content = replace(content, portal_pointer=pointer)
        return content

    async def switch(self, message_id: int, active: bool, actor: str, detail: str = "") -> Change:
        now = self.clock()
        message = await get_message(self.engine, message_id)
        if active and message.content.end is not None and message.content.end <= now:
            raise CrisisError(
                "la fin de ce message est passée : modifiez sa fin avant de l'activer.",
                champ="fin",
            )
        message, changed = await switch_message(
            self.engine, message_id, active, actor=actor, at=now, detail=detail
        )
        if changed:
            log.info(
                "message de crise %s %s par %s", message_id,
                "activé" if active else "désactivé", actor,
            )  # fmt: skip
        return await self._propagate(message, changed)

    async def _propagate(self, message: StoredMessage, changed: bool) -> Change:
        snapshot = await load_snapshot(self.engine)
        propagated = await self.live.publish(snapshot) if changed else True
        return Change(message, changed, propagated, snapshot.revision)

    # -- surge ----------------------------------------------------------------------------

    async def activate_surge_deterrence(self, detail: str) -> Change:
        """Switch on the configured deterrence message (created on first use), as « système »."""
        text = self.settings.crisis.surge.deterrence_text
        existing = await list_messages(self.engine, origin=SURGE_ORIGIN)
        if not existing:
            request = MessageRequest(text=text, label=SURGE_LABEL, mode="dissuasion", active=True)
            return await self.create(request, SYSTEM_ACTOR, origin=SURGE_ORIGIN, detail=detail)
        message = existing[-1]
        wanted = {"text": self.validated_text(text), "mode": "dissuasion", "scope": Scope()}
        if any(getattr(message.content, key) != value for key, value in wanted.items()):
            await self.update(message.id, wanted, SYSTEM_ACTOR)
        return await self.switch(message.id, True, SYSTEM_ACTOR, detail)

    # -- reading ---------------------------------------------------------------------------

    async def list_all(self) -> list[StoredMessage]:
        return await list_messages(self.engine)

    async def get(self, message_id: int) -> StoredMessage:
        return await get_message(self.engine, message_id)

    async def audio(self, message_id: int, version: int | None = None) -> bytes:
        message = await get_message(self.engine, message_id)
        if version is None or version == message.version:
            return await self.files.read(message.content.sound)
        entries = await read_journal(self.engine, JournalFilter(message_id=message_id, limit=1000))
        for entry in entries:
            if entry.version == version and entry.content is not None:
                return await self.files.read(entry.content.sound)
        raise CrisisError(f"version {version} du message {message_id} inconnue", "introuvable")

    async def journal(self, where: JournalFilter) -> list[JournalEntry]:
        return await read_journal(self.engine, where)

    def heard_now(
        self, territory: str | None, branch: str | None, at: datetime | None = None
    ) -> tuple[CrisisMessage, ...]:
        """What a caller from ``territory`` choosing ``branch`` hears now (local snapshot)."""
        moment = at or self.clock()
        messages = self.live.snapshot().messages
        line = select_messages(messages, "ligne", territory, None, moment)
        if any(m.mode == "dissuasion" for m in line) or branch is None:
            return line
        heard = {m.id for m in line}
        return line + select_messages(messages, "branche", territory, branch, moment, heard)

    async def refresh(self) -> bool:
        """Catch up with the database (changes from the CLI, or missed while Redis was down)."""
        if await current_revision(self.engine) <= self.live.snapshot().revision:
            return False
        return self.live.apply(await load_snapshot(self.engine))


def describe_changes(before: MessageContent, after: MessageContent, new_recording: bool) -> str:
    """What a modification changed, in French, for the journal."""
    parts = []
    if new_recording:
        parts.append(f"nouvel enregistrement ({after.recording_name})")
    if after.text != before.text:
        parts.append("texte modifié")
    if after.mode != before.mode:
        parts.append(f"mode : {before.mode} → {after.mode}")
    if after.scope != before.scope:
        parts.append(f"portée : {before.scope.describe()} → {after.scope.describe()}")
    if (after.start, after.end) != (before.start, before.end):
        parts.append("période modifiée")
    if after.label != before.label:
        parts.append("titre modifié")
    if after.incident != before.incident:
        parts.append(f"incident : {before.incident or '—'} → {after.incident or '—'}")
    if after.portal_pointer != before.portal_pointer:
        parts.append("rappel du portail " + ("ajouté" if after.portal_pointer else "retiré"))
    return " ; ".join(parts)
