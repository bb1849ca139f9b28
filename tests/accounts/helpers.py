"""Helpers for tests that need accounts: cheap hashing, and an account with an API token."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.accounts.passwords import Passwords
from svi_acd.accounts.store import AccountStore

PASSWORDS = {
    "consultation": "consultation-mot-de-passe",
    "superviseur": "superviseur-mot-de-passe",
    "admin": "administrateur-mot-de-passe",
}


def cheap_hasher() -> PasswordHasher:
    """Fast enough for tests; the service uses the library's defaults."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def fast_store(engine: AsyncEngine) -> AccountStore:
    return AccountStore(engine, Passwords(cheap_hasher()))


async def account_with_token(
    engine: AsyncEngine, role: str = "superviseur", login: str | None = None
) -> str:
    """Create an account with that role (password ``PASSWORDS[role]``) and return an API
    token for it: send it as ``Authorization: Bearer <token>``."""
    store = fast_store(engine)
    login = login or f"{role}.test"
    if await store.get(login) is None:
        await store.create(login, role, PASSWORDS[role])
    return await store.create_token(login, "tests")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
