"""Lines of Asterisk's queue_log, parsed: ``epoch|callid|queue|agent|EVENT|data1|data2|…``.

Field positions (Asterisk's queue_log documentation):

- ``ENTERQUEUE(url|callerid)``
- ``CONNECT(holdtime|bridged uniqueid|ringtime)``
- ``COMPLETECALLER`` / ``COMPLETEAGENT(holdtime|calltime|origposition)``
- ``ABANDON``, ``EXITEMPTY``, ``EXITWITHTIMEOUT(position|origposition|waittime)``
- ``EXITWITHKEY(key|position|origposition|waittime)``
- ``WITHDRAW(position|origposition|waittime|info)``: the service's overflow took the caller out
- ``BLINDTRANSFER(extension|context|holdtime|calltime|origposition)``,
  ``ATTENDEDTRANSFER(method|method data|holdtime|calltime|origposition)``, and the older
  ``TRANSFER(extension|context|holdtime|calltime|origposition)``
- ``RINGNOANSWER(ringtime in ms)``

plus the service's own events (callid = the call's uniqueid): ``SVI_CALL(territory|priority)``,
``SVI_BRANCH(branch)``, ``SVI_CLOSED``, ``SVI_TERRITORY_CLOSED``, ``SVI_DETERRED``,
``SVI_OVERFLOW(rule|destination)``, ``SVI_CALLBACK``, ``SVI_VIP(VIP|P0)``,
``SVI_TICKET(ticket|parent ticket)``. A callback's placeholder waits as ``<uniqueid>-rappel;2``:
its lines count for the caller's call.

Agents' pauses have no call (callid ``NONE``; the agent field is the member name):
``PAUSE(reason)``, ``UNPAUSE``, and ``REMOVEMEMBER`` or ``QUEUESTART``, which end a pause.
``parse_member_line`` reads them; the importer asks it only about lines that ``parse_line``
left aside, so the lines of calls pay nothing for it. ``PAUSEALL``/``UNPAUSEALL`` repeat the
per-queue lines that follow them and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from svi_acd.asterisk.contract import CALLBACK_SUFFIX as PLACEHOLDER_SUFFIX
from svi_acd.asterisk.contract import SERVICE_EVENTS

# Index (in data1, data2, …) of the numeric fields each event carries: (wait, talk).
NUMBERS: dict[str, tuple[int | None, int | None]] = {
    "CONNECT": (0, None),
    "COMPLETECALLER": (0, 1),
    "COMPLETEAGENT": (0, 1),
    "ABANDON": (2, None),
    "EXITEMPTY": (2, None),
    "EXITWITHTIMEOUT": (2, None),
    "EXITWITHKEY": (3, None),
    "WITHDRAW": (2, None),  # position|origposition|waittime|info: taken out by the service
    "BLINDTRANSFER": (2, 3),
    "ATTENDEDTRANSFER": (2, 3),
    "TRANSFER": (2, 3),
    "RINGNOANSWER": (None, 0),
}

QUEUE_EVENTS = frozenset(NUMBERS) | {"ENTERQUEUE", "JOINEMPTY", "FULL", "JOINUNAVAIL"}
CALL_EVENTS = QUEUE_EVENTS | SERVICE_EVENTS
# QUEUESTART: Asterisk (re)started its queues; members come back unpaused (the generated
# queues.conf has persistentmembers = no), so it ends every open pause.
MEMBER_EVENTS = frozenset({"PAUSE", "UNPAUSE", "REMOVEMEMBER", "QUEUESTART"})
NAME_LENGTH = 80  # agent, queue and pause reason, as stored
NO_CALL = frozenset({"", "NONE", "REALTIME"})
# A callback's placeholder (``acd.desk``) waits under the caller's uniqueid plus this suffix
# (the ";2" half of a Local channel): its wait and its answer belong to the caller's call.
CALLBACK_SUFFIX = PLACEHOLDER_SUFFIX + ";2"  # the half of the Local channel in the queue


class MalformedLine(ValueError):
    """A line that is not a queue_log entry; the message says why, in French."""


@dataclass(slots=True)
class QueueLogEvent:
    epoch: int
    callid: str
    queue: str
    agent: str
    event: str
    data: list[str]
    wait: int = 0  # the event's hold/wait time in seconds (0 when it carries none)
    talk: int = 0  # its talk time in seconds, or ring time in ms for RINGNOANSWER

    def field(self, index: int) -> str:
        return self.data[index] if index < len(self.data) else ""


@dataclass(frozen=True, slots=True)
class MemberEvent:
    """A queue member's pause, unpause or removal (names cut to the stored length)."""

    epoch: int
    queue: str
    agent: str
    event: str
    reason: str = ""


def _number(data: list[str], index: int, event: str) -> int:
    if index >= len(data):
        return 0
    text = data[index].strip()
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except ValueError:
            raise MalformedLine(
                f"{event} : champ data{index + 1} non numérique « {text[:20]} »"
            ) from None


def _epoch(stamp: str) -> int:
    try:
        return int(stamp)
    except ValueError:
        try:
            return int(float(stamp))
        except ValueError:
            raise MalformedLine(f"horodatage invalide « {stamp[:20]} »") from None


def parse_line(line: str) -> QueueLogEvent | None:
    """The event of one line, ``None`` for lines about no call (agents, queue reloads).

    Raises ``MalformedLine`` for anything that is not a queue_log entry.
    """
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5:
        if not line.strip():
            raise MalformedLine("ligne vide")
        raise MalformedLine(f"{len(parts)} champ(s) au lieu d'au moins 5")
    epoch = _epoch(parts[0])
    event = parts[4]
    if not event:
        raise MalformedLine("nom d'évènement vide")
    callid = parts[1].removesuffix(CALLBACK_SUFFIX)
    if event not in CALL_EVENTS or callid in NO_CALL:
        return None
    data = parts[5:]
    record = QueueLogEvent(epoch, callid, parts[2], parts[3], event, data)
    numbers = NUMBERS.get(event)
    if numbers is not None:
        wait_index, talk_index = numbers
        if wait_index is not None:
            record.wait = _number(data, wait_index, event)
        if talk_index is not None:
            record.talk = _number(data, talk_index, event)
    return record


def parse_member_line(line: str) -> MemberEvent | None:
    """An agent's pause, unpause or removal, or a restart; ``None`` for any other line.

    Meant for the lines ``parse_line`` returned ``None`` for (so already well formed).
    """
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5 or parts[4] not in MEMBER_EVENTS:
        return None
    event = parts[4]
    reason = parts[5].strip() if event == "PAUSE" and len(parts) > 5 else ""
    return MemberEvent(
        _epoch(parts[0]),
        parts[2][:NAME_LENGTH],
        parts[3][:NAME_LENGTH],
        event,
        reason[:NAME_LENGTH],
    )
