"""Crisis messages on a real database (SQLite and PostgreSQL): changes, versions, the
append-only journal, refusals that change nothing, and the surge's automatic deterrence."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.cli import main
from svi_acd.live import InProcessLiveState
from svi_acd.prompts.crisis import CrisisMessages, MessageRequest, Recording
from svi_acd.prompts.crisis_errors import CrisisError
from svi_acd.prompts.crisis_store import JournalFilter, current_revision, load_snapshot
from svi_acd.prompts.surge import SurgeMonitor
from svi_acd.routing.crisis import Scope
from tests.integration.conftest import NOW

TEXT = "Une panne du réseau touche le site de Nantes. Nos équipes interviennent."


async def journal(crisis: CrisisMessages, **where: object) -> list:
    return await crisis.journal(JournalFilter(**where))  # type: ignore[arg-type]


async def test_creating_an_active_message_publishes_it_and_journals_who_and_what(
    crisis: CrisisMessages,
) -> None:
    request = MessageRequest(
        text=TEXT, scope=Scope("territoires", ("GF", "MQ")), incident="INC-2026-0042",
        end=NOW + timedelta(hours=2), active=True,
    )  # fmt: skip
    change = await crisis.create(request, "superviseur.durand")
    message = change.message
    assert (message.version, message.active, message.content.source) == (1, True, "texte")
    assert change.revision == crisis.live.snapshot().revision == 1
    [live] = crisis.live.snapshot().messages
    assert (live.id, live.sound, live.scope.values) == (
        message.id,
        message.content.sound,
        ("GF", "MQ"),
    )
    assert (await crisis.audio(message.id))[:4] == b"RIFF"
    [entry] = await journal(crisis)
    assert (entry.actor, entry.action, entry.message_id, entry.active) == (
        "superviseur.durand", "creation", message.id, True,
    )  # fmt: skip
    assert entry.content.text == TEXT
    assert entry.content.scope == Scope("territoires", ("GF", "MQ"))
    assert entry.content.incident == "INC-2026-0042"
    assert entry.content.end == NOW + timedelta(hours=2)
    assert entry.at == NOW


async def test_an_update_is_a_new_version_with_a_new_file_and_the_old_one_is_kept(
    crisis: CrisisMessages,
) -> None:
    created = (await crisis.create(MessageRequest(text=TEXT, active=True), "a")).message
    updated = (await crisis.update(created.id, {"text": TEXT + " Merci."}, "b")).message
    assert updated.version == 2
    assert updated.content.sound != created.content.sound
    assert crisis.live.snapshot().messages[0].sound == updated.content.sound
    assert await crisis.audio(created.id, version=1) != await crisis.audio(created.id)
    [modification, creation] = await journal(crisis, message_id=created.id)
    assert (modification.action, modification.actor, modification.detail) == (
        "modification", "b", "texte modifié",
    )  # fmt: skip
    assert creation.content.text == TEXT and modification.content.text == TEXT + " Merci."


async def test_only_the_configured_number_of_versions_stays_on_disk(
    crisis: CrisisMessages,
) -> None:
    message = (await crisis.create(MessageRequest(text="Version 1."), "a")).message
    for version in range(2, 6):
        await crisis.update(message.id, {"text": f"Version {version}."}, "a")
    assert await crisis.files.versions_on_disk(message.id) == [5, 4]
    with pytest.raises(CrisisError) as gone:
        await crisis.audio(message.id, version=1)
    assert gone.value.kind == "introuvable"


async def test_a_change_from_a_stale_version_is_refused_as_a_conflict(
    crisis: CrisisMessages,
) -> None:
    message = (await crisis.create(MessageRequest(text=TEXT), "a")).message
    await crisis.update(message.id, {"label": "Réseau Nantes"}, "a")
    with pytest.raises(CrisisError) as conflict:
        await crisis.update(message.id, {"label": "Autre"}, "b", version=1)
    assert conflict.value.kind == "conflit"
    assert (await crisis.get(message.id)).content.label == "Réseau Nantes"


async def test_switching_twice_journals_once(crisis: CrisisMessages) -> None:
    message = (await crisis.create(MessageRequest(text=TEXT), "a")).message
    first = await crisis.switch(message.id, True, "a")
    again = await crisis.switch(message.id, True, "b")
    assert (first.changed, again.changed) == (True, False)
    off = await crisis.switch(message.id, False, "c", "incident clos")
    assert crisis.live.snapshot().messages == ()
    actions = [(e.action, e.actor, e.detail) for e in await journal(crisis)]
    assert actions == [("desactivation", "c", "incident clos"), ("activation", "a", ""),
                       ("creation", "a", "créé")]  # fmt: skip
    assert off.revision == await current_revision(crisis.engine) == 3


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (MessageRequest(text="   "), "le texte du message est vide"),
        (MessageRequest(text="a" * 1001), "le texte fait 1001 caractères, le maximum est 1000"),
        (MessageRequest(), "donnez le texte du message ou un enregistrement"),
        (MessageRequest(text=TEXT, scope=Scope("branches", ("compta",))),
         "branche(s) inconnue(s) : compta"),
        (MessageRequest(text=TEXT, scope=Scope("territoires", ("XX",))),
         "territoire(s) inconnu(s) : XX"),
        (MessageRequest(text=TEXT, end=NOW - timedelta(minutes=1)), "la fin est déjà passée"),
        (MessageRequest(text=TEXT, start=NOW + timedelta(hours=2), end=NOW + timedelta(hours=1)),
         "la fin doit être après le début"),
        (MessageRequest(recording=Recording(b"<html>pas un son</html>", "message.mp3")),
         "n'est pas un enregistrement audio"),
    ],
)  # fmt: skip
async def test_refused_requests_say_why_in_french_and_change_nothing(
    crisis: CrisisMessages, request_: MessageRequest, expected: str
) -> None:
    with pytest.raises(CrisisError) as refused:
        await crisis.create(request_, "a")
    assert expected in refused.value.message
    assert await crisis.list_all() == []
    assert await journal(crisis) == []
    assert not (crisis.files.folder.host_dir / "crise").exists() or not list(
        (crisis.files.folder.host_dir / "crise").glob("crise-*.wav")
    )


async def test_a_bad_upload_leaves_the_active_message_as_it_was(crisis: CrisisMessages) -> None:
    message = (await crisis.create(MessageRequest(text=TEXT, active=True), "a")).message
    before = crisis.live.snapshot()
    with pytest.raises(CrisisError):
        await crisis.update(message.id, {}, "a", recording=Recording(b"GIF89a....", "photo.gif"))
    assert crisis.live.snapshot() == before
    assert (await crisis.get(message.id)).version == 1
    assert len(await journal(crisis)) == 1


async def test_a_recording_replaces_the_text_and_deterrence_adds_the_portal_pointer(
    crisis: CrisisMessages, tmp_path: Path,
) -> None:  # fmt: skip
    wav = tmp_path / "annonce.wav"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=2", str(wav)],
        check=True,
    )
    message = (await crisis.create(MessageRequest(text=TEXT), "a")).message
    change = await crisis.update(
        message.id,
        {"mode": "dissuasion"},
        "a",
        recording=Recording(wav.read_bytes(), "annonce.wav"),
    )
    content = change.message.content
    assert (content.source, content.recording_name, content.portal_pointer) == (
        "fichier", "annonce.wav", True,
    )  # fmt: skip
    assert content.duration_s > 3  # 2 s of recording, then the portal sentence
    [entry, _] = await journal(crisis)
    assert entry.detail.startswith("nouvel enregistrement (annonce.wav)")
    assert "mode : information → dissuasion" in entry.detail


async def test_the_journal_cannot_be_edited_nor_deleted(
    crisis: CrisisMessages, engine: AsyncEngine
) -> None:
    await crisis.create(MessageRequest(text=TEXT), "a")
    for statement in ("UPDATE crisis_events SET actor = 'x'", "DELETE FROM crisis_events"):
        with pytest.raises(DBAPIError, match="journal des évènements"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))
    [entry] = await journal(crisis)
    assert entry.actor == "a"


async def test_journal_filters(crisis: CrisisMessages) -> None:
    one = (await crisis.create(MessageRequest(text=TEXT, incident="INC-1"), "durand")).message
    two = (await crisis.create(MessageRequest(text=TEXT, incident="INC-2"), "martin")).message
    await crisis.switch(one.id, True, "martin")
    assert [e.message_id for e in await journal(crisis, message_id=two.id)] == [two.id]
    assert [e.action for e in await journal(crisis, actor="martin")] == ["activation", "creation"]
    assert [e.action for e in await journal(crisis, action="activation")] == ["activation"]
    assert {e.message_id for e in await journal(crisis, incident="INC-1")} == {one.id}
    assert await journal(crisis, since=NOW + timedelta(seconds=1)) == []
    assert len(await journal(crisis, until=NOW + timedelta(seconds=1), limit=2)) == 2
    assert await journal(crisis, actor="' OR 1=1 --") == []


async def test_a_restart_finds_the_same_live_state(crisis: CrisisMessages) -> None:
    await crisis.create(MessageRequest(text=TEXT, active=True), "a")
    await crisis.create(MessageRequest(text="Inactif."), "a")
    assert await load_snapshot(crisis.engine) == crisis.live.snapshot()


async def test_a_surge_switches_on_the_deterrence_message_once_as_the_system(
    crisis: CrisisMessages,
) -> None:
    surge_settings = crisis.settings.crisis.surge.model_copy(
        update={"threshold_calls": 3, "window_s": 60, "auto_deterrence": True}
    )
    clock = [1000.0]
    monitor = SurgeMonitor(surge_settings, crisis.live, crisis, now=lambda: clock[0])
    for _ in range(3):
        monitor.note_arrival()
    assert (await monitor.check()).alert is False
    monitor.note_arrival()
    status = await monitor.check()
    assert status.alert and status.auto_message_id is not None
    [message] = crisis.live.snapshot().messages
    assert (message.mode, message.scope) == ("dissuasion", Scope())
    [entry] = await journal(crisis)
    assert (entry.actor, entry.action) == ("système", "creation")
    assert "afflux détecté : 4 appels en 60 s" in entry.detail
    # The supervisor switches it off; a new surge switches the same message on again.
    await crisis.switch(message.id, False, "durand")
    clock[0] += 120
    assert (await monitor.check()).alert is False
    for _ in range(5):
        monitor.note_arrival()
    assert (await monitor.check()).alert is True
    assert [e.action for e in await journal(crisis)] == ["activation", "desactivation", "creation"]
    assert len(await crisis.list_all()) == 1


def test_cli_creates_lists_switches_and_shows_the_journal(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("SVI_ACD_DATA", str(tmp_path / "data"))
    if database_url.startswith("postgresql"):
        pytest.skip("le CLI est exercé sur SQLite ; PostgreSQL est couvert ci-dessus")
    db = ["--db", database_url]
    assert main(["crise", "create", "--texte", TEXT, "--portee", "branches",
                 "--valeurs", "incident,telephonie", "--json", *db]) == 0  # fmt: skip
    created = json.loads(capsys.readouterr().out)
    assert created["portee"] == {"type": "branches", "valeurs": ["incident", "telephonie"]}
    assert main(["crise", "activate", str(created["id"]), *db]) == 0
    assert "activé" in capsys.readouterr().out
    assert main(["crise", "list", "--json", *db]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["statut"] == "diffuse"
    assert main(["crise", "deactivate", str(created["id"]), "--motif", "fin d'incident", *db]) == 0
    capsys.readouterr()
    assert main(["crise", "journal", "--json", *db]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["action"] for e in entries] == ["desactivation", "activation", "creation"]
    assert entries[0]["detail"] == "fin d'incident"
    assert main(["crise", "create", "--texte", " ", *db]) == 2
    assert "le texte du message est vide" in capsys.readouterr().err


async def test_without_redis_another_process_s_change_is_picked_up_at_the_next_re_read(
    crisis: CrisisMessages, engine: AsyncEngine
) -> None:
    # The CLI is another process on the same database: here, a second service object.
    cli_live = InProcessLiveState(300)
    cli = CrisisMessages(crisis.settings, engine, cli_live, crisis.files, crisis.clock)
    change = await cli.create(MessageRequest(text=TEXT, active=True), "root")
    assert crisis.live.snapshot().messages == ()
    assert await crisis.refresh() is True
    assert [m.id for m in crisis.live.snapshot().messages] == [change.message.id]
    assert await crisis.refresh() is False
