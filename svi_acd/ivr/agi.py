"""The AGI command language, shared by the FastAGI and AsyncAGI runtimes.

A runtime only has to move lines: ``AgiChannel.command(text) -> reply line``. This module
builds the commands the engine needs, parses the replies (``200 result=49 endpos=1234``) and
turns dead-channel answers into ``CallerHungUp``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from svi_acd.asterisk.contract import ANSWERED_ARG
from svi_acd.asterisk.queue_log import queue_log_data
from svi_acd.ivr.session import ANY_DIGIT, CallerHungUp, CallInfo

_REPLY = re.compile(r"^(?P<code>\d{3})[ -](?:result=(?P<result>-?[^ ]*))?\s*(?P<rest>.*)$")
# French: "lundi 13 juillet à 8 heures" (A weekday, d day, B month, H hour, M minutes if not 0).
SAY_MOMENT_FORMAT = "AdB 'digits/at' HM"


class AgiError(Exception):
    """Asterisk refused a command (bad syntax, unknown application…)."""


@dataclass(frozen=True, slots=True)
class AgiReply:
    """One ``200 result=…`` line, read as Asterisk means it (res_agi.c).

    The forms the engine meets: ``result=-1`` the channel went away (or a sound is missing);
    ``result=0`` nothing pressed; ``result=49`` the key ``1`` (its character code) for STREAM
    FILE, GET OPTION and WAIT FOR DIGIT; for GET DATA the digits themselves, ``result=``
    (``#`` alone), ``result= (timeout)`` (nothing typed) or ``result=123 (timeout)``.
    """

    code: int
    result: str
    rest: str

    @property
    def number(self) -> int | None:
        """The result as a number, or None when it is not one (GET DATA's empty entry)."""
        try:
            return int(self.result)
        except ValueError:
            return None

    @property
    def failed(self) -> bool:
        """``result=-1``: the channel is gone (or the command could not run at all)."""
        return self.result == "-1"

    @property
    def timed_out(self) -> bool:
        return "(timeout)" in self.rest

    @property
    def key(self) -> str | None:
        """The key pressed, for commands that answer with its character code (0: none)."""
        code = self.number
        return chr(code) if code is not None and 0 < code < 256 else None

    @property
    def entry(self) -> str:
        """GET DATA's digits as typed (``*`` included), empty when nothing was typed."""
        return "" if self.failed else self.result


def parse_reply(line: str) -> AgiReply:
    match = _REPLY.match(line.strip())
    if not match:
        raise AgiError(f"réponse AGI illisible : {line!r}")
    code = int(match["code"])
    if code == 511:
        raise CallerHungUp(line.strip())
    if code != 200:
        raise AgiError(f"commande AGI refusée : {line.strip()}")
    return AgiReply(code, match["result"] or "", match["rest"])


def parse_headers(lines: list[str]) -> dict[str, str]:
    headers = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.startswith("agi_"):
            headers[key.strip()] = value.strip()
    return headers


def answered_in_request(request: str) -> bool:
    """``agi://host:port/svi?repondu``: the dialplan answered before handing the call over."""
    return ANSWERED_ARG in urlsplit(request).query.split("&")


def enough_to_start(headers: dict[str, str]) -> bool:
    """Whether the flow can start before the rest of the headers (see ``call_info``)."""
    return (
        "agi_callerid" in headers  # the 9th line: the URL is parsed once, not at every line
        and "agi_uniqueid" in headers
        and answered_in_request(headers.get("agi_request", ""))
    )


def call_info(headers: dict[str, str]) -> CallInfo:
    number = headers.get("agi_callerid", "")
    answered = headers.get("agi_arg_1") == ANSWERED_ARG
    return CallInfo(
        uniqueid=headers.get("agi_uniqueid", ""),
        caller_number="" if number == "unknown" else number,
        answered=answered or answered_in_request(headers.get("agi_request", "")),
    )


def quote(text: str) -> str:
    """An AGI argument: double-quoted, without characters that would end or split it."""
    return '"' + re.sub(r'["\\\r\n]', " ", text) + '"'


SendLine = Callable[[str, float], Awaitable[str]]


class AgiSession:
    """A ``CallSession`` over any transport that sends one AGI command and returns its reply."""

    def __init__(self, info: CallInfo, send: SendLine, media_deadline_s: float) -> None:
        self.info = info
        self._send = send
        self._media_deadline_s = media_deadline_s
        # Every command sent and its reply: what the caller heard, for logs, tests and support.
        self.trace: list[tuple[str, str]] = []

    async def command(self, text: str, deadline_s: float = 10.0) -> AgiReply:
        reply = await self._send(text, deadline_s)
        self.trace.append((text, reply))
        return parse_reply(reply)

    async def _media(self, text: str, extra_s: float = 0.0) -> AgiReply:
        reply = await self.command(text, self._media_deadline_s + extra_s)
        if reply.failed:
            # -1: the channel went away (or the sound is missing: the fallback still queues).
            # An empty result is not -1: GET DATA says so when the caller typed nothing.
            raise CallerHungUp(f"{text.split()[0]} : result=-1")
        return reply

    async def answer(self) -> None:
        # The generated dialplan answers before AGI() and says so: one round trip less
        # before the first prompt. Any other dialplan gets a real ANSWER.
        if not self.info.answered:
            await self.command("ANSWER")

    async def play(self, sounds: list[str], escape: str = ANY_DIGIT) -> str | None:
        for sound in sounds:
            reply = await self._media(f"STREAM FILE {sound} {quote(escape)}")
            if reply.key:
                return reply.key
        return None

    async def ask_digit(self, sounds: list[str], timeout_s: float) -> str | None:
        if not sounds:
            sounds = ["silence/1"]
        digit = await self.play(sounds[:-1])
        if digit:
            return digit
        timeout_ms = int(timeout_s * 1000)
        reply = await self._media(
            f"GET OPTION {sounds[-1]} {quote(ANY_DIGIT)} {timeout_ms}", extra_s=timeout_s
        )
        return reply.key

    async def read_digits(self, sounds: list[str], max_digits: int, timeout_s: float) -> str:
        if not sounds:
            sounds = ["silence/1"]
        # Type-ahead: a digit pressed during the first prompts starts the number.
        first = await self.play(sounds[:-1])
        if first == "#":
            return ""
        remaining = max_digits - (1 if first else 0)
        if first and remaining <= 0:
            return first
        timeout_ms = int(timeout_s * 1000)
        sound = "silence/1" if first else sounds[-1]
        reply = await self._media(
            f"GET DATA {sound} {timeout_ms} {remaining}", extra_s=timeout_s * (remaining + 1)
        )
        return (first or "") + reply.entry

    async def say_moment(self, moment: datetime, zone: str) -> None:
        epoch = int(moment.timestamp())
        await self._media(f'SAY DATETIME {epoch} "" {quote(SAY_MOMENT_FORMAT)} {zone}')

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def queue_log(self, queue: str, event: str, *data: str) -> None:
        fields = [queue, self.info.uniqueid, "NONE", event, queue_log_data(*data)]
        await self.command(f"EXEC QueueLog {quote(','.join(fields))}")

    async def hangup(self) -> None:
        await self.command("HANGUP")
