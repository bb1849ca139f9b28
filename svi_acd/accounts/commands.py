"""``svi-acd user …``: local accounts of the web pages and the API, from the command line.

``user add LOGIN --role R [--name "…"] [--password-stdin]`` (asks the password twice
otherwise), ``user list [--json]``, ``user passwd LOGIN``, ``user disable LOGIN``,
``user enable LOGIN``, ``user role LOGIN R``, ``user token LOGIN --name N`` (prints the token
once: only its digest is kept). Every change is written to the audit journal in the name of
``cli:<compte Unix>`` (never the password nor the token).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.accounts.audit import (
    account_created,
    activity_switched,
    password_changed,
    role_changed,
    token_created,
)
from svi_acd.accounts.passwords import PasswordRefused, check_password_rules
from svi_acd.accounts.roles import ROLE_LABELS, ROLES, Account
from svi_acd.accounts.store import AccountError, AccountStore
from svi_acd.audit.store import Change, record_change
from svi_acd.cli_options import (
    add_config_option,
    add_db_option,
    cli_actor,
    database_url,
    run_on_database,
    settings_from,
)

T = TypeVar("T")
ROLES_HELP = "rôle : " + ", ".join(ROLES)


class InputRefused(Exception):
    """The password could not be read or was refused: exit code 2."""


def register(subparsers: argparse._SubParsersAction, help_text: str) -> None:
    user = subparsers.add_parser("user", help=help_text)
    actions = user.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="créer un compte")
    add.add_argument("login", metavar="IDENTIFIANT")
    add.add_argument("--role", required=True, metavar="ROLE", help=ROLES_HELP)
    add.add_argument("--name", metavar="NOM", help="nom affiché (défaut : l'identifiant)")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="lire le mot de passe sur l'entrée standard (une ligne) au lieu de le demander",
    )
    add.set_defaults(handler=add_command)

    show = actions.add_parser("list", help="lister les comptes")
    show.add_argument("--json", action="store_true", help="sortie JSON")
    show.set_defaults(handler=list_command)

    passwd = actions.add_parser("passwd", help="changer le mot de passe d'un compte")
    passwd.add_argument("login", metavar="IDENTIFIANT")
    passwd.add_argument("--password-stdin", action="store_true",
                        help="lire le mot de passe sur l'entrée standard")  # fmt: skip
    passwd.set_defaults(handler=passwd_command)

    disable = actions.add_parser("disable", help="désactiver un compte (ferme ses sessions)")
    disable.add_argument("login", metavar="IDENTIFIANT")
    disable.set_defaults(handler=lambda args: switch_command(args, False))

    enable = actions.add_parser("enable", help="réactiver un compte")
    enable.add_argument("login", metavar="IDENTIFIANT")
    enable.set_defaults(handler=lambda args: switch_command(args, True))

    role = actions.add_parser("role", help="changer le rôle d'un compte")
    role.add_argument("login", metavar="IDENTIFIANT")
    role.add_argument("role", metavar="ROLE", help=ROLES_HELP)
    role.set_defaults(handler=role_command)

    token = actions.add_parser("token", help="créer un jeton d'API (affiché une seule fois)")
    token.add_argument("login", metavar="IDENTIFIANT")
    token.add_argument("--name", required=True, metavar="NOM", help="à quoi sert le jeton")
    token.set_defaults(handler=token_command)

    for parser in (add, show, passwd, disable, enable, role, token):
        add_config_option(parser)
        add_db_option(parser)


def _on_accounts(args: argparse.Namespace, work: Callable[[AccountStore], Awaitable[T]]) -> T:
    async def run(engine: AsyncEngine) -> T:
        return await work(AccountStore(engine))

    return run_on_database(database_url(args, settings_from(args)), run)


def _journaled(
    args: argparse.Namespace, work: Callable[[AccountStore], Awaitable[tuple[T, Change]]]
) -> T:
    """Make a change, then write it to the audit journal; the change's result."""

    async def run(engine: AsyncEngine) -> T:
        result, change = await work(AccountStore(engine))
        await record_change(engine, cli_actor(), change)
        return result

    return run_on_database(database_url(args, settings_from(args)), run)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise InputRefused(
                "pas de terminal pour demander le mot de passe : utilisez --password-stdin."
            )
        password = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Mot de passe (confirmation) : ") != password:
            raise InputRefused("les deux mots de passe saisis diffèrent.")
    try:
        check_password_rules(password)
    except PasswordRefused as exc:
        raise InputRefused(str(exc)) from exc
    return password


