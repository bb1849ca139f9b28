"""A small local fake of the Matrix42 API routes the connector uses (127.0.0.1 only).

- ``POST /m42Services/api/ApiToken/GenerateAccessTokenFromApiToken/`` with the API token as
  Bearer answers ``{"RawToken": …, "ValidTo": …}``;
- ``GET /m42Services/api/data/fragments/{ddname}`` with the access token as Bearer answers a
  JSON list of rows, filtered by ``where`` (``Col >= '…' AND Col < '…'``), with ``columns``,
  ``pagesize`` and ``pagenumber`` (from 0).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

API = "/m42Services/api"
WHERE = re.compile(r"^(\w+) >= '([^']+)' AND \1 < '([^']+)'$")


@dataclass
class FakeMatrix42:
    api_token: str
    rows: list[dict[str, Any]]
    data_definition: str = "SPSActivityClassBase"
    exchanges: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)

    def expire_tokens(self) -> None:
        self.valid.clear()

    async def token(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_token}":
            return web.json_response(None)  # Matrix42 answers null to a bad API token
        self.exchanges += 1
        token = f"access-{self.exchanges}"
        self.valid.add(token)
        valid_to = datetime.now(UTC) + timedelta(hours=1)
        return web.json_response({"RawToken": token, "ValidTo": valid_to.isoformat()})

    async def fragments(self, request: web.Request) -> web.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.valid:
            return web.Response(status=401)
        if request.match_info["ddname"] != self.data_definition:
            return web.Response(status=404)
        self.requests.append(dict(request.query))
        match = WHERE.match(request.query.get("where", ""))
        if match is None:
            return web.Response(status=400, text="where")
        column, low, high = match.groups()
        chosen = [row for row in self.rows if low <= row[column][:19] < high]
        size, number = int(request.query["pagesize"]), int(request.query["pagenumber"])
        names = request.query["columns"].split(",")
        page = chosen[number * size : (number + 1) * size]
        return web.json_response([{name: row.get(name) for name in names} for row in page])


@asynccontextmanager
async def serve(fake: FakeMatrix42) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post(f"{API}/ApiToken/GenerateAccessTokenFromApiToken/", fake.token)
    app.router.add_get(f"{API}/data/fragments/{{ddname}}", fake.fragments)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
