"""Tickets from the ITSM: the Matrix42 connector against a local fake, and CSV exports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.csv_imports import parse_history_csv, parse_ticket_csv
from svi_acd.stats.itsm import ItsmError, Matrix42TicketSource, sync_tickets, tickets_per_month
from tests.stats.fake_matrix42 import FakeMatrix42, serve

OCTOBER = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))


def fake_rows(count: int) -> list[dict[str, str]]:
    rows = [{"TicketNumber": f"T{n}", "CreatedDate": f"2026-10-{1 + n % 28:02d}T08:00:00Z",
             "ParentTicket": "P1" if n % 2 else ""} for n in range(count)]  # fmt: skip
    rows.append({"TicketNumber": "TSEP", "CreatedDate": "2026-09-30T22:30:00Z"})
    return rows


async def test_matrix42_tickets_are_read_page_by_page_with_one_token_exchange() -> None:
    fake = FakeMatrix42("api-secret", fake_rows(7))
    async with serve(fake) as url:
        source = Matrix42TicketSource(url + "/m42Services/", "api-secret", page_size=3,
                                      parent_column="ParentTicket")  # fmt: skip
        tickets = await source.tickets_opened(*OCTOBER)
    assert sorted(t.number for t in tickets) == [f"T{n}" for n in range(7)]
    assert [r["pagenumber"] for r in fake.requests] == ["0", "1", "2"]
    assert fake.requests[0]["columns"] == "TicketNumber,CreatedDate,ParentTicket"
    assert fake.exchanges == 1
    assert {t.parent for t in tickets} == {"P1", None}


async def test_an_expired_access_token_is_exchanged_again() -> None:
    fake = FakeMatrix42("api-secret", fake_rows(4))
    async with serve(fake) as url:
        source = Matrix42TicketSource(url, "api-secret", page_size=10)
        assert len(await source.tickets_opened(*OCTOBER)) == 4
        fake.expire_tokens()
        assert len(await source.tickets_opened(*OCTOBER)) == 4
    assert fake.exchanges == 2


async def test_a_wrong_api_token_is_a_clear_french_error() -> None:
    fake = FakeMatrix42("api-secret", fake_rows(2))
    async with serve(fake) as url:
        with pytest.raises(ItsmError, match="jeton d'API"):
            await Matrix42TicketSource(url, "wrong").tickets_opened(*OCTOBER)


async def test_synced_tickets_count_per_paris_month(engine: AsyncEngine) -> None:
    fake = FakeMatrix42("api-secret", fake_rows(5))
    async with serve(fake) as url:
        wide = (datetime(2026, 9, 1, tzinfo=UTC), OCTOBER[1])
        source = Matrix42TicketSource(url, "api-secret")
        assert await sync_tickets(engine, source, *wide, "matrix42") == 6
        assert await sync_tickets(engine, source, *wide, "matrix42") == 6  # replaced, not doubled
    # 2026-09-30T22:30Z is already 1 October in Paris.
    assert await tickets_per_month(engine) == {"2026-10": 6}


def test_ticket_export_csv_with_french_headers_and_dates() -> None:
    data = ("Numéro;Date de création;Ticket parent\nT1;14/10/2026 09:12;P1\n"
            "T2;2026-10-15T08:00:00Z;\nT3;hier;\n;14/10/2026;\n").encode("cp1252")  # fmt: skip
    parsed = parse_ticket_csv(data)
    assert [(t.number, t.month, t.parent) for t in parsed.items] == [
        ("T1", "2026-10", "P1"), ("T2", "2026-10", None)]  # fmt: skip
    assert parsed.errors == ["ligne 4 : date de création invalide « hier »",
                             "ligne 5 : numéro de ticket vide"]  # fmt: skip


def test_ticket_export_without_a_date_column_is_refused() -> None:
    parsed = parse_ticket_csv(b"numero;titre\nT1;Imprimante\n")
    assert parsed.errors and "absente" in parsed.errors[0] and not parsed.items


def test_history_csv_is_the_reference_table_format() -> None:
    data = (
        b"month,calls_presented,calls_served,tickets_opened\n"
        b"2024-01,2047,1929,2230\n2024-13,1,1,1\n"
    )
    parsed = parse_history_csv(data)
    assert [(m.month, m.presented, m.served, m.tickets_opened) for m in parsed.items] == [
        ("2024-01", 2047, 1929, 2230)]  # fmt: skip
    assert parsed.errors == ["ligne 3 : mois invalide « 2024-13 » (AAAA-MM)"]
