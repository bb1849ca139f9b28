"""Errors of the crisis message capability: a French sentence for people, and a kind for code.

The web layer maps kinds to HTTP status codes, the CLI to exit codes; the message is shown
as is, so it says what went wrong and what to do.
"""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal[
    "invalide",  # a field is wrong (empty text, unknown branch, end before start…)
    "introuvable",  # no such message or version
    "conflit",  # someone changed the message meanwhile
    "trop_volumineux",  # upload larger than allowed
    "audio_refuse",  # not audio, unsupported format, too long, silent
    "indisponible",  # synthesis or conversion tools missing or failing
]


class CrisisError(Exception):
    def __init__(self, message: str, kind: ErrorKind = "invalide", **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.kind: ErrorKind = kind
        self.details = details
