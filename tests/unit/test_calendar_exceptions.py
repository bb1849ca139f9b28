"""Exceptional days in configuration: closing a working day, opening a holiday, per territory."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from svi_acd.config.loader import default_config_text, load_yaml_text, parse_settings
from svi_acd.routing.decision import Router

PARIS = ZoneInfo("Europe/Paris")


def router_with(desk_exceptions: dict, mq_exceptions: dict | None = None) -> Router:
    data = load_yaml_text(default_config_text(), "test")
    data["guichet"]["exceptions"] = desk_exceptions
    if mq_exceptions is not None:
        data["territoires"]["MQ"]["exceptions"] = mq_exceptions
    return Router(parse_settings(data))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def test_exceptional_closure_of_the_desk_is_a_desk_holiday_with_its_label() -> None:
    router = router_with({"2026-12-24": {"horaires": "fermé", "motif": "Pont de Noël"}})
    decision = router.decide("0145678912", at("2026-12-24T10:00"))
    assert (decision.reason, decision.holiday) == ("desk_holiday", "Pont de Noël")
    assert decision.next_open == at("2026-12-28T08:00")


def test_short_afternoon_on_an_exceptional_day() -> None:
    router = router_with({"2026-12-24": "08:00-12:00"})
    assert router.decide("0145678912", at("2026-12-24T11:59")).open
    decision = router.decide("0145678912", at("2026-12-24T12:00"))
    assert decision.reason == "desk_hours"


def test_exceptional_opening_on_a_public_holiday() -> None:
    # Whit Monday worked ("journée de solidarité").
    router = router_with({"2026-05-25": "09:00-17:00"})
    assert router.decide("0145678912", at("2026-05-25T09:00")).open
    assert not router.decide("0145678912", at("2026-05-25T17:00")).open


def test_territory_exception_closes_only_that_territory() -> None:
    router = router_with({}, {"2026-07-08": "fermé"})
    assert router.decide("0145678912", at("2026-07-08T15:00")).open
    decision = router.decide("0696201234", at("2026-07-08T15:00"))
    assert (decision.reason, decision.holiday) == ("territory_holiday", "Fermeture exceptionnelle")
    assert decision.next_open == at("2026-07-09T14:00")
