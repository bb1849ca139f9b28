"""``svi-acd user …`` as an administrator uses it (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.accounts.store import AccountStore
from svi_acd.cli import main
from svi_acd.cli_options import run_on_database

PASSWORD = "un mot de passe assez long"


@pytest.fixture
def db(engine: AsyncEngine, database_url: str) -> str:
    """A fresh, migrated database (SQLite or PostgreSQL); returns its URL."""
    return database_url


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_add_list_disable_and_token(
    db: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    code, out, _ = run(capsys, monkeypatch, "user", "add", "Marie.Durand", "--role", "superviseur",
                       "--name", "Marie Durand", "--password-stdin", "--db", db,
                       stdin=PASSWORD + "\n")  # fmt: skip
    assert (code, out.strip()) == (0, "Compte « marie.durand » créé (Superviseur).")
    code, out, _ = run(capsys, monkeypatch, "user", "list", "--json", "--db", db)
    [listed] = json.loads(out)
    assert (listed["identifiant"], listed["nom"], listed["role"], listed["actif"]) == (
        "marie.durand", "Marie Durand", "superviseur", True,
    )  # fmt: skip
    code, out, err = run(capsys, monkeypatch, "user", "token", "marie.durand", "--name", "script",
                         "--db", db)  # fmt: skip
    token = out.strip()
    assert code == 0 and token.startswith("sviacd_") and "une seule fois" in err
    code, out, _ = run(capsys, monkeypatch, "user", "disable", "marie.durand", "--db", db)
    assert (code, out.strip()) == (0, "Compte « marie.durand » désactivé.")
    code, out, _ = run(capsys, monkeypatch, "user", "list", "--db", db)
    assert "désactivé" in out and "1 compte(s)." in out
    # Disabled: its token opens nothing any more.
    assert run_on_database(db, lambda engine: AccountStore(engine).token_account(token)) is None


def test_passwd_changes_the_password(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, monkeypatch, "user", "add", "paul", "--role", "admin", "--password-stdin",
        "--db", db, stdin=PASSWORD + "\n")  # fmt: skip
    code, out, _ = run(capsys, monkeypatch, "user", "passwd", "paul", "--password-stdin",
                       "--db", db, stdin="un autre mot de passe\n")  # fmt: skip
    assert code == 0 and "Mot de passe de « paul » changé" in out
    code, out, _ = run(capsys, monkeypatch, "user", "role", "paul", "consultation", "--db", db)
    assert code == 0 and "Consultation" in out


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["user", "add", "paul", "--role", "chef", "--password-stdin"], PASSWORD,
         "rôle inconnu « chef »"),
        (["user", "add", "paul", "--role", "admin", "--password-stdin"], "court",
         "au moins 12 caractères"),
        (["user", "add", "Paul Martin", "--role", "admin", "--password-stdin"], PASSWORD,
         "identifiant invalide"),
        (["user", "add", "paul", "--role", "admin"], "", "utilisez --password-stdin"),
        (["user", "disable", "personne"], "", "aucun compte « personne »"),
        (["user", "token", "personne", "--name", "x"], "", "aucun compte « personne »"),
    ],
)  # fmt: skip
def test_bad_input_is_a_french_error_and_exit_code_2(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    argv: list[str], stdin: str, message: str,
) -> None:  # fmt: skip
    code, out, err = run(capsys, monkeypatch, *argv, "--db", db, stdin=stdin + "\n")
    assert code == 2 and out == ""
    assert err.startswith("Erreur : ") and message in err


def test_an_existing_login_is_refused(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["user", "add", "paul", "--role", "admin", "--password-stdin", "--db", db]
    assert run(capsys, monkeypatch, *argv, stdin=PASSWORD)[0] == 0
    code, _, err = run(capsys, monkeypatch, *argv, stdin=PASSWORD)
    assert code == 2 and "existe déjà" in err


def test_interactive_passwords_must_match(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = iter([PASSWORD, PASSWORD + " différent"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    stdin = io.StringIO("")
    stdin.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stdin", stdin)
    assert main(["user", "add", "paul", "--role", "admin", "--db", db]) == 2
    assert "diffèrent" in capsys.readouterr().err
    typed = iter([PASSWORD, PASSWORD])
    assert main(["user", "add", "paul", "--role", "admin", "--db", db]) == 0
