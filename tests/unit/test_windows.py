"""The window rule all year: contract table, winter, DST weeks, holidays, exact boundaries."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from svi_acd.config.model import Settings
from svi_acd.routing.decision import Router

PARIS = ZoneInfo("Europe/Paris")
# A number from each territory (national format where the French plan has one).
CALLERS = {
    "FR": "01 45 67 89 12",
    "GF": "0594 10 12 34",
    "MQ": "0696 20 12 34",
    "GP": "0590 20 12 34",
    "RE": "0262 16 12 34",
    "YT": "0269 60 12 34",
    "PM": "+508 41 12 34",
    "NC": "+687 25 12 34",
}
# The specification's table, in Paris summer time (a Wednesday in July).
SUMMER_PARIS_WINDOWS = {
    "FR": ("08:00", "18:30"),
    "GF": ("13:00", "18:30"),
    "MQ": ("14:00", "18:30"),
    "GP": ("14:00", "18:30"),
    "RE": ("08:00", "18:30"),
    "YT": ("08:00", "18:30"),
    "PM": ("12:00", "18:30"),
    "NC": ("08:00", "11:00"),
}
# In Paris winter time: the Americas are one hour further, the Indian Ocean one hour closer.
WINTER_PARIS_WINDOWS = {
    "FR": ("08:00", "18:30"),
    "GF": ("12:00", "18:30"),
    "MQ": ("13:00", "18:30"),
    "GP": ("13:00", "18:30"),
    "RE": ("08:00", "18:30"),
    "YT": ("08:00", "18:30"),
    "PM": ("12:00", "18:30"),
    "NC": ("08:00", "10:00"),
}


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.fixture(scope="module")
def router(settings: Settings) -> Router:
    return Router(settings)


def assert_window(router: Router, territory: str, day: str, opens: str, closes: str) -> None:
    caller = CALLERS[territory]
    start, end = paris(f"{day}T{opens}"), paris(f"{day}T{closes}")
    second = timedelta(seconds=1)
    assert router.decide(caller, start).territory == territory
    assert not router.decide(caller, start - second).open, f"{territory} open before {opens}"
    assert router.decide(caller, start).open, f"{territory} closed at {opens}"
    assert router.decide(caller, end - second).open, f"{territory} closed before {closes}"
    assert not router.decide(caller, end).open, f"{territory} open at {closes}"


@pytest.mark.parametrize("territory", sorted(SUMMER_PARIS_WINDOWS))
def test_summer_windows_reproduce_the_contract_table(router: Router, territory: str) -> None:
    assert_window(router, territory, "2026-07-08", *SUMMER_PARIS_WINDOWS[territory])


@pytest.mark.parametrize("territory", sorted(WINTER_PARIS_WINDOWS))
def test_winter_windows_follow_the_time_zones(router: Router, territory: str) -> None:
    assert_window(router, territory, "2026-01-14", *WINTER_PARIS_WINDOWS[territory])


def test_martinique_caller_at_1359_paris_in_summer_is_outside_its_window(router: Router) -> None:
    decision = router.decide(CALLERS["MQ"], paris("2026-07-08T13:59"))
    assert (decision.open, decision.reason) == (False, "territory_hours")
    assert decision.next_open == paris("2026-07-08T14:00")
    assert decision.next_open_local is not None
    assert decision.next_open_local.strftime("%H:%M %z") == "08:00 -0400"


def test_martinique_caller_at_1359_paris_in_winter_is_served(router: Router) -> None:
    assert router.decide(CALLERS["MQ"], paris("2026-01-14T13:59")).open


def test_friday_before_paris_spring_change_is_winter(router: Router) -> None:
    # 27 March 2026: Paris still UTC+1, Miquelon already on summer time (since 8 March).
    assert_window(router, "MQ", "2026-03-27", "13:00", "18:30")
    assert_window(router, "NC", "2026-03-27", "08:00", "10:00")


def test_monday_after_paris_spring_change_is_summer(router: Router) -> None:
    for territory in ("GF", "MQ", "GP", "RE", "YT", "NC"):
        assert_window(router, territory, "2026-03-30", *SUMMER_PARIS_WINDOWS[territory])


def test_monday_after_paris_autumn_change_is_winter(router: Router) -> None:
    # 26 October 2026: Paris back to UTC+1 (25 October), Nouméa and the Antilles unchanged.
    for territory in ("GF", "MQ", "GP", "RE", "YT", "NC"):
        assert_window(router, territory, "2026-10-26", *WINTER_PARIS_WINDOWS[territory])


@pytest.mark.parametrize(
    "day", ["2026-03-09", "2026-03-20", "2026-03-27", "2026-10-26", "2026-10-30"]
)
def test_saint_pierre_is_three_hours_behind_paris_in_the_dst_gap_weeks(
    router: Router, day: str
) -> None:
    # North America changes on 8 March and 1 November 2026, Europe on 29 March and 25 October.
    assert_window(router, "PM", day, "11:00", "18:30")


@pytest.mark.parametrize("day", ["2026-03-06", "2026-03-30", "2026-10-23", "2026-11-02"])
def test_saint_pierre_is_four_hours_behind_paris_outside_the_gap_weeks(
    router: Router, day: str
) -> None:
    assert_window(router, "PM", day, "12:00", "18:30")


def test_paris_dst_change_weekend_next_open_has_the_summer_offset(router: Router) -> None:
    decision = router.decide(CALLERS["FR"], paris("2026-03-28T12:00"))
    assert decision.reason == "desk_hours"
    assert decision.next_open is not None
    assert decision.next_open.isoformat() == "2026-03-30T08:00:00+02:00"


@pytest.mark.parametrize(
    ("territory", "day", "name"),
    [
        ("MQ", "2026-05-22", "Abolition de l'esclavage"),
        ("GP", "2026-05-27", "Abolition de l'esclavage"),
        ("GF", "2026-06-10", "Abolition de l'esclavage"),
        ("YT", "2026-04-27", "Abolition de l'esclavage"),
        ("RE", "2027-12-20", "Abolition de l'esclavage"),
        ("NC", "2026-09-24", "Fête de la Citoyenneté"),
    ],
)
def test_each_territory_has_its_own_holiday(
    router: Router, territory: str, day: str, name: str
) -> None:
    # Paris works that day: a metropolitan caller is served, the territory's caller is not.
    opens = SUMMER_PARIS_WINDOWS[territory][0]
    moment = paris(f"{day}T{opens}") + timedelta(minutes=30)
    assert router.decide(CALLERS["FR"], moment).open
    decision = router.decide(CALLERS[territory], moment)
    assert (decision.open, decision.reason, decision.holiday) == (False, "territory_holiday", name)


def test_desk_holiday_takes_precedence_over_territory_reasons(router: Router) -> None:
    decision = router.decide(CALLERS["NC"], paris("2026-07-14T15:00"))
    assert (decision.reason, decision.holiday) == ("desk_holiday", "Fête nationale")


def test_next_open_across_a_weekend(router: Router) -> None:
    decision = router.decide(CALLERS["FR"], paris("2026-07-10T18:30"))
    assert decision.next_open == paris("2026-07-13T08:00")


def test_next_open_across_a_holiday(router: Router) -> None:
    # Ascension, Thursday 14 May 2026.
    decision = router.decide(CALLERS["FR"], paris("2026-05-13T19:00"))
    assert decision.next_open == paris("2026-05-15T08:00")


def test_next_open_skips_the_territory_holiday_and_the_next_desk_holiday(router: Router) -> None:
    # Thursday 21 May evening: Friday 22 is Martinique's holiday, Monday 25 is Whit Monday.
    decision = router.decide(CALLERS["MQ"], paris("2026-05-21T18:45"))
    assert decision.next_open == paris("2026-05-26T14:00")
    assert decision.next_open_local is not None
    assert decision.next_open_local.isoformat() == "2026-05-26T08:00:00-04:00"


def test_next_open_for_noumea_in_the_evening_is_next_morning(router: Router) -> None:
    decision = router.decide(CALLERS["NC"], paris("2026-07-08T11:00"))
    assert decision.reason == "territory_hours"
    assert decision.next_open == paris("2026-07-09T08:00")
    assert decision.next_open_local is not None
    assert decision.next_open_local.isoformat() == "2026-07-09T17:00:00+11:00"


def test_unknown_and_foreign_callers_are_treated_as_metropolitan(router: Router) -> None:
    for caller in ("anonymous", "+1 212 555 0100", "###"):
        decision = router.decide(caller, paris("2026-07-08T09:00"))
        assert (decision.caller.territory, decision.territory) == (None, "FR")
        assert decision.open


def test_naive_instants_are_refused(router: Router) -> None:
    with pytest.raises(ValueError, match="fuseau"):
        router.decide(CALLERS["FR"], datetime(2026, 7, 8, 9, 0))


@pytest.mark.parametrize("territory", sorted(SUMMER_PARIS_WINDOWS))
def test_a_served_caller_is_served_until_the_end_of_the_shorter_window(
    router: Router, territory: str
) -> None:
    opens, closes = SUMMER_PARIS_WINDOWS[territory]
    at = paris(f"2026-07-08T{opens}")
    assert router.open_until(territory, at) == paris(f"2026-07-08T{closes}")
    assert router.open_until(territory, paris(f"2026-07-08T{closes}")) is None  # closed then


def test_nobody_is_served_until_anything_on_a_closed_day(router: Router) -> None:
    assert router.open_until("FR", paris("2026-07-14T10:00")) is None  # Fête nationale
