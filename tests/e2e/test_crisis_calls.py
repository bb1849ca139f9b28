"""Crisis messages end to end: a supervisor changes them through the JSON API while real SIPp
callers go through a real Asterisk to the real service.

What a caller heard is read from the service's AGI trace (the ``STREAM FILE`` commands and
Asterisk's replies, whose ``endpos`` says how far playback went) and from Asterisk's queue_log.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from lab.runner import Lab, LabState
from lab.sipp import SippProcess
from svi_acd.config.model import Settings
from svi_acd.service import CallRecord, RunningService, ServiceOptions, start_service
from tests.accounts.helpers import account_with_token, bearer
from tests.e2e.calls import (
    OPEN,
    SettableClock,
    crisis_sound,
    events,
    journal_until,
    no_missing_sound_warnings,
    place_call,
    played,
    record_for,
    sound_of,
)
from tests.servers import RedisServer, redis_server

pytestmark = pytest.mark.e2e

# About 3 s of speech: a key pressed 1 s after the answer lands inside it.
INFORMATION = "Un incident touche la messagerie. Nos équipes sont mobilisées."
DETERRENCE = "Incident majeur en cours. Merci de consulter le portail d'assistance."


async def start(
    settings: Settings, tmp_path: Path, *, agi_port: int | None = None,
    redis_url: str | None = None, database: str = "svi.sqlite3",
) -> RunningService:  # fmt: skip
    options = ServiceOptions(
        f"sqlite:///{tmp_path / database}", clock=SettableClock(OPEN), agi_port=agi_port,
        web_port=0, redis_url=redis_url,
    )  # fmt: skip
    return await start_service(settings, options)


@pytest.fixture
async def service(flow_settings: Settings, tmp_path: Path) -> AsyncIterator[RunningService]:
    running = await start(flow_settings, tmp_path)
    try:
        yield running
    finally:
        await running.stop()


async def supervisor(service: RunningService) -> dict[str, str]:
    """Headers of a supervisor's API calls: an API token on the service's own database."""
    return bearer(await account_with_token(service.engine, "superviseur"))


def api(service: RunningService) -> str:
    assert service.web is not None
    return f"{service.web.url}/api/crise"


async def call(
    service: RunningService, lab_state: LabState, tmp_path: Path, caller: str, digits: str = "1"
) -> CallRecord:
    service.recent_calls.clear()
    sipp = await place_call(lab_state, tmp_path, caller, digits)
    record = await record_for(service, caller, timeout_s=30)
    assert (await sipp).failed == 0
    return record


async def test_api_message_heard_by_next_caller_bad_upload_ignored_deactivation_restores_menu(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], service: RunningService,
    tmp_path: Path,
) -> None:  # fmt: skip
    async with aiohttp.ClientSession(headers=await supervisor(service)) as http:
        created = await http.post(
            f"{api(service)}/messages", json={"texte": INFORMATION, "actif": True}
        )
        assert created.status == 201
        message = (await created.json())["message"]
        sound = crisis_sound(service, message["id"])

        # The next caller hears the message; the 1 they press during it answers the menu.
        first = await call(service, lab_state, tmp_path, "0140000201")
        [(heard, reply), *_] = played(first)
        assert heard == sound and "endpos=" in reply
        assert first.result is not None and first.result.variables["branche"] == "incident"
        assert f'SET VARIABLE SVI_CRISE "crise-{message["id"]}"' in first.commands("SET VARIABLE")
        journal = await journal_until(lab, first.uniqueid, "CONNECT")
        assert events(journal)[:3] == ["SVI_CALL", "SVI_BRANCH", "ENTERQUEUE"]

        # A file that is not audio is refused; callers keep hearing the same message.
        form = aiohttp.FormData()
        form.add_field("fichier", b"%PDF-1.7 compte rendu", filename="compte-rendu.mp3")
        refused = await http.patch(f"{api(service)}/messages/{message['id']}", data=form)
        assert refused.status == 422
        assert "n'est pas un enregistrement audio" in (await refused.json())["erreur"]
        second = await call(service, lab_state, tmp_path, "0140000202")
        assert played(second)[0][0] == sound

        # Deactivated: the next caller goes straight to the menu.
        off = await http.post(f"{api(service)}/messages/{message['id']}/desactiver")
        assert (await off.json())["modifie"] is True
        third = await call(service, lab_state, tmp_path, "0140000203")
        assert [heard for heard, _ in played(third)] == [sound_of(service, "accueil")]
        assert not any("SVI_CRISE" in c for c in third.commands("SET VARIABLE"))
    assert no_missing_sound_warnings(lab) == []


async def test_deterrence_message_is_played_then_the_caller_is_hung_up_and_counted_deterred(
    lab: Lab, lab_state: LabState, service: RunningService, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession(headers=await supervisor(service)) as http:
        created = await http.post(
            f"{api(service)}/messages",
            json={"texte": DETERRENCE, "mode": "dissuasion", "actif": True},
        )
        message = (await created.json())["message"]
    started = time.monotonic()
    record = await call(service, lab_state, tmp_path, "0140000204", digits="")
    assert time.monotonic() - started < 25  # hung up by the service, not by the caller
    assert played(record) == [(crisis_sound(service, message["id"]), played(record)[0][1])]
    assert record.commands("STREAM FILE")[0].endswith(' ""')  # not interruptible
    assert record.result is not None and record.result.action == "hangup"
    journal = await journal_until(lab, record.uniqueid, "SVI_DETERRED")
    assert ("SVI_DETERRED", (f"crise-{message['id']}",)) in journal
    assert "ENTERQUEUE" not in events(journal)


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


async def test_with_two_instances_on_one_redis_a_change_made_on_either_reaches_the_other(
    lab: Lab, lab_state: LabState, agents: list[SippProcess],
    flow_settings: Settings, redis: RedisServer, tmp_path: Path,
) -> None:  # fmt: skip
    # A takes the lab's calls; B is a second instance whose FastAGI port the lab does not use.
    a = await start(flow_settings, tmp_path, redis_url=redis.url, database="shared.sqlite3")
    b = await start(flow_settings, tmp_path, agi_port=0, redis_url=redis.url,
                    database="shared.sqlite3")  # fmt: skip
    try:
        assert a.crisis and b.crisis
        async with aiohttp.ClientSession(headers=await supervisor(a)) as http:
            # Made on B, heard on a real call handled by A.
            created = await http.post(
                f"{api(b)}/messages", json={"texte": INFORMATION, "actif": True}
            )
            body = await created.json()
            await a.crisis.live.wait_for_revision(body["revision"], 1.0)
            record = await call(a, lab_state, tmp_path, "0140000205")
            assert played(record)[0][0] == crisis_sound(a, body["message"]["id"])
            assert crisis_sound(a, body["message"]["id"]) == crisis_sound(b, body["message"]["id"])

            # Made on A, seen by B's flow (its crisis source reads B's local snapshot).
            off = await http.post(f"{api(a)}/messages/{body['message']['id']}/desactiver")
            revision = (await off.json())["revision"]
            await b.crisis.live.wait_for_revision(revision, 1.0)
            assert b.crisis.source.current("ligne", "FR", None, OPEN) == ()
            state = await (await http.get(f"{b.web.url}/api/etat")).json()  # type: ignore[union-attr]
            assert state["etat_partage"]["moteur"] == "redis"
            assert state["etat_partage"]["etat"] == "normal"
    finally:
        await b.stop()
        await a.stop()
