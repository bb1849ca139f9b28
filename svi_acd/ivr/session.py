"""What the flow engine needs from a call, whatever carries it (FastAGI, AsyncAGI, a test).

Sounds are Asterisk sound names (no extension), resolved from prompt ids by the prompt
catalogue. Every method may raise ``CallerHungUp``; the engine then stops walking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

ANY_DIGIT = "0123456789*#"


class CallerHungUp(Exception):
    """The caller left (or the channel went away) while the flow was running."""


@dataclass(frozen=True, slots=True)
class CallInfo:
    uniqueid: str
    caller_number: str  # as presented (CALLERID(num)); may be empty or "anonymous"
    answered: bool = False  # the dialplan answered the channel before handing it over


class CallSession(Protocol):
    info: CallInfo

    async def answer(self) -> None: ...

    async def play(self, sounds: list[str], escape: str = ANY_DIGIT) -> str | None:
        """Play the sounds in turn; a pressed digit among ``escape`` stops and is returned."""
        ...

    async def ask_digit(self, sounds: list[str], timeout_s: float) -> str | None:
        """Play the sounds (interruptible) then wait for one digit; None on timeout."""
        ...

    async def read_digits(self, sounds: list[str], max_digits: int, timeout_s: float) -> str:
        """Play the sounds (interruptible) and collect up to ``max_digits`` (``#`` ends)."""
        ...

    async def say_moment(self, moment: datetime, zone: str) -> None:
        """Say a date and time in French, in the given IANA zone (Asterisk's own sounds)."""
        ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def queue_log(self, queue: str, event: str, *data: str) -> None:
        """Append a line to Asterisk's queue_log for this call (custom SVI_* events)."""
        ...

    async def hangup(self) -> None: ...
