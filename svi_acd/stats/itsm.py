"""Tickets opened in the ITSM: the connector interface, Matrix42, and the CSV-export fallback.

Matrix42 (public API, base path ``/m42Services/api/``): the API token is exchanged for a
short-lived access token with ``POST ApiToken/GenerateAccessTokenFromApiToken/`` (API token as
Bearer; the answer carries ``RawToken`` and its expiry ``ValidTo``), and the access token
authenticates ``GET data/fragments/{ddname}?columns=…&where=…&pagesize=…&pagenumber=…``, which
answers a JSON list of rows. Tickets are read from the data definition ``SPSActivityClassBase``
(columns ``TicketNumber`` and ``CreatedDate``); names are parameters, as installations differ.

``matrix42_source`` builds the connector from the configuration's ``itsm`` section (address,
names; the token is read from the environment variable the section names, never from the
file) or from a command-line address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.config.model import ItsmSettings
from svi_acd.stats.outcome import PARIS
from svi_acd.stats.tables import StatsTicket

if TYPE_CHECKING:  # aiohttp is loaded by the connector only (0.15 s at every command)
    import aiohttp

TOKEN_PATH = "/m42Services/api/ApiToken/GenerateAccessTokenFromApiToken/"
FRAGMENTS_PATH = "/m42Services/api/data/fragments/"
DEFAULT_TOKEN_ENV = "SVI_ACD_MATRIX42_TOKEN"


@dataclass(frozen=True, slots=True)
class Ticket:
    number: str
    opened_at: datetime  # timezone-aware
    parent: str | None = None

    @property
    def month(self) -> str:
        local = self.opened_at.astimezone(PARIS)
        return f"{local.year}-{local.month:02d}"


class TicketSource(Protocol):
    """Where tickets come from (an ITSM connector)."""

    async def tickets_opened(self, start: datetime, end: datetime) -> list[Ticket]:
        """Tickets opened in [start, end)."""
        ...


class ItsmError(RuntimeError):
    """The ITSM could not be read; the message is French and says what to check."""


class ItsmSettingsError(ValueError):
    """No address or no token to reach the ITSM; the message is French and says what to do."""


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; without offset it is taken as UTC (Matrix42 stores UTC)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Matrix42TicketSource:
    """Matrix42 connector (async HTTP), with token exchange and renewal."""

    def __init__(
        self,
        base_url: str,
        api_token: str,
        *,
        data_definition: str = "SPSActivityClassBase",
        number_column: str = "TicketNumber",
        created_column: str = "CreatedDate",
        parent_column: str | None = None,
        page_size: int = 500,
        timeout_s: float = 30,
    ) -> None:
        base = base_url.rstrip("/")
        if base.lower().endswith("/m42services"):
            base = base[: -len("/m42services")]
        self.base_url, self.api_token = base, api_token
        self.data_definition, self.page_size = data_definition, page_size
        self.columns = (number_column, created_column, parent_column)
        self.timeout_s = timeout_s
        self._access: tuple[str, datetime] | None = None

    async def _exchange(self, session: aiohttp.ClientSession) -> str:
        headers = {"Authorization": f"Bearer {self.api_token}", "Accept": "application/json"}
        async with session.post(self.base_url + TOKEN_PATH, headers=headers, json={}) as reply:
            body = await reply.json(content_type=None) if reply.status == 200 else None
        if not isinstance(body, dict) or not body.get("RawToken"):
            raise ItsmError(
                "Matrix42 a refusé le jeton d'API : vérifiez le jeton (Administration > "
                "Intégration > Jetons d'API) et l'adresse du serveur."
            )
        try:
            valid_to = parse_instant(str(body["ValidTo"]))
        except (KeyError, ValueError):
            valid_to = datetime.now(UTC) + timedelta(minutes=5)
        self._access = (str(body["RawToken"]), valid_to)
        return self._access[0]

    async def _token(self, session: aiohttp.ClientSession) -> str:
        if self._access and self._access[1] - timedelta(seconds=60) > datetime.now(UTC):
            return self._access[0]
        return await self._exchange(session)

    async def _page(
        self, session: aiohttp.ClientSession, params: dict[str, str]
    ) -> list[dict[str, Any]]:
        url = self.base_url + FRAGMENTS_PATH + self.data_definition
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {await self._token(session)}"}
            async with session.get(url, params=params, headers=headers) as reply:
                if reply.status == 401 and attempt == 1:
                    self._access = None  # expired or revoked: exchange again, once
                    continue
                if reply.status != 200:
                    raise ItsmError(f"Matrix42 a répondu {reply.status} à la lecture des tickets.")
                body = await reply.json(content_type=None)
            if not isinstance(body, list):
                raise ItsmError("réponse inattendue de Matrix42 (liste de tickets attendue)")
            return body
        raise ItsmError("Matrix42 refuse le jeton d'accès renouvelé.")

    def _ticket(self, row: dict[str, Any]) -> Ticket | None:
        number_column, created_column, parent_column = self.columns
        number, created = row.get(number_column), row.get(created_column)
        if not number or not created:
            return None
        parent = row.get(parent_column) if parent_column else None
        return Ticket(str(number), parse_instant(str(created)), str(parent) if parent else None)

    async def tickets_opened(self, start: datetime, end: datetime) -> list[Ticket]:
        _number_column, created_column, _parent_column = self.columns
        columns = ",".join(name for name in self.columns if name)
        where = f"{created_column} >= '{_asql(start)}' AND {created_column} < '{_asql(end)}'"
        tickets: list[Ticket] = []
        import aiohttp  # here only: see the import at the top

        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for number in range(10_000):  # a hard stop if the server ignored paging
                params = {"columns": columns, "where": where, "pagesize": str(self.page_size),
                          "pagenumber": str(number)}  # fmt: skip
                try:
                    rows = await self._page(session, params)
                except aiohttp.ClientError as exc:
                    raise ItsmError(f"Matrix42 injoignable ({exc.__class__.__name__}).") from exc
                tickets.extend(t for t in map(self._ticket, rows) if t is not None)
                if len(rows) < self.page_size:
                    break
        return tickets


def matrix42_source(
    settings: ItsmSettings | None, url: str | None, environ: Mapping[str, str]
) -> Matrix42TicketSource:
    """The Matrix42 connector: address from ``url`` (command line) or ``settings.url``, API
    token from the environment variable ``settings.token_env`` ($SVI_ACD_MATRIX42_TOKEN
    without an ``itsm`` section)."""
    address = url or (settings.url if settings is not None else None)
    if not address:
        raise ItsmSettingsError(
            "aucune adresse Matrix42 : indiquez --url (ou $SVI_ACD_MATRIX42_URL), ou "
            "configurez la section itsm (url)"
        )
    variable = settings.token_env if settings is not None else DEFAULT_TOKEN_ENV
    token = environ.get(variable, "").strip()
    if not token:
        origin = " (nommée par itsm.jeton_env)" if settings is not None else ""
        raise ItsmSettingsError(
            f"la variable d'environnement {variable}{origin} est vide : mettez-y le jeton "
            "d'API de Matrix42 (Administration > Intégration > Jetons d'API) avant de lancer "
            "la commande"
        )
    if settings is None:
        return Matrix42TicketSource(address, token)
    return Matrix42TicketSource(
        address,
        token,
        data_definition=settings.data_definition,
        number_column=settings.number_column,
        created_column=settings.created_column,
        parent_column=settings.parent_column,
        page_size=settings.page_size,
        timeout_s=settings.timeout_s,
    )


def _asql(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


async def store_tickets(engine: AsyncEngine, tickets: Sequence[Ticket], source: str) -> int:
    """Insert or replace tickets by number; returns how many were stored."""
    unique = {ticket.number: ticket for ticket in tickets}
    rows = [
        {"number": t.number[:64], "opened_at": t.opened_at, "month": t.month,
         "parent": (t.parent or None) and t.parent[:64], "source": source[:20]}
        for t in unique.values()
    ]  # fmt: skip
    async with engine.begin() as connection:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            numbers = [row["number"] for row in chunk]
            await connection.execute(delete(StatsTicket).where(StatsTicket.number.in_(numbers)))
            await connection.execute(insert(StatsTicket), chunk)
    return len(rows)


async def tickets_per_month(engine: AsyncEngine) -> dict[str, int]:
    query = select(StatsTicket.month, func.count(StatsTicket.number)).group_by(StatsTicket.month)
    async with engine.connect() as connection:
        return {month: int(count) for month, count in await connection.execute(query)}


async def sync_tickets(
    engine: AsyncEngine, source: TicketSource, start: datetime, end: datetime, label: str
) -> int:
    """Copy the tickets opened in [start, end) from an ITSM into the statistics."""
    return await store_tickets(engine, await source.tickets_opened(start, end), label)
