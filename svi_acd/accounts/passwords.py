"""Password rules and argon2 hashing, off the event loop (a hash takes tens of milliseconds)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 takes any length; a bound keeps a huge form field from costing CPU


class PasswordRefused(ValueError):
    """A password the rules refuse, with the French sentence that says why."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"le mot de passe doit compter au moins {MIN_LENGTH} caractères.")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"le mot de passe ne doit pas dépasser {MAX_LENGTH} caractères.")
    if password.strip() != password:
        raise PasswordRefused("le mot de passe ne doit ni commencer ni finir par une espace.")


@dataclass(frozen=True)
class Verdict:
    valid: bool
    new_hash: str | None = None  # set when the stored hash used older parameters


class Passwords:
    """argon2id with the library's current parameters; tests may pass cheaper ones."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        # Verified when the login is unknown, so that the answer takes the same time.
        self._decoy = self.hasher.hash("mot de passe factice, jamais attribué")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    def _verify(self, stored: str | None, password: str) -> Verdict:
        try:
            self.hasher.verify(stored or self._decoy, password[:MAX_LENGTH])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verdict(False)
        if stored is None:
            return Verdict(False)
        if self.hasher.check_needs_rehash(stored):
            return Verdict(True, self.hasher.hash(password))
        return Verdict(True)

    async def verify(self, stored: str | None, password: str) -> Verdict:
        """``stored`` None: no such account (the decoy is checked all the same)."""
        return await asyncio.to_thread(self._verify, stored, password)
