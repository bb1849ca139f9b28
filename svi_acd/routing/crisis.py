"""Which crisis / deterrence messages a caller hears at a ``crise`` node: pure selection.

A message has a *scope* (the whole line, some menu branches, or some territories), a *mode*
(information: play then go on; dissuasion: play then hang up), an on/off switch set by a
supervisor and an optional period ``[start, end)``. A ``crise`` node of the flow may restrict
what it plays with its ``portee``:

- none: every message that applies to what is known of the caller at that point;
- ``ligne``: messages for the whole line and for the caller's territory (known from the
  caller number, before any menu);
- ``territoire``: messages for the caller's territory only;
- ``branche``: messages for the menu branch the caller chose (the ``branche`` variable).

Rules, in order: a message already heard during this call is not played again; when a
deterrence message applies, the caller hears that one message only (it is self-contained and
the call ends after it): the most specific one (branch, then territory, then line), the most
recent among equals; otherwise every information message that applies, line-wide first, then
territory, then branch, oldest first. Everything here is a function of its arguments.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Mode = Literal["information", "dissuasion"]
ScopeKind = Literal["ligne", "branches", "territoires"]
NodeScope = Literal["ligne", "territoire", "branche"]

MODES: tuple[Mode, ...] = ("information", "dissuasion")
SCOPE_KINDS: tuple[ScopeKind, ...] = ("ligne", "branches", "territoires")
NODE_SCOPES: tuple[NodeScope, ...] = ("ligne", "territoire", "branche")

_KINDS_AT_NODE: dict[NodeScope | None, frozenset[ScopeKind]] = {
    None: frozenset(SCOPE_KINDS),
    "ligne": frozenset({"ligne", "territoires"}),
    "territoire": frozenset({"territoires"}),
    "branche": frozenset({"branches"}),
}
_SPECIFICITY: dict[ScopeKind, int] = {"ligne": 0, "territoires": 1, "branches": 2}


@dataclass(frozen=True, slots=True)
class Scope:
    """Who a message is for: the whole line, or the callers of some branches or territories."""

    kind: ScopeKind = "ligne"
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "ligne" and self.values:
            raise ValueError("une portée « ligne » ne prend pas de valeurs")
        if self.kind != "ligne" and not self.values:
            raise ValueError(f"une portée « {self.kind} » doit nommer au moins une valeur")

    def covers(self, territory: str | None, branch: str | None) -> bool:
        if self.kind == "ligne":
            return True
        if self.kind == "territoires":
            return territory is not None and territory in self.values
        return branch is not None and branch in self.values

    def describe(self) -> str:
        """French, for people: « toute la ligne », « branches : incident, demande »."""
        if self.kind == "ligne":
            return "toute la ligne"
        return f"{self.kind} : {', '.join(self.values)}"


@dataclass(frozen=True, slots=True)
class CrisisMessage:
    """A crisis message as routing sees it (no text, no file: the sound name stem only)."""

    id: int
    mode: Mode
    sound: str  # the published file's stem, relative to the sound folder
    scope: Scope = field(default_factory=Scope)
    active: bool = True
    start: datetime | None = None
    end: datetime | None = None
    version: int = 1

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("les dates de début et de fin doivent porter leur fuseau")
        if self.start and self.end and self.end <= self.start:
            raise ValueError("la fin doit être après le début")

    @property
    def message_id(self) -> str:
        """The id written to queue_log (``SVI_DETERRED``) and to the ``SVI_CRISE`` variable."""
        return f"crise-{self.id}"

    def in_period(self, at: datetime) -> bool:
        return (self.start is None or self.start <= at) and (self.end is None or at < self.end)

    def live(self, at: datetime) -> bool:
        """Switched on and within its period: callers hear it at ``at``."""
        return self.active and self.in_period(at)


Status = Literal["diffuse", "programme", "termine", "inactif"]

STATUS_LABELS: dict[Status, str] = {
    "diffuse": "diffusé",
    "programme": "programmé",
    "termine": "terminé",
    "inactif": "inactif",
}


def message_status(message: CrisisMessage, at: datetime) -> Status:
    """Where a message stands at ``at``, for lists and the « what callers hear now » view."""
    if not message.active:
        return "inactif"
    if message.start is not None and at < message.start:
        return "programme"
    if message.end is not None and at >= message.end:
        return "termine"
    return "diffuse"


@dataclass(frozen=True, slots=True)
class CrisisSnapshot:
    """Every message that is switched on, as of journal revision ``revision``."""

    revision: int = 0
    messages: tuple[CrisisMessage, ...] = ()


def select_messages(
    messages: Iterable[CrisisMessage],
    node_scope: str | None,
    territory: str | None,
    branch: str | None,
    at: datetime,
    heard: Collection[int] = (),
) -> tuple[CrisisMessage, ...]:
    """What this caller hears at a ``crise`` node now, in order (see the module rules)."""
    kinds = _KINDS_AT_NODE.get(node_scope)  # type: ignore[call-overload]
    if kinds is None:
        raise ValueError(f"portée de nœud inconnue « {node_scope} »")
    candidates = [
        message
        for message in messages
        if message.live(at)
        and message.id not in heard
        and message.scope.kind in kinds
        and message.scope.covers(territory, branch)
    ]
    deterrents = [message for message in candidates if message.mode == "dissuasion"]
    if deterrents:
        return (max(deterrents, key=lambda m: (_SPECIFICITY[m.scope.kind], m.id)),)
    return tuple(sorted(candidates, key=lambda m: (_SPECIFICITY[m.scope.kind], m.id)))


def next_change(messages: Iterable[CrisisMessage], at: datetime) -> datetime | None:
    """The next start or end after ``at`` among switched-on messages (for status displays)."""
    moments = [
        moment
        for message in messages
        if message.active
        for moment in (message.start, message.end)
        if moment is not None and moment > at
    ]
    return min(moments, default=None)
