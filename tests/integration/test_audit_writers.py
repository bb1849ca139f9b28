"""Every change made from the command line or the ACD lands in the audit journal with who made
it (SQLite and PostgreSQL), and never a password, a token or a caller's full number."""

from __future__ import annotations

import asyncio
import getpass
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.acd.audit_trail import DeskAuditTrail
from svi_acd.audit.store import AuditEntry, AuditFilter, read_audit
from svi_acd.cli import main
from svi_acd.config.model import Settings
from tests.unit.fake_acd import NOW, join, queue_status, started_desk, until
from tests.unit.fake_ami import FakeAmi

PASSWORD = "un mot de passe assez long"
NEW_PASSWORD = "un autre mot de passe encore"
CLI_ACTOR = f"cli:{getpass.getuser()}"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    yield server
    await server.stop()


def run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(argv))


async def audit(engine: AsyncEngine, **where: object) -> list[AuditEntry]:
    return list(reversed(await read_audit(engine, AuditFilter(**where))))  # type: ignore[arg-type]


async def every_stored_text(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM audit_events"))).all()
    return " ".join(str(value) for row in rows for value in row)


async def test_user_commands_are_journaled_without_password_nor_token(
    engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    db = ("--db", database_url)

    def cli(*argv: str, stdin: str = "") -> int:
        return run(monkeypatch, *argv, *db, stdin=stdin)

    assert await asyncio.to_thread(cli, "user", "add", "Marie.Durand", "--role", "superviseur",
                                   "--name", "Marie Durand", "--password-stdin",
                                   stdin=PASSWORD + "\n") == 0  # fmt: skip
    assert await asyncio.to_thread(cli, "user", "passwd", "marie.durand", "--password-stdin",
                                   stdin=NEW_PASSWORD + "\n") == 0  # fmt: skip
    assert await asyncio.to_thread(cli, "user", "role", "marie.durand", "admin") == 0
    assert await asyncio.to_thread(cli, "user", "disable", "marie.durand") == 0
    assert await asyncio.to_thread(cli, "user", "enable", "marie.durand") == 0
    capsys.readouterr()
    assert await asyncio.to_thread(cli, "user", "token", "marie.durand", "--name",
                                   "  tableau   mural ") == 0  # fmt: skip
    token = capsys.readouterr().out.strip()
    assert token.startswith("sviacd_")
    rows = await audit(engine)
    assert [(r.actor, r.domain, r.action, r.subject, r.detail) for r in rows] == [
        (CLI_ACTOR, "comptes", "creation_compte", "marie.durand",
         "rôle superviseur, nom « Marie Durand »"),
        (CLI_ACTOR, "comptes", "mot_de_passe", "marie.durand",
         "mot de passe changé ; sessions fermées"),
        (CLI_ACTOR, "comptes", "changement_role", "marie.durand", "superviseur → admin"),
        (CLI_ACTOR, "comptes", "desactivation_compte", "marie.durand", "sessions fermées"),
        (CLI_ACTOR, "comptes", "reactivation_compte", "marie.durand", ""),
        (CLI_ACTOR, "comptes", "creation_jeton", "marie.durand", "jeton d'API « tableau mural »"),
    ]  # fmt: skip
    stored = await every_stored_text(engine)
    for secret in (PASSWORD, NEW_PASSWORD, token, token.removeprefix("sviacd_")):
        assert secret not in stored


async def test_a_refused_user_command_journals_nothing(
    engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = await asyncio.to_thread(run, monkeypatch, "user", "add", "paul", "--role", "chef",
                                   "--password-stdin", "--db", database_url,
                                   stdin=PASSWORD + "\n")  # fmt: skip
    assert code == 2
    assert await audit(engine) == []


async def test_a_vip_import_from_the_command_line_is_journaled(
    engine: AsyncEngine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_file = tmp_path / "annuaire.csv"
    csv_file.write_text("numero;nom;entite;site;niveau;debut;fin\n"
                        "0612345678;Dupont;DG;Paris;VIP;;\n"
                        "0145678912;Compta;DAF;Nantes;P0;01/12/2026;31/12/2026\n")  # fmt: skip
    code = await asyncio.to_thread(run, monkeypatch, "vip", "import", str(csv_file),
                                   "--db", database_url)  # fmt: skip
    assert code == 0
    [row] = await audit(engine)
    assert (row.actor, row.domain, row.action, row.subject) == (
        CLI_ACTOR, "annuaire", "import", "annuaire.csv")  # fmt: skip
    assert row.detail == "annuaire remplacé : 2 entrée(s) (1 VIP, 1 P0)"


async def test_a_desk_action_is_journaled_with_the_supervisor_without_waiting_for_the_database(
    fake: FakeAmi, settings: Settings, engine: AsyncEngine
) -> None:
    desk = await started_desk(fake, settings, ["agent1"])
    trail = DeskAuditTrail.on(engine)
    desk.on_journal = trail
    await desk.pause("PJSIP/agent1", "formation", "marie")
    await desk.switch_overflow_rule(settings.overflow[0].name, False, "paul")
    await fake.send(join("1800000000.42", 1, number="0612345678"))
    await until(desk, lambda: "1800000000.42" in desk.board.callers)
    await desk.change_priority("1800000000.42", 10, "marie")
    await trail.flush()
    await desk.ami.close()
    rows = await audit(engine, domains=("acd",))
    assert [(r.actor, r.action, r.subject, r.detail) for r in rows] == [
        ("marie", "pause_agent", "PJSIP/agent1", "formation"),
        ("paul", "regle_debordement", settings.overflow[0].name, "desactivee"),
        ("marie", "priorite_appelant", "1800000000.42", "10"),
    ]
    assert rows[0].at.timestamp() == NOW
    assert "0612345678" not in await every_stored_text(engine)
    assert trail.recorder.failures == 0


async def test_a_failing_journal_does_not_fail_the_desk_action(
    fake: FakeAmi, settings: Settings, tmp_path: Path
) -> None:
    from svi_acd.db.base import create_engine

    unmigrated = create_engine(f"sqlite:///{tmp_path / 'sans-schema.sqlite3'}")
    desk = await started_desk(fake, settings, ["agent1"])
    trail = DeskAuditTrail.on(unmigrated)
    desk.on_journal = trail
    await desk.unpause("PJSIP/agent1", "marie")  # done on Asterisk, whatever the journal says
    assert (await fake.wait_action("QueuePause"))["Paused"] == "false"
    await trail.flush()
    assert trail.recorder.failures == 1
    await desk.ami.close()
    await unmigrated.dispose()


async def test_the_acd_command_line_journals_its_actions(
    fake: FakeAmi, settings: Settings, engine: AsyncEngine, database_url: str,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    fake.on("QueueStatus", queue_status(["agent1"], []))
    port = await fake.start()
    ami = settings.service.ami.model_copy(update={"port": port})
    service = settings.service.model_copy(update={"ami": ami})
    config = tmp_path / "svi.yaml"
    dumped = settings.model_copy(update={"service": service}).model_dump(mode="json", by_alias=True)
    config.write_text(yaml.safe_dump(dumped, allow_unicode=True))  # fmt: skip
    monkeypatch.setenv("SVI_ACD_AMI_USER", "svi")
    monkeypatch.setenv("SVI_ACD_AMI_SECRET", "secret")
    argv = ["acd", "pause", "PJSIP/agent1", "--motif", "ticket", "--config", str(config),
            "--db", database_url]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 0
    captured = capsys.readouterr()
    assert (captured.out.strip(), captured.err) == ("PJSIP/agent1 en pause", "")
    [row] = await audit(engine)
    assert (row.actor, row.domain, row.action, row.subject, row.detail) == (
        CLI_ACTOR, "acd", "pause_agent", "PJSIP/agent1", "ticket")  # fmt: skip


async def test_the_running_service_s_desk_writes_to_the_audit_journal(
    fake: FakeAmi, settings: Settings, tmp_path: Path
) -> None:
    from svi_acd.asterisk.link import AmiCredentials
    from svi_acd.prompts.catalog import SoundFolder
    from svi_acd.service import ServiceOptions, start_service

    fake.on("QueueStatus", queue_status(["agent1"], []))
    ami = settings.service.ami.model_copy(update={"port": await fake.start()})
    settings = settings.model_copy(
        update={"service": settings.service.model_copy(update={"ami": ami})}
    )
    options = ServiceOptions(
        database_url=f"sqlite:///{tmp_path / 'service.sqlite3'}",
        sound_folder=SoundFolder(tmp_path / "sons", str(tmp_path / "sons")),
        agi_port=0, web_port=-1, ami_credentials=AmiCredentials("svi", "secret"),
    )  # fmt: skip
    service = await start_service(settings, options)
    try:
        desk = service.desk
        assert desk is not None and isinstance(desk.on_journal, DeskAuditTrail)
        await until(desk, lambda: desk.board.connected)
        await desk.login("PJSIP/agent2", "marie", name="Agent 2")
        await desk.on_journal.flush()
        [row] = await audit(service.engine)
        assert (row.actor, row.domain, row.action, row.subject) == (
            "marie", "acd", "connexion_agent", "PJSIP/agent2")  # fmt: skip
    finally:
        await service.stop()
