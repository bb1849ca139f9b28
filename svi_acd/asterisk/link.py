"""What the AMI link is made of and reports: credentials, options, status, errors."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from svi_acd.asterisk.frames import AmiMessage

USER_ENV = "SVI_ACD_AMI_USER"
SECRET_ENV = "SVI_ACD_AMI_SECRET"

State = Literal["arrêté", "connexion", "connecté", "reconnexion"]


class AmiError(Exception):
    """Something went wrong on the AMI link; the message says what, in French."""


class AmiTimeout(AmiError, TimeoutError):
    """Asterisk did not answer in time."""


class AmiConnectionLost(AmiError):
    """The link broke before the answer came; a non-idempotent action is not sent again."""


class AmiLoginError(AmiError):
    """Asterisk refused the credentials."""


class AmiProtocolError(AmiError):
    """Asterisk (or whatever listens there) does not speak AMI as expected."""


class AmiActionError(AmiError):
    """Asterisk answered ``Response: Error`` (unknown channel, missing privilege…)."""

    def __init__(self, action: str, response: AmiMessage) -> None:
        self.action = action
        self.response = response
        super().__init__(f"Asterisk a refusé l'action « {action} » : {response.message}")


@dataclass(frozen=True)
class AmiCredentials:
    username: str
    secret: str = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AmiCredentials | None:
        """``$SVI_ACD_AMI_USER`` / ``$SVI_ACD_AMI_SECRET`` (never the configuration file)."""
        username, secret = environ.get(USER_ENV, ""), environ.get(SECRET_ENV, "")
        return cls(username, secret) if username and secret else None


@dataclass(frozen=True)
class AmiOptions:
    host: str
    port: int
    credentials: AmiCredentials
    event_classes: tuple[str, ...] = ()  # Login "Events:"; empty: no events at all
    event_names: tuple[str, ...] = ()  # Filter to these event names; empty: the whole classes
    action_deadline_s: float = 5.0
    connect_deadline_s: float = 5.0
    ping_interval_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0


@dataclass(frozen=True)
class AmiStatus:
    state: State
    retry_in_s: float | None = None
    last_error: str | None = None
    connected_since: datetime | None = None

    @property
    def text(self) -> str:
        if self.state == "connecté" and self.connected_since:
            return f"connecté depuis {self.connected_since:%H:%M:%S}"
        if self.state == "reconnexion":
            seconds = max(1, round(self.retry_in_s or 0))
            reason = f" ({self.last_error})" if self.last_error else ""
            return f"reconnexion dans {seconds} s{reason}"
        return {"connexion": "connexion en cours", "arrêté": "arrêté"}.get(self.state, self.state)
