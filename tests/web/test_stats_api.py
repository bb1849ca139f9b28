"""GET /api/statistiques and /api/statistiques/mensuel: the command line's JSON contract over
HTTP, French JSON errors, and the statistics permission."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from svi_acd.cli import main
from svi_acd.config.model import Settings
from tests.web.stats_app import StatsClient, stats_client

DAY = {"du": "2026-10-14", "au": "2026-10-14"}


@pytest.fixture
async def client(settings: Settings, tmp_path: Path) -> AsyncIterator[StatsClient]:
    async with stats_client(settings, tmp_path) as test_client:
        yield test_client


async def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    """What ``svi-acd …`` prints (run in a thread: the command has its own event loop)."""
    capsys.readouterr()
    assert await asyncio.to_thread(main, list(argv)) == 0
    return json.loads(capsys.readouterr().out)


async def api_json(client: StatsClient, path: str, **params: str) -> tuple[int, dict]:
    status, text, headers = await client.get(path, **params)
    assert headers["Content-Type"].startswith("application/json")
    return status, json.loads(text)


@pytest.mark.parametrize(
    "by", ["hour", "day", "week", "month", "queue", "agent", "territory", "ticket"]
)
async def test_the_api_answers_exactly_what_the_command_prints(
    client: StatsClient, tmp_path: Path, capsys: pytest.CaptureFixture[str], by: str
) -> None:
    status, answer = await api_json(client, "/api/statistiques", **DAY, par=by)
    assert status == 200
    database = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    printed = await cli_json(capsys, "stats", "report", "--from", DAY["du"], "--to", DAY["au"],
                             "--by", by, "--format", "json", "--db", database)  # fmt: skip
    assert answer == printed
    assert set(answer) >= {"definitions", "rows", "totals"}


async def test_the_day_report_carries_the_contract_fields(client: StatsClient) -> None:
    _, answer = await api_json(client, "/api/statistiques", **DAY, par="day")
    (row,) = answer["rows"]
    assert row["period"] == "2026-10-14"
    assert (row["presented"], row["answered"], row["abandoned"], row["short_abandoned"],
            row["timeout"]) == (13, 6, 1, 2, 2)  # fmt: skip
    assert row["answer_rate"] == pytest.approx(6 / 13)
    assert answer["definitions"]["answer_rate"]["numerator"] == "answered"
    assert answer["definitions"]["answer_rate"]["denominator"] == "presented"


async def test_the_monthly_table_is_the_command_s(
    client: StatsClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, answer = await api_json(client, "/api/statistiques/mensuel")
    assert status == 200
    database = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    printed = await cli_json(capsys, "stats", "monthly", "--format", "json", "--db", database)
    assert answer == printed
    assert [row["month"] for row in answer["rows"]] == ["2026-08", "2026-09", "2026-10"]
    _, narrowed = await api_json(client, "/api/statistiques/mensuel", du="2026-09", au="2026-09")
    assert [(r["month"], r["presented"]) for r in narrowed["rows"]] == [("2026-09", 1000)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"au": "2026-10-14", "par": "day"}, "requête invalide — du : champ obligatoire"),
        ({**DAY, "par": "annee"}, "par : valeur non permise"),
        ({"du": "14/10/2026", "au": "2026-10-14", "par": "day"},
         "du : date invalide « 14/10/2026 » (format AAAA-MM-JJ)"),
        ({"du": "2026-10-15", "au": "2026-10-14", "par": "day"},
         "« du » doit précéder ou égaler « au »"),
        ({"du": "2026-10-14' OR 1=1 --", "au": "2026-10-14", "par": "day"}, "date invalide"),
        ({**DAY, "par": "day; DROP TABLE stats_calls"}, "par : valeur non permise"),
        ({**DAY, "par": "day", "tri": "x"}, "tri : champ inconnu"),
    ],
)  # fmt: skip
async def test_bad_queries_get_a_french_json_error(
    client: StatsClient, params: dict[str, str], message: str
) -> None:
    status, answer = await api_json(client, "/api/statistiques", **params)
    assert status == 422
    assert message in answer["erreur"]
    assert answer["champs"]
    _, still = await api_json(client, "/api/statistiques", **DAY, par="day")
    assert still["totals"]["presented"] == 13


async def test_a_bad_month_is_a_french_json_error(client: StatsClient) -> None:
    status, answer = await api_json(client, "/api/statistiques/mensuel", du="2026-13")
    assert status == 422
    assert "mois invalide « 2026-13 » (format AAAA-MM)" in answer["erreur"]


async def test_without_a_token_the_api_answers_401_in_json(client: StatsClient) -> None:
    response = await client.client.get("/api/statistiques", params={**DAY, "par": "day"})
    assert response.status == 401
    assert "erreur" in await response.json()
