"""The account store on SQLite and PostgreSQL: accounts, passwords, sessions, tokens, throttling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.accounts.passwords import Passwords
from svi_acd.accounts.store import AccountError, AccountStore, digest
from svi_acd.accounts.tables import AccountRow, ApiTokenRow, WebSessionRow
from tests.accounts.conftest import StepClock
from tests.accounts.helpers import cheap_hasher

PASSWORD = "correct horse battery"


async def test_an_account_is_created_listed_and_found_by_login(store: AccountStore) -> None:
    created = await store.create("Marie.Durand", "superviseur", PASSWORD, "Marie Durand")
    assert (created.login, created.display_name, created.role, created.active) == (
        "marie.durand", "Marie Durand", "superviseur", True,
    )  # fmt: skip
    assert created.may("crise:ecriture") and not created.may("comptes:gestion")
    assert [a.login for a in await store.list_accounts()] == ["marie.durand"]
    assert await store.get(" MARIE.DURAND ") == created


async def test_the_password_is_stored_only_as_an_argon2_hash(
    store: AccountStore, engine: AsyncEngine
) -> None:
    await store.create("paul", "consultation", PASSWORD)
    async with engine.connect() as connection:
        stored = (await connection.execute(select(AccountRow.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("login", "role", "password", "field"),
    [
        ("é", "admin", PASSWORD, "identifiant"),
        ("a b", "admin", PASSWORD, "identifiant"),
        ("paul", "chef", PASSWORD, "role"),
        ("paul", "admin", "court", "mot_de_passe"),
    ],
)
async def test_bad_input_is_refused_in_french(
    store: AccountStore, login: str, role: str, password: str, field: str
) -> None:
    with pytest.raises(AccountError) as refused:
        await store.create(login, role, password)
    assert refused.value.field == field and refused.value.kind == "invalide"


async def test_a_login_is_unique(store: AccountStore) -> None:
    await store.create("paul", "admin", PASSWORD)
    with pytest.raises(AccountError, match="existe déjà") as refused:
        await store.create("PAUL", "consultation", PASSWORD)
    assert refused.value.kind == "conflit"


async def test_login_succeeds_only_with_the_right_password_of_an_active_account(
    store: AccountStore, clock: StepClock
) -> None:
    await store.create("paul", "admin", PASSWORD)
    assert (await store.authenticate("paul", "mauvais mot de passe", "10.0.0.1")).account is None
    assert (await store.authenticate("inconnu", PASSWORD, "10.0.0.1")).account is None
    good = await store.authenticate("Paul", PASSWORD, "10.0.0.1")
    assert good.account is not None and good.account.last_login_at == clock.moment
    await store.set_active("paul", False)
    assert (await store.authenticate("paul", PASSWORD, "10.0.0.1")).account is None


async def test_five_failures_for_one_login_block_it_for_fifteen_minutes(
    store: AccountStore, clock: StepClock
) -> None:
    await store.create("paul", "admin", PASSWORD)
    for attempt in range(5):
        clock.advance(seconds=10)
        outcome = await store.authenticate("paul", f"essai {attempt}", f"10.0.0.{attempt}")
        assert not outcome.throttled
    clock.advance(seconds=10)
    blocked = await store.authenticate("paul", PASSWORD, "10.0.0.99")
    assert blocked.throttled and blocked.account is None
    assert timedelta(minutes=14) < blocked.retry_after <= timedelta(minutes=15)
    clock.advance(minutes=15)
    assert (await store.authenticate("paul", PASSWORD, "10.0.0.99")).account is not None


async def test_five_failures_from_one_address_block_it_whatever_the_login(
    store: AccountStore,
) -> None:
    await store.create("paul", "admin", PASSWORD)
    for attempt in range(5):
        await store.authenticate(f"inconnu{attempt}", PASSWORD, "10.0.0.7")
    assert (await store.authenticate("paul", PASSWORD, "10.0.0.7")).throttled
    assert (await store.authenticate("paul", PASSWORD, "10.0.0.8")).account is not None


async def test_an_unknown_login_is_throttled_like_a_known_one(store: AccountStore) -> None:
    for attempt in range(5):
        await store.authenticate("personne", "x", f"10.0.1.{attempt}")
    assert (await store.authenticate("personne", "x", "10.0.1.50")).throttled


async def test_a_success_resets_the_count_for_that_login(
    store: AccountStore, clock: StepClock
) -> None:
    await store.create("paul", "admin", PASSWORD)
    for attempt in range(4):
        clock.advance(seconds=1)
        await store.authenticate("paul", "faux", f"10.0.2.{attempt}")
    clock.advance(seconds=1)
    assert (await store.authenticate("paul", PASSWORD, "10.0.2.200")).account is not None
    for attempt in range(4):
        clock.advance(seconds=1)
        await store.authenticate("paul", "faux", f"10.0.3.{attempt}")
    clock.advance(seconds=1)
    assert not (await store.authenticate("paul", PASSWORD, "10.0.3.200")).throttled


async def test_a_hash_with_old_parameters_is_replaced_at_login(
    engine: AsyncEngine, clock: StepClock
) -> None:
    old = AccountStore(engine, Passwords(cheap_hasher()), clock)
    await old.create("paul", "admin", PASSWORD)
    stronger = AccountStore(
        engine, Passwords(type(cheap_hasher())(time_cost=2, memory_cost=2048, parallelism=1)), clock
    )
    assert (await stronger.authenticate("paul", PASSWORD, "10.0.0.1")).account is not None
    async with engine.connect() as connection:
        stored = (await connection.execute(select(AccountRow.password_hash))).scalar_one()
    assert "m=2048,t=2" in stored
    assert (await stronger.authenticate("paul", PASSWORD, "10.0.0.1")).account is not None


async def test_a_session_is_random_stored_hashed_and_closed_at_logout(
    store: AccountStore, engine: AsyncEngine
) -> None:
    account = await store.create("paul", "admin", PASSWORD)
    cookie, session = await store.open_session(account)
    other, _ = await store.open_session(account)
    assert cookie != other and len(cookie) >= 40 and len(session.csrf_token) >= 40
    async with engine.connect() as connection:
        keys = set((await connection.execute(select(WebSessionRow.id_hash))).scalars())
    assert keys == {digest(cookie), digest(other)}
    found = await store.session_account(cookie)
    assert found is not None and found[0] == account and found[1].csrf_token == session.csrf_token
    await store.close_session(cookie)
    assert await store.session_account(cookie) is None
    assert await store.session_account(other) is not None
    assert await store.session_account("cookie-invente") is None


async def test_a_session_expires_when_idle_and_after_its_absolute_lifetime(
    store: AccountStore, clock: StepClock
) -> None:
    account = await store.create("paul", "admin", PASSWORD)
    idle, _ = await store.open_session(account)
    clock.advance(minutes=29)
    assert await store.session_account(idle) is not None
    clock.advance(minutes=30, seconds=1)
    assert await store.session_account(idle) is None
    busy, _ = await store.open_session(account)
    for _ in range(24):  # a request every 29 minutes for 11 h 36
        clock.advance(minutes=29)
        assert await store.session_account(busy) is not None
    clock.advance(minutes=29)
    assert await store.session_account(busy) is None  # 12 h after login


async def test_disabling_an_account_or_changing_its_password_ends_its_sessions(
    store: AccountStore,
) -> None:
    account = await store.create("paul", "admin", PASSWORD)
    cookie, _ = await store.open_session(account)
    await store.change_password("paul", PASSWORD + " bis")
    assert await store.session_account(cookie) is None
    assert (await store.authenticate("paul", PASSWORD + " bis", "10.0.0.1")).account is not None
    cookie, _ = await store.open_session(account)
    await store.set_active("paul", False)
    assert await store.session_account(cookie) is None


async def test_an_api_token_is_shown_once_and_stored_hashed(
    store: AccountStore, engine: AsyncEngine, clock: StepClock
) -> None:
    await store.create("paul", "superviseur", PASSWORD)
    token = await store.create_token("paul", "script de bascule")
    assert token.startswith("sviacd_")
    account = await store.token_account(token)
    assert account is not None and account.login == "paul"
    async with engine.connect() as connection:
        row = (await connection.execute(select(ApiTokenRow))).one()
    assert row.token_hash == digest(token) and row.name == "script de bascule"
    assert row.last_used_at is not None
    assert await store.token_account(token[:-1] + "x") is None
    assert await store.token_account("n'importe quoi") is None
    await store.set_active("paul", False)
    assert await store.token_account(token) is None


async def test_role_change_and_unknown_accounts(store: AccountStore) -> None:
    await store.create("paul", "consultation", PASSWORD)
    assert (await store.change_role("paul", "admin")).role == "admin"
    with pytest.raises(AccountError) as missing:
        await store.change_role("pierre", "admin")
    assert missing.value.kind == "introuvable"
    with pytest.raises(AccountError):
        await store.create_token("pierre", "jeton")
