"""The ACD's JSON API over a desk fed by a scripted AMI: shapes, actions, errors, roles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from svi_acd.acd.desk import Desk
from svi_acd.config.model import Settings
from svi_acd.db.base import create_engine
from svi_acd.db.migrate import upgrade
from svi_acd.live import InProcessLiveState
from svi_acd.prompts.catalog import SoundFolder
from svi_acd.prompts.crisis import CrisisMessages
from svi_acd.prompts.crisis_files import CrisisSoundFiles
from svi_acd.prompts.crisis_store import load_snapshot
from svi_acd.web.app import WebResources, create_app
from tests.accounts.helpers import account_with_token, bearer, fast_store
from tests.integration.conftest import SettableClock
from tests.unit.fake_acd import started_desk
from tests.unit.fake_ami import FakeAmi


@asynccontextmanager
async def client_for(
    settings: Settings, tmp_path: Path, desk: Desk | None, role: str
) -> AsyncIterator[TestClient]:
    engine = create_engine(f"sqlite:///{tmp_path / f'{role}.sqlite3'}")
    await upgrade(engine)
    token = await account_with_token(engine, role)

    @asynccontextmanager
    async def open_resources() -> AsyncIterator[WebResources]:
        live = InProcessLiveState(300)
        await live.start(await load_snapshot(engine))
        files = CrisisSoundFiles(SoundFolder(tmp_path / "sons", "/sons"), 3)
        crisis = CrisisMessages(settings, engine, live, files, SettableClock())
        yield WebResources(crisis, None, engine=engine, acd=desk, accounts=fast_store(engine))

    app = create_app(settings, open_resources)
    try:
        async with TestClient(TestServer(app, host="127.0.0.1"), headers=bearer(token)) as client:
            yield client
    finally:
        await engine.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    yield server
    await server.stop()


async def test_snapshot_agents_and_queues(
    fake: FakeAmi, settings: Settings, tmp_path: Path
) -> None:
    desk = await started_desk(fake, settings, ["agent1", "agent2"], [("c1", 1, 42)])
    async with client_for(settings, tmp_path, desk, "superviseur") as client:
        whole = await (await client.get("/api/acd")).json()
        assert whole["ami_connectee"] is True
        [queue] = whole["files"]
        assert (queue["file"], queue["en_attente"], queue["agents_libres"]) == ("support", 1, 2)
        [caller] = queue["appelants"]
        assert caller["numero"] == "••••••0000", "numéros masqués par défaut"
        assert caller["attente_s"] == pytest.approx(42, abs=1)
        agents = await (await client.get("/api/agents")).json()
        assert [a["etat"] for a in agents["agents"]] == ["libre", "libre"]
        full = await (await client.get("/api/files", params={"numeros": "complets"})).json()
        assert full["files"][0]["appelants"][0]["numero"] == "0140000000"
    await desk.ami.close()


async def test_agent_actions_reach_asterisk_and_name_the_user(
    fake: FakeAmi, settings: Settings, tmp_path: Path
) -> None:
    desk = await started_desk(fake, settings, ["agent1"])
    async with client_for(settings, tmp_path, desk, "superviseur") as client:
        paused = await client.post("/api/agents/PJSIP/agent1/pause", json={"motif": "ticket"})
        assert paused.status == 200, await paused.text()
        assert (await paused.json())["par"] == "superviseur.test"
        sent = await fake.wait_action("QueuePause")
        assert (sent["Interface"], sent["Reason"]) == ("PJSIP/agent1", "ticket")
        bad = await client.post("/api/agents/PJSIP/agent1/pause", json={"motif": "<script>"})
        assert bad.status == 422 and "motif" in (await bad.json())["erreur"]
        unknown = await client.post("/api/agents/PJSIP/agent1/danse")
        assert unknown.status == 404 and "action inconnue" in (await unknown.json())["erreur"]
        rules = await (await client.get("/api/debordement")).json()
        name = rules["regles"][0]["nom"]
        off = await client.patch(f"/api/debordement/{name}", json={"actif": False})
        assert off.status == 200 and desk.switches[name] is False
        missing = await client.patch("/api/files/support/appelants/absent", json={"priorite": 5})
        assert missing.status == 404
    await desk.ami.close()


async def test_consultation_role_cannot_see_or_drive_agents(
    fake: FakeAmi, settings: Settings, tmp_path: Path
) -> None:
    desk = await started_desk(fake, settings, ["agent1"])
    async with client_for(settings, tmp_path, desk, "consultation") as client:
        assert (await client.get("/api/acd")).status == 403
        refused = await client.post("/api/agents/PJSIP/agent1/pause", json={"motif": "ticket"})
        assert refused.status == 403
    assert fake.actions("QueuePause") == []
    await desk.ami.close()


async def test_without_ami_the_acd_api_says_so(settings: Settings, tmp_path: Path) -> None:
    async with client_for(settings, tmp_path, None, "superviseur") as client:
        answer = await client.get("/api/acd")
        assert answer.status == 503
        assert "AMI" in (await answer.json())["erreur"]
