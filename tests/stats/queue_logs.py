"""Hand-made queue_logs: lines written as Asterisk writes them, instants given in Paris time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def epoch(local: str, fold: int = 0) -> int:
    """Epoch of a Paris wall-clock time ``2026-10-14 10:00:05`` (fold=1: second 02:xx in Oct)."""
    return int(datetime.fromisoformat(local).replace(tzinfo=PARIS, fold=fold).timestamp())


def line(at: int, callid: str, queue: str, agent: str, event: str, *data: object) -> str:
    return "|".join([str(at), callid, queue, agent, event, *(str(item) for item in data)])


class QueueLog:
    """Collects lines; ``call`` adds the lines of one call from a start instant and offsets."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, at: int, callid: str, queue: str, agent: str, event: str, *data: object) -> None:
        self.lines.append(line(at, callid, queue, agent, event, *data))

    def call(self, start: int, callid: str, *steps: tuple) -> None:
        """Each step: (seconds after start, queue, agent, EVENT, data…)."""
        for offset, queue, agent, event, *data in steps:
            self.add(start + offset, callid, queue, agent, event, *data)

    def text(self) -> str:
        return "".join(f"{item}\n" for item in self.lines)

    def write(self, path: Path) -> Path:
        path.write_text(self.text())
        return path
