"""What the audit journal says about an account change, for the page « Comptes » and
``svi-acd user`` alike. Never a password nor a token: a password change is written as a fact,
a token by the name it was given."""

from __future__ import annotations

from svi_acd.accounts.roles import Account
from svi_acd.audit.store import Change


def account_created(account: Account) -> Change:
    return Change("comptes", "creation_compte", account.login,
                  f"rôle {account.role}, nom « {account.display_name} »")  # fmt: skip


def password_changed(login: str) -> Change:
    return Change("comptes", "mot_de_passe", login, "mot de passe changé ; sessions fermées")


def role_changed(login: str, before: str | None, after: str) -> Change:
    return Change("comptes", "changement_role", login,
                  f"{before} → {after}" if before and before != after else after)  # fmt: skip


def activity_switched(login: str, active: bool) -> Change:
    if active:
        return Change("comptes", "reactivation_compte", login)
    return Change("comptes", "desactivation_compte", login, "sessions fermées")


def token_created(login: str, name: str) -> Change:
    return Change("comptes", "creation_jeton", login, f"jeton d'API « {name} »")
