"""Matrix42 settings in the configuration (section ``itsm``), used by ``stats tickets sync``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.cli import main
from svi_acd.config.loader import (
    ConfigError,
    default_config_text,
    load_settings,
    load_yaml_text,
    parse_settings,
)
from svi_acd.config.model import ItsmSettings
from svi_acd.stats.itsm import ItsmSettingsError, matrix42_source, tickets_per_month
from tests.stats.fake_matrix42 import FakeMatrix42, serve
from tests.stats.test_itsm import fake_rows

OCTOBER = ["--from", "2026-10-01", "--to", "2026-10-31"]


def with_itsm(section: str) -> str:
    return default_config_text() + "\n" + section


def itsm_of(section: str) -> ItsmSettings | None:
    return parse_settings(load_yaml_text(with_itsm(section), "test")).itsm


def config_file(tmp_path: Path, section: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(with_itsm(section), encoding="utf-8")
    return str(path)


@pytest.fixture(autouse=True)
def no_matrix42_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SVI_ACD_MATRIX42_URL", "SVI_ACD_MATRIX42_TOKEN", "M42_JETON"):
        monkeypatch.delenv(name, raising=False)


def test_the_shipped_configuration_has_no_itsm() -> None:
    assert load_settings().itsm is None


def test_the_itsm_section_reads_french_keys() -> None:
    itsm = itsm_of(
        "itsm:\n  type: matrix42\n  url: https://m42.example\n  jeton_env: M42_JETON\n"
        "  definition_donnees: Tickets\n  colonne_parent: ParentTicket\n  taille_page: 50\n"
    )
    assert itsm is not None
    assert (itsm.url, itsm.token_env, itsm.data_definition) == (
        "https://m42.example", "M42_JETON", "Tickets")  # fmt: skip
    assert (itsm.parent_column, itsm.page_size, itsm.number_column) == (
        "ParentTicket", 50, "TicketNumber")  # fmt: skip


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("itsm:\n  url: https://m42.example\n  jeton: abc123\n", "ne s'écrit pas"),
        ("itsm:\n  url: https://m42.example\n  jeton_env: 'eyJ0e.x-y'\n", "pas le jeton"),
        ("itsm:\n  url: m42.example\n", "adresse web attendue"),
        ("itsm:\n  type: servicenow\n  url: https://m42.example\n", "valeur non autorisée"),
    ],
)
def test_bad_itsm_sections_are_explained_in_french(section: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        itsm_of(section)
    assert message in str(caught.value)
    assert "eyJ0e" not in str(caught.value)  # a token put by mistake is not repeated


def test_the_token_comes_from_the_variable_the_section_names() -> None:
    itsm = itsm_of("itsm:\n  url: https://m42.example\n  jeton_env: M42_JETON\n")
    source = matrix42_source(itsm, None, {"M42_JETON": "secret", "SVI_ACD_MATRIX42_TOKEN": "x"})
    assert (source.base_url, source.api_token) == ("https://m42.example", "secret")
    assert matrix42_source(itsm, "http://127.0.0.1:9", {"M42_JETON": "s"}).base_url == (
        "http://127.0.0.1:9")  # fmt: skip
    with pytest.raises(ItsmSettingsError, match=r"M42_JETON \(nommée par itsm\.jeton_env\)"):
        matrix42_source(itsm, None, {"M42_JETON": "  "})
    with pytest.raises(ItsmSettingsError, match="aucune adresse Matrix42"):
        matrix42_source(None, None, {"SVI_ACD_MATRIX42_TOKEN": "secret"})


async def test_tickets_sync_uses_the_configuration_when_no_option_is_given(
    engine: AsyncEngine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeMatrix42("api-secret", fake_rows(5))
    monkeypatch.setenv("M42_JETON", "api-secret")
    async with serve(fake) as url:
        config = config_file(
            tmp_path, f"itsm:\n  url: {url}\n  jeton_env: M42_JETON\n  taille_page: 2\n"
            "  colonne_parent: ParentTicket\n"
        )  # fmt: skip
        argv = ["stats", "tickets", "sync", *OCTOBER, "--config", config, "--db", database_url]
        assert await asyncio.to_thread(main, argv) == 0
    assert [r["pagenumber"] for r in fake.requests] == ["0", "1", "2", "3"]
    assert fake.requests[0]["columns"] == "TicketNumber,CreatedDate,ParentTicket"
    # 2026-09-30T22:30Z is already 1 October in Paris: 5 + 1 tickets.
    assert await tickets_per_month(engine) == {"2026-10": 6}


async def test_the_url_option_wins_over_the_configuration(
    engine: AsyncEngine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeMatrix42("api-secret", fake_rows(3))
    monkeypatch.setenv("M42_JETON", "api-secret")
    config = config_file(tmp_path, "itsm:\n  url: http://127.0.0.1:9\n  jeton_env: M42_JETON\n")
    async with serve(fake) as url:
        argv = ["stats", "tickets", "sync", *OCTOBER, "--url", url, "--config", config,
                "--db", database_url]  # fmt: skip
        assert await asyncio.to_thread(main, argv) == 0
    assert await tickets_per_month(engine) == {"2026-10": 4}


def test_a_configured_url_with_an_empty_token_variable_is_a_clear_french_error(
    engine: AsyncEngine, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(tmp_path, "itsm:\n  url: http://127.0.0.1:9\n  jeton_env: M42_JETON\n")
    argv = ["stats", "tickets", "sync", *OCTOBER, "--config", config, "--db", database_url]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "la variable d'environnement M42_JETON" in error and "est vide" in error


def test_without_section_nor_option_the_error_says_where_the_address_goes(
    engine: AsyncEngine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "tickets", "sync", *OCTOBER, "--db", database_url]) == 2
    assert "section itsm" in capsys.readouterr().err
