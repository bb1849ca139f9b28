"""What supervisors (API, CLI, pages) may ask of the ACD; implemented over AMI by ``acd.desk``.

Every method takes the acting user: each change is journaled with who made it. Errors are
``AcdError`` with a French message (unknown agent, unknown queue, AMI down…).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from svi_acd.acd.board import AcdSnapshot


class AcdError(Exception):
    """A supervisor's request could not be carried out; ``message`` is for people, in French."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AcdControl(Protocol):
    def snapshot(self) -> AcdSnapshot: ...

    async def wait_change(self, version: int, timeout_s: float) -> int: ...

    async def login(
        self, interface: str, actor: str, queues: Sequence[str] = (), name: str | None = None
    ) -> None: ...

    async def logout(self, interface: str, actor: str, queues: Sequence[str] = ()) -> None: ...

    async def pause(self, interface: str, reason: str, actor: str) -> None: ...

    async def unpause(self, interface: str, actor: str) -> None: ...

    async def change_priority(self, uniqueid: str, priority: int, actor: str) -> None: ...

    def overflow_rules(self) -> list[dict[str, object]]: ...

    async def switch_overflow_rule(self, name: str, enabled: bool, actor: str) -> None: ...
