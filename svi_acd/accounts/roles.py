"""Roles and what each may do: the one table the web layer checks permissions against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from svi_acd.web.security import ALL_PERMISSIONS, Permission

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
