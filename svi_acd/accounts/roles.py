"""Permissions, roles and what each may do: the one table every route is checked against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

# What a route may require; each role below is a set of these.
Permission = Literal[
    "crise:lecture",  # crisis messages, journal, surge alert
    "crise:ecriture",  # create, change, activate, remove crisis messages
    "supervision:lecture",  # wallboard, agents, queues, service state
    "supervision:ecriture",  # agents (login, pause), overflow switches, caller priority
    "statistiques:lecture",  # reports, exports
    "annuaire:lecture",  # VIP directory
    "annuaire:ecriture",  # VIP import and edits
    "comptes:gestion",  # user accounts
    "configuration:lecture",  # configuration view
]
ALL_PERMISSIONS: frozenset[Permission] = frozenset(get_args(Permission))

Role = Literal["consultation", "superviseur", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)

ROLE_LABELS: dict[Role, str] = {
    "consultation": "Consultation (statistiques)",
    "superviseur": "Superviseur",
    "admin": "Administrateur",
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    "consultation": frozenset({"statistiques:lecture"}),
    "superviseur": frozenset(
        {
            "crise:lecture",
            "crise:ecriture",
            "supervision:lecture",
            "supervision:ecriture",
            "statistiques:lecture",
            "annuaire:lecture",
        }
    ),
    "admin": ALL_PERMISSIONS,
}


def is_role(value: str) -> bool:
    return value in ROLES


@dataclass(frozen=True)
class Account:
    """A local account as the web layer sees it (never its password hash)."""

    id: int
    login: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions
