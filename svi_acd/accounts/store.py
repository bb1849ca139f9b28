"""Accounts, browser sessions, API tokens and login throttling, on SQLite or PostgreSQL.

Secrets handed out (session ids, API tokens) are random (``secrets``) and kept only as their
SHA-256 digest. Every instant is written in UTC (SQLite hands back naive values).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from svi_acd.accounts.passwords import PasswordRefused, Passwords, check_password_rules
from svi_acd.accounts.roles import ROLES, Account, Role
from svi_acd.accounts.sessions import WebSession
from svi_acd.accounts.tables import AccountRow, ApiTokenRow, LoginAttemptRow, WebSessionRow
from svi_acd.clock import Clock, system_clock

LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
TOKEN_PREFIX = "sviacd_"
ATTEMPTS_KEPT = timedelta(days=30)  # login attempts: throttling, and who tried what lately
ErrorKind = Literal["invalide", "introuvable", "conflit"]


class AccountError(Exception):
    """A request about accounts that cannot be done, with the French sentence that says why."""

    def __init__(self, message: str, kind: ErrorKind = "invalide", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.field = field


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)  # closed after this long without a request
    absolute: timedelta = timedelta(hours=12)  # closed this long after login, whatever happens
    touch_every: timedelta = timedelta(minutes=1)  # last-seen written at most this often


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 5  # per login and per address, within the window
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginOutcome:
    account: Account | None
    throttled: bool = False
    retry_after: timedelta = timedelta(0)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def normalize_login(login: str) -> str:
    cleaned = login.strip().lower()
    if not LOGIN_PATTERN.fullmatch(cleaned):
        raise AccountError(
            f"identifiant invalide « {login[:64]} » : 2 à 64 caractères parmi les lettres "
            "minuscules sans accent, les chiffres, le point, le tiret et le tiret bas.",
            field="identifiant",
        )
    return cleaned


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise AccountError(
            f"rôle inconnu « {role[:32]} » (valeurs : {', '.join(ROLES)}).", field="role"
        )
    return role  # type: ignore[return-value]


def clean_display_name(name: str | None, login: str) -> str:
    text = " ".join((name or "").split())
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise AccountError("le nom affiché contient des caractères de contrôle.", field="nom")
    if len(text) > 200:
        raise AccountError("le nom affiché ne doit pas dépasser 200 caractères.", field="nom")
    return text or login


def _account(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        login=row.login,
        display_name=row.display_name,
        role=check_role(row.role),
        active=row.active,
        created_at=utc(row.created_at),
        last_login_at=utc(row.last_login_at) if row.last_login_at else None,
    )


class AccountStore:
    def __init__(
        self,
        engine: AsyncEngine,
        passwords: Passwords | None = None,
        clock: Clock = system_clock,
        sessions: SessionPolicy = SessionPolicy(),
        throttle: ThrottlePolicy = ThrottlePolicy(),
    ) -> None:
        self.engine = engine
        self.passwords = passwords or Passwords()
        self.clock = clock
        self.sessions = sessions
        self.throttle = throttle

    def now(self) -> datetime:
        return utc(self.clock())

    # -- accounts ------------------------------------------------------------------------

    async def create(
        self, login: str, role: str, password: str, display_name: str | None = None
    ) -> Account:
        login = normalize_login(login)
        role = check_role(role)
        name = clean_display_name(display_name, login)
        self._check_password(password)
        password_hash = await self.passwords.hash(password)
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    insert(AccountRow).values(
                        login=login,
                        display_name=name,
                        role=role,
                        active=True,
                        password_hash=password_hash,
                        created_at=self.now(),
                    )
                )
        except IntegrityError as exc:
            raise AccountError(
                f"le compte « {login} » existe déjà.", "conflit", "identifiant"
            ) from exc
        account = await self.get(login)
        assert account is not None
        return account

    @staticmethod
    def _check_password(password: str) -> None:
        try:
            check_password_rules(password)
        except PasswordRefused as exc:
            raise AccountError(str(exc), field="mot_de_passe") from exc

    async def _row(self, login: str) -> AccountRow | None:
        query = select(AccountRow).where(AccountRow.login == login.strip().lower())
        async with AsyncSession(self.engine) as session:
            return (await session.execute(query)).scalars().one_or_none()

    async def get(self, login: str) -> Account | None:
        row = await self._row(login)
        return _account(row) if row is not None else None

    async def require(self, login: str) -> Account:
        account = await self.get(login)
        if account is None:
            raise AccountError(f"aucun compte « {login[:64]} ».", "introuvable", "identifiant")
        return account

    async def list_accounts(self) -> list[Account]:
        query = select(AccountRow).order_by(AccountRow.login)
        async with AsyncSession(self.engine) as session:
            rows = (await session.execute(query)).scalars().all()
        return [_account(row) for row in rows]

    async def _change(self, login: str, **values: object) -> Account:
        account = await self.require(login)
        async with self.engine.begin() as connection:
            await connection.execute(
                update(AccountRow).where(AccountRow.id == account.id).values(**values)
            )
            if values.get("active") is False or "password_hash" in values:
                # A disabled account or a changed password ends every open session.
                await connection.execute(
                    delete(WebSessionRow).where(WebSessionRow.account_id == account.id)
                )
        return await self.require(login)

    async def change_password(self, login: str, password: str) -> Account:
        self._check_password(password)
        return await self._change(login, password_hash=await self.passwords.hash(password))

    async def change_role(self, login: str, role: str) -> Account:
        return await self._change(login, role=check_role(role))

    async def set_active(self, login: str, active: bool) -> Account:
        return await self._change(login, active=active)

    # -- login and throttling ------------------------------------------------------------

    async def _blocked_until(self, login: str, address: str, now: datetime) -> datetime | None:
        """When attempts for this login or from this address are allowed again, if refused now."""
        since = now - self.throttle.window
        last_success = (
            select(func.max(LoginAttemptRow.at))
            .where(LoginAttemptRow.login == login, LoginAttemptRow.succeeded.is_(True))
            .scalar_subquery()
        )
        failed = (LoginAttemptRow.succeeded.is_(False), LoginAttemptRow.at >= since)
        by_login = select(LoginAttemptRow.at).where(
            LoginAttemptRow.login == login,
            *failed,
            (LoginAttemptRow.at > last_success) | last_success.is_(None),
        )
        by_address = select(LoginAttemptRow.at).where(LoginAttemptRow.address == address, *failed)
        async with self.engine.connect() as connection:
            login_times = sorted(utc(at) for at in (await connection.execute(by_login)).scalars())
            address_times = sorted(
                utc(at) for at in (await connection.execute(by_address)).scalars()
            )
        limit = self.throttle.max_failures
        # Allowed again when the failure that reached the limit leaves the window.
        ends = [
            times[-limit] + self.throttle.window
            for times in (login_times, address_times)
            if len(times) >= limit
        ]
        return max(ends, default=None)

    async def authenticate(self, login: str, password: str, address: str) -> LoginOutcome:
        """Check a login form; refuse without checking after too many recent failures."""
        typed = login.strip().lower()[:64]
        address = address[:64]
        now = self.now()
        blocked_until = await self._blocked_until(typed, address, now)
        if blocked_until is not None:
            return LoginOutcome(None, True, blocked_until - now)
        row = await self._row(typed)
        verdict = await self.passwords.verify(row.password_hash if row else None, password)
        succeeded = verdict.valid and row is not None and row.active
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(LoginAttemptRow).values(
                    at=now, login=typed, address=address, succeeded=succeeded
                )
            )
            if succeeded and row is not None:
                values: dict[str, object] = {"last_login_at": now}
                if verdict.new_hash:
                    values["password_hash"] = verdict.new_hash
                await connection.execute(
                    update(AccountRow).where(AccountRow.id == row.id).values(**values)
                )
        if not succeeded:
            return LoginOutcome(None)
        return LoginOutcome(await self.get(typed))

    # -- browser sessions ----------------------------------------------------------------

    async def open_session(self, account: Account) -> tuple[str, WebSession]:
        """A new session (new random id: never one the browser brought) and its cookie value."""
        cookie = secrets.token_urlsafe(32)
        now = self.now()
        session = WebSession(cookie, account.id, secrets.token_urlsafe(32), now, now)
        async with self.engine.begin() as connection:
            # Housekeeping at each login: expired sessions, attempts too old to count.
            await connection.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
            await connection.execute(
                delete(LoginAttemptRow).where(LoginAttemptRow.at < now - ATTEMPTS_KEPT)
            )
            await connection.execute(
                insert(WebSessionRow).values(
                    id_hash=digest(cookie),
                    account_id=account.id,
                    csrf_token=session.csrf_token,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + self.sessions.absolute,
                )
            )
        return cookie, session

    async def session_account(self, cookie: str) -> tuple[Account, WebSession] | None:
        """The account behind a session cookie, or None when unknown, expired or disabled."""
        if not cookie or len(cookie) > 100:
            return None
        key = digest(cookie)
        query = (
            select(WebSessionRow, AccountRow)
            .join(AccountRow, AccountRow.id == WebSessionRow.account_id)
            .where(WebSessionRow.id_hash == key)
        )
        async with AsyncSession(self.engine) as db:
            found = (await db.execute(query)).one_or_none()
        if found is None:
            return None
        row, account_row = found
        now = self.now()
        last_seen = utc(row.last_seen_at)
        if (
            now >= utc(row.expires_at)
            or now - last_seen >= self.sessions.idle
            or not account_row.active
        ):
            await self.close_session(cookie)
            return None
        if now - last_seen >= self.sessions.touch_every:
            async with self.engine.begin() as connection:
                await connection.execute(
                    update(WebSessionRow)
                    .where(WebSessionRow.id_hash == key)
                    .values(last_seen_at=now)
                )
            last_seen = now
        session = WebSession(cookie, row.account_id, row.csrf_token, utc(row.created_at), last_seen)
        return _account(account_row), session

    async def close_session(self, cookie: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                delete(WebSessionRow).where(WebSessionRow.id_hash == digest(cookie))
            )

    # -- API tokens ----------------------------------------------------------------------

    async def create_token(self, login: str, name: str) -> str:
        """A new API token for ``login``: returned once, only its digest is kept."""
        account = await self.require(login)
        name = " ".join(name.split())
        if not name or len(name) > 100:
            raise AccountError("nom du jeton : 1 à 100 caractères.", field="nom")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(ApiTokenRow).values(
                    account_id=account.id,
                    name=name,
                    token_hash=digest(token),
                    created_at=self.now(),
                )
            )
        return token

    async def token_account(self, token: str) -> Account | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        key = digest(token)
        query = (
            select(AccountRow, ApiTokenRow.last_used_at)
            .join(ApiTokenRow, ApiTokenRow.account_id == AccountRow.id)
            .where(ApiTokenRow.token_hash == key)
        )
        async with AsyncSession(self.engine) as session:
            found = (await session.execute(query)).one_or_none()
        if found is None:
            return None
        row, last_used = found
        if not row.active:
            return None
        now = self.now()
        if last_used is None or now - utc(last_used) >= self.sessions.touch_every:
            async with self.engine.begin() as connection:
                await connection.execute(
                    update(ApiTokenRow).where(ApiTokenRow.token_hash == key)
                    .values(last_used_at=now)
                )  # fmt: skip
        return _account(row)
