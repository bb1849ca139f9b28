"""The flow engine's ``CrisisSource`` over the live state: the local snapshot, no network I/O."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from svi_acd.ivr.engine import CrisisPlayback
from svi_acd.live.state import LiveState
from svi_acd.routing.crisis import select_messages


class LiveCrisisSource:
    def __init__(self, live: LiveState, sound_name: Callable[[str], str]) -> None:
        self.live = live
        self.sound_name = sound_name  # file stem -> the name Asterisk plays

    def current(
        self, scope: str | None, territory: str | None, branch: str | None, at: datetime
    ) -> tuple[CrisisPlayback, ...]:
        messages = select_messages(self.live.snapshot().messages, scope, territory, branch, at)
        return tuple(
            CrisisPlayback(m.message_id, self.sound_name(m.sound), m.mode) for m in messages
        )