def _refused(message: str) -> int:
    print(f"Erreur : {message}", file=sys.stderr)
    return 2


def _guarded(action: Callable[[], int]) -> int:
    try:
        return action()
    except (AccountError, InputRefused) as exc:
        return _refused(str(exc))


def add_command(args: argparse.Namespace) -> int:
    def run() -> int:
        password = read_password(args.password_stdin)

        async def create(store: AccountStore) -> tuple[Account, Change]:
            account = await store.create(args.login, args.role, password, args.name)
            return account, account_created(account)

        account = _journaled(args, create)
        print(f"Compte « {account.login} » créé ({ROLE_LABELS[account.role]}).")
        return 0

    return _guarded(run)


def _account_json(account: Account) -> dict[str, object]:
    return {
        "identifiant": account.login,
        "nom": account.display_name,
        "role": account.role,
        "actif": account.active,
        "cree_le": account.created_at.isoformat(),
        "derniere_connexion": account.last_login_at.isoformat() if account.last_login_at else None,
    }


def list_command(args: argparse.Namespace) -> int:
    accounts = _on_accounts(args, lambda store: store.list_accounts())
    if args.json:
        print(json.dumps([_account_json(a) for a in accounts], ensure_ascii=False, indent=2))
        return 0
    if not accounts:
        print("Aucun compte. Créez-en un : svi-acd user add IDENTIFIANT --role admin")
        return 0
    for a in accounts:
        state = "actif" if a.active else "désactivé"
        last = f"{a.last_login_at:%d/%m/%Y %H:%M} UTC" if a.last_login_at else "jamais"
        print(f"{a.login:<24} {a.role:<13} {state:<10} {a.display_name} (connexion : {last})")
    print(f"{len(accounts)} compte(s).")
    return 0


def passwd_command(args: argparse.Namespace) -> int:
    def run() -> int:
        password = read_password(args.password_stdin)

        async def change(store: AccountStore) -> tuple[Account, Change]:
            account = await store.change_password(args.login, password)
            return account, password_changed(account.login)

        _journaled(args, change)
        print(f"Mot de passe de « {args.login} » changé ; ses sessions ouvertes sont fermées.")
        return 0

    return _guarded(run)


def switch_command(args: argparse.Namespace, active: bool) -> int:
    def run() -> int:
        async def switch(store: AccountStore) -> tuple[Account, Change]:
            account = await store.set_active(args.login, active)
            return account, activity_switched(account.login, active)

        _journaled(args, switch)
        print(f"Compte « {args.login} » {'réactivé' if active else 'désactivé'}.")
        return 0

    return _guarded(run)


def role_command(args: argparse.Namespace) -> int:
    def run() -> int:
        async def change(store: AccountStore) -> tuple[Account, Change]:
            before = await store.get(args.login)
            account = await store.change_role(args.login, args.role)
            return account, role_changed(
                account.login, before.role if before else None, account.role
            )

        account = _journaled(args, change)
        print(f"Compte « {account.login} » : rôle {ROLE_LABELS[account.role]}.")
        return 0

    return _guarded(run)


def token_command(args: argparse.Namespace) -> int:
    def run() -> int:
        async def create(store: AccountStore) -> tuple[str, Change]:
            account = await store.require(args.login)
            token = await store.create_token(account.login, args.name)
            return token, token_created(account.login, " ".join(args.name.split()))

        token = _journaled(args, create)
        print(token)
        print(
            "Jeton affiché une seule fois : conservez-le (en-tête « Authorization: Bearer … »).",
            file=sys.stderr,
        )
        return 0

    return _guarded(run)
