"""The AMI wire format: ``Key: Value`` lines, one blank line after each message.

Framing and decoding are done on whole messages: the reader cuts the byte stream at the
blank line first and decodes each message once, so a UTF-8 character split across two TCP
reads (panoramisk 1.4 decodes every chunk alone and drops the halves) arrives intact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

EOL = "\r\n"
END_OF_MESSAGE = b"\r\n\r\n"
GREETING_PREFIX = "Asterisk Call Manager/"
# Header values we write must not end a line (or the message) early.
_LINE_BREAKS = re.compile(r"[\r\n]+")

FieldValue = str | int | float | Sequence[str]


@dataclass(frozen=True, slots=True)
class AmiMessage:
    """One response or event; header names are case-insensitive, repeated headers kept."""

    fields: Mapping[str, tuple[str, ...]]  # lower-case name -> values in order
    names: Mapping[str, str] = field(default_factory=dict)  # lower-case -> as Asterisk wrote it

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name.lower())
        return values[0] if values else default

    def all(self, name: str) -> tuple[str, ...]:
        return self.fields.get(name.lower(), ())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.fields

    @property
    def event(self) -> str:
        return self.get("Event")

    @property
    def response(self) -> str:
        return self.get("Response")

    @property
    def action_id(self) -> str:
        return self.get("ActionID")

    @property
    def is_event(self) -> bool:
        return "event" in self.fields

    @property
    def is_error(self) -> bool:
        return self.response.lower() in ("error", "failure", "fail")

    @property
    def message(self) -> str:
        return self.get("Message")

    @property
    def starts_list(self) -> bool:
        return self.get("EventList").lower() == "start"

    @property
    def ends_list(self) -> bool:
        return self.get("EventList").lower() == "complete"

    def as_dict(self) -> dict[str, str]:
        """First value of each header, under Asterisk's spelling (logs, tests)."""
        return {self.names.get(key, key): values[0] for key, values in self.fields.items()}

    def __repr__(self) -> str:
        kind = f"Event={self.event!r}" if self.is_event else f"Response={self.response!r}"
        return f"<AmiMessage {kind} {len(self.fields)} champs>"


def parse_message(text: str) -> AmiMessage | None:
    """A message from its text (blank line removed); None if it is neither event nor response."""
    fields: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        name, separator, value = line.partition(":")
        if not separator or not name or name != name.strip():
            continue  # body text of an old-style "Response: Follows", or noise
        key = name.lower()
        names.setdefault(key, name)
        fields.setdefault(key, []).append(value[1:] if value.startswith(" ") else value)
    if "event" not in fields and "response" not in fields:
        return None
    return AmiMessage({key: tuple(values) for key, values in fields.items()}, names)


def decode_message(raw: bytes) -> AmiMessage | None:
    """Decode one whole message (bytes up to and including the blank line)."""
    return parse_message(raw.decode("utf-8", errors="replace").rstrip("\r\n"))


def format_action(name: str, action_id: str, fields: Mapping[str, FieldValue]) -> bytes:
    """An action as bytes; a list value repeats its header (``Variable: a=1``, ``Variable: …``)."""
    lines = [f"Action: {name}", f"ActionID: {action_id}"]
    for key, value in fields.items():
        values = [value] if isinstance(value, str | int | float) else list(value)
        lines += [f"{key}: {_LINE_BREAKS.sub(' ', str(item))}" for item in values]
    return (EOL.join(lines) + EOL + EOL).encode("utf-8")


def url_decoded(value: str) -> str:
    """AsyncAGI's ``Env`` and ``Result`` are URL-encoded UTF-8."""
    return unquote(value, encoding="utf-8", errors="replace")
