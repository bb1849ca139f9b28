"""Read Asterisk's queue_log (``epoch|callid|queue|agent|EVENT|data…``) to check what happened.

A minimal reader for the lab and its tests; the statistics journal has its own importer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class QueueLogEntry:
    time: float
    call_id: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]


def parse_line(line: str) -> QueueLogEntry | None:
    fields = line.rstrip("\n").split("|")
    if len(fields) < 5:
        return None
    try:
        moment = float(fields[0])
    except ValueError:
        return None
    return QueueLogEntry(moment, fields[1], fields[2], fields[3], fields[4], tuple(fields[5:]))


def read_queue_log(path: Path) -> list[QueueLogEntry]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [entry for line in text.splitlines() if (entry := parse_line(line))]


def call_ids_for_caller(entries: list[QueueLogEntry], caller_number: str) -> list[str]:
    """Uniqueids of the calls from ``caller_number`` (ENTERQUEUE data: url|callerid|position)."""
    return [
        entry.call_id
        for entry in entries
        if entry.event == "ENTERQUEUE" and len(entry.data) > 1 and entry.data[1] == caller_number
    ]


def events_for_call(entries: list[QueueLogEntry], call_id: str) -> list[str]:
    return [entry.event for entry in entries if entry.call_id == call_id]


def caller_reached(entries: list[QueueLogEntry], caller_number: str, event: str) -> bool:
    """True once the last call from ``caller_number`` has logged ``event`` (e.g. CONNECT)."""
    call_ids = call_ids_for_caller(entries, caller_number)
    return bool(call_ids) and event in events_for_call(entries, call_ids[-1])


async def wait_for_queue_log(
    path: Path,
    condition: Callable[[list[QueueLogEntry]], bool],
    timeout_s: float,
    poll_s: float = 0.1,
) -> list[QueueLogEntry]:
    """Poll the queue_log until ``condition`` holds; raise TimeoutError with what was seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        entries = await asyncio.to_thread(read_queue_log, path)
        if condition(entries):
            return entries
        if time.monotonic() >= deadline:
            seen = "\n".join(f"{e.call_id} {e.queue} {e.agent} {e.event} {e.data}" for e in entries)
            raise TimeoutError(f"queue_log sans l'évènement attendu après {timeout_s} s :\n{seen}")
        await asyncio.sleep(poll_s)
