"""The voice menu (SVI) as a declarative graph of nodes, validated as a whole.

Each node names the node(s) it leads to; the engine (``ivr/``) walks the graph. Node types:

- ``annonce``: play a prompt then go on;
- ``menu``: play a prompt and read one digit (type-ahead allowed), with timeout, retries and
  invalid / no-answer prompts, then the chosen branch or ``echec`` when retries are exhausted;
- ``saisie``: read several digits (e.g. a ticket number) into a call variable;
- ``routage``: decision by routing (hours, territory window, VIP/P0);
- ``crise``: the live crisis/deterrence message, if any, then go on;
- ``variable``: set a call variable (e.g. the menu branch, for statistics);
- ``file``: queue the caller;
- ``fermeture``: the closed message with the next opening time, then hang up;
- ``raccrocher``: optional prompt, then hang up.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_DIGITS = re.compile(r"^[0-9*#]$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def targets(self) -> dict[str, str]:
        """Field alias -> node name, for every edge leaving this node."""
        return {}

    def prompts(self) -> dict[str, str]:
        """Field alias -> prompt id, for every prompt this node plays."""
        return {}


def _present(pairs: dict[str, str | None]) -> dict[str, str]:
    return {key: value for key, value in pairs.items() if value}


class PlayNode(_Node):
    type: Literal["annonce"]
    prompt: str = Field(alias="annonce")
    next: str = Field(alias="suite")

    def targets(self) -> dict[str, str]:
        return {"suite": self.next}

    def prompts(self) -> dict[str, str]:
        return {"annonce": self.prompt}


class MenuNode(_Node):
    type: Literal["menu"]
    prompt: str = Field(alias="annonce")
    choices: dict[str, str] = Field(alias="choix")
    timeout_s: float = Field(5.0, alias="delai_s", gt=0, le=60)
    attempts: int = Field(3, alias="essais", ge=1, le=10)
    invalid_prompt: str | None = Field(None, alias="annonce_invalide")
    no_input_prompt: str | None = Field(None, alias="annonce_sans_reponse")
    on_failure: str = Field(alias="echec")

    @field_validator("choices", mode="before")
    @classmethod
    def _digit_keys(cls, value: object) -> object:
        if isinstance(value, dict):
            value = {str(key): target for key, target in value.items()}
            for key in value:
                if not _DIGITS.match(key):
                    raise ValueError(f"touche invalide « {key} » (un chiffre, * ou #)")
        return value

    def targets(self) -> dict[str, str]:
        edges = {f"choix.{digit}": target for digit, target in self.choices.items()}
        edges["echec"] = self.on_failure
        return edges

    def prompts(self) -> dict[str, str]:
        return _present(
            {
                "annonce": self.prompt,
                "annonce_invalide": self.invalid_prompt,
                "annonce_sans_reponse": self.no_input_prompt,
            }
        )


class ReadDigitsNode(_Node):
    type: Literal["saisie"]
    prompt: str = Field(alias="annonce")
    variable: str
    min_digits: int = Field(1, alias="chiffres_min", ge=1, le=30)
    max_digits: int = Field(12, alias="chiffres_max", ge=1, le=30)
    timeout_s: float = Field(8.0, alias="delai_s", gt=0, le=60)
    attempts: int = Field(2, alias="essais", ge=1, le=10)
    invalid_prompt: str | None = Field(None, alias="annonce_invalide")
    no_input_prompt: str | None = Field(None, alias="annonce_sans_reponse")
    next: str = Field(alias="suite")
    on_failure: str = Field(alias="echec")

    def targets(self) -> dict[str, str]:
        return {"suite": self.next, "echec": self.on_failure}

    def prompts(self) -> dict[str, str]:
        return _present(
            {
                "annonce": self.prompt,
                "annonce_invalide": self.invalid_prompt,
                "annonce_sans_reponse": self.no_input_prompt,
            }
        )


class RoutingNode(_Node):
    type: Literal["routage"]
    open: str = Field(alias="ouvert")
    closed: str = Field(alias="ferme")
    territory_closed: str = Field(alias="territoire_ferme")
    priority: str | None = Field(None, alias="prioritaire")

    def targets(self) -> dict[str, str]:
        return _present(
            {
                "ouvert": self.open,
                "ferme": self.closed,
                "territoire_ferme": self.territory_closed,
                "prioritaire": self.priority,
            }
        )


class CrisisNode(_Node):
    type: Literal["crise"]
    # None: every message that applies to what is known of the caller here; "ligne": whole
    # line and the caller's territory; "territoire": territory only; "branche": the menu
    # branch chosen so far (the ``branche`` variable). See ``routing.crisis``.
    scope: Literal["ligne", "territoire", "branche"] | None = Field(None, alias="portee")
    next: str = Field(alias="suite")

    def targets(self) -> dict[str, str]:
        return {"suite": self.next}


class SetVariableNode(_Node):
    type: Literal["variable"]
    name: str = Field(alias="nom")
    value: str = Field(alias="valeur")
    next: str = Field(alias="suite")

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"nom de variable invalide « {value} »")
        return value

    def targets(self) -> dict[str, str]:
        return {"suite": self.next}


class QueueNode(_Node):
    type: Literal["file"]
    queue: str = Field(alias="file")
    branch: str | None = Field(None, alias="branche")


class ClosedNode(_Node):
    type: Literal["fermeture"]
    prompt: str = Field(alias="annonce")
    # Played before the next opening time, said in the caller's local time.
    reopening_prompt: str | None = Field(None, alias="annonce_reouverture")

    def prompts(self) -> dict[str, str]:
        return _present({"annonce": self.prompt, "annonce_reouverture": self.reopening_prompt})


class HangupNode(_Node):
    type: Literal["raccrocher"]
    prompt: str | None = Field(None, alias="annonce")

    def prompts(self) -> dict[str, str]:
        return _present({"annonce": self.prompt})


FlowNode = Annotated[
    PlayNode
    | MenuNode
    | ReadDigitsNode
    | RoutingNode
    | CrisisNode
    | SetVariableNode
    | QueueNode
    | ClosedNode
    | HangupNode,
    Field(discriminator="type"),
]


class FlowSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    entry: str = Field(alias="entree")
    nodes: dict[str, FlowNode] = Field(alias="noeuds")
