"""``svi-acd route`` as scripts use it: the JSON contract and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svi_acd.cli import main


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SVI_ACD_DATA", str(tmp_path))
    monkeypatch.delenv("SVI_ACD_DB_URL", raising=False)
    monkeypatch.delenv("SVI_ACD_CONFIG", raising=False)
    return tmp_path


def route(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["route", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_open_metropolitan_call(capsys: pytest.CaptureFixture[str]) -> None:
    data = route(capsys, "--caller", "01 45 67 89 12", "--at", "2026-07-08T08:00:00+02:00")
    assert {k: data[k] for k in ("caller", "territory", "open", "reason", "holiday", "vip",
                                 "priority", "next_open")} == {
        "caller": "+33145678912", "territory": "FR", "open": True, "reason": "open",
        "holiday": None, "vip": False, "priority": None, "next_open": None,
    }  # fmt: skip


def test_holiday_call_names_the_holiday_and_next_open_in_paris_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = route(capsys, "--caller", "+33612345678", "--at", "2026-12-25T10:00:00+01:00")
    assert (data["open"], data["reason"], data["holiday"]) == (False, "desk_holiday", "Noël")
    assert data["next_open"] == "2026-12-28T08:00:00+01:00"


def test_instant_without_offset_is_paris_time_and_utc_is_converted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert route(capsys, "--caller", "0145678912", "--at", "2026-07-08T18:29:59")["open"]
    data = route(capsys, "--caller", "0145678912", "--at", "2026-07-08T16:30:00Z")
    assert (data["open"], data["at"]) == (False, "2026-07-08T18:30:00+02:00")


def test_anonymous_caller_is_null_and_treated_as_metropolitan(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = route(capsys, "--caller", "anonymous", "--at", "2026-07-08T09:00")
    assert (data["caller"], data["territory"], data["open"]) == (None, "FR", True)


def test_bad_instant_is_a_clear_error_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "--caller", "0145678912", "--at", "demain", "--json"]) == 2
    assert "instant invalide « demain »" in capsys.readouterr().err


def test_human_output_is_french(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "--caller", "+687251234", "--at", "2026-07-08T12:00"]) == 0
    out = capsys.readouterr().out
    assert "NON SERVI — territoire hors de ses heures locales" in out
    assert "Nouvelle-Calédonie" in out
    assert "jeudi 9 juillet 2026 à 08 h 00 (heure de Paris)" in out
    assert "jeudi 9 juillet 2026 à 17 h 00 (heure locale de l'appelant)" in out
