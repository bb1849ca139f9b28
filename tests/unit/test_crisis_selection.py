"""Which crisis messages a caller hears: every node scope × message scope × caller, periods,
modes, repeats — and the surge rule. Pure functions, no I/O."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from svi_acd.routing.crisis import (
    NODE_SCOPES,
    CrisisMessage,
    Scope,
    message_status,
    next_change,
    select_messages,
)
from svi_acd.routing.surge import ArrivalWindow, SurgeReading, next_alert, transition

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 7, 8, 10, 0, tzinfo=PARIS)
LINE = Scope()
GUYANE = Scope("territoires", ("GF",))
ANTILLES = Scope("territoires", ("MQ", "GP"))
INCIDENT = Scope("branches", ("incident",))
PHONE_OR_REQUEST = Scope("branches", ("telephonie", "demande"))


def message(id: int, scope: Scope = LINE, mode: str = "information", **extra) -> CrisisMessage:  # type: ignore[no-untyped-def]
    return CrisisMessage(id=id, mode=mode, sound=f"crise/crise-{id}", scope=scope, **extra)  # type: ignore[arg-type]


def ids(selected: tuple[CrisisMessage, ...]) -> list[int]:
    return [m.id for m in selected]


ALL = [
    message(1, LINE),
    message(2, GUYANE),
    message(3, ANTILLES),
    message(4, INCIDENT),
    message(5, PHONE_OR_REQUEST),
]

# (node scope, territory, branch) -> what is heard
EXPECTED = {
    (None, "FR", None): [1],
    (None, "GF", None): [1, 2],
    (None, "MQ", "incident"): [1, 3, 4],
    (None, "GP", "demande"): [1, 3, 5],
    (None, None, "telephonie"): [1, 5],
    ("ligne", "GF", "incident"): [1, 2],
    ("ligne", "FR", None): [1],
    ("ligne", None, None): [1],
    ("territoire", "GF", "incident"): [2],
    ("territoire", "FR", "incident"): [],
    ("territoire", "MQ", None): [3],
    ("branche", "GF", "incident"): [4],
    ("branche", "GF", None): [],
    ("branche", "FR", "suivi"): [],
    ("branche", "FR", "demande"): [5],
}


@pytest.mark.parametrize(("node", "territory", "branch"), list(EXPECTED))
def test_each_node_scope_plays_the_messages_for_what_is_known_of_the_caller(
    node: str | None, territory: str | None, branch: str | None
) -> None:
    selected = select_messages(ALL, node, territory, branch, NOW)
    assert ids(selected) == EXPECTED[(node, territory, branch)]


def test_every_combination_plays_only_messages_whose_scope_covers_the_caller() -> None:
    territories = [None, "FR", "GF", "MQ", "GP", "RE", "YT", "PM", "NC"]
    branches = [None, "incident", "demande", "suivi", "telephonie", "defaut", "vip"]
    for node, territory, branch in itertools.product((None, *NODE_SCOPES), territories, branches):
        selected = select_messages(ALL, node, territory, branch, NOW)
        for m in selected:
            assert m.scope.covers(territory, branch)
        # The line-wide message is heard wherever the node lets line messages through.
        assert (1 in ids(selected)) == (node in (None, "ligne"))
        assert ids(selected) == sorted(ids(selected), key=[1, 2, 3, 4, 5].index)


def test_unknown_node_scope_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        select_messages(ALL, "partout", "FR", None, NOW)


def test_a_switched_off_message_is_not_heard() -> None:
    assert select_messages([message(1, active=False)], None, "FR", None, NOW) == ()


def test_a_message_is_heard_from_its_start_until_just_before_its_end() -> None:
    start, end = NOW, NOW + timedelta(hours=1)
    timed = [message(1, start=start, end=end)]
    assert select_messages(timed, None, "FR", None, start - timedelta(seconds=1)) == ()
    assert ids(select_messages(timed, None, "FR", None, start)) == [1]
    assert ids(select_messages(timed, None, "FR", None, end - timedelta(seconds=1))) == [1]
    assert select_messages(timed, None, "FR", None, end) == ()


def test_periods_compare_instants_whatever_the_zone() -> None:
    starts_in_cayenne = message(
        1, start=datetime(2026, 7, 8, 5, 0, tzinfo=ZoneInfo("America/Cayenne"))
    )
    # 05:00 in Cayenne is 10:00 in Paris in July.
    assert ids(select_messages([starts_in_cayenne], None, "FR", None, NOW)) == [1]
    assert select_messages([starts_in_cayenne], None, "FR", None, NOW - timedelta(minutes=1)) == ()


def test_a_message_already_heard_in_the_call_is_not_played_again() -> None:
    assert ids(select_messages(ALL, None, "GF", "incident", NOW, heard={1, 2})) == [4]


def test_deterrence_replaces_information_and_only_one_is_played() -> None:
    messages = [*ALL, message(6, LINE, "dissuasion")]
    assert ids(select_messages(messages, None, "GF", "incident", NOW)) == [6]


def test_the_most_specific_deterrence_message_wins_then_the_most_recent() -> None:
    messages = [
        message(6, LINE, "dissuasion"),
        message(7, GUYANE, "dissuasion"),
        message(8, GUYANE, "dissuasion"),
        message(9, INCIDENT, "dissuasion"),
    ]
    assert ids(select_messages(messages, "ligne", "GF", "incident", NOW)) == [8]
    assert ids(select_messages(messages, None, "GF", "incident", NOW)) == [9]
    assert ids(select_messages(messages, None, "FR", "demande", NOW)) == [6]


def test_a_deterrence_message_for_another_territory_does_not_hang_up_this_caller() -> None:
    messages = [message(1, LINE), message(7, GUYANE, "dissuasion")]
    assert ids(select_messages(messages, None, "MQ", None, NOW)) == [1]


def test_a_scheduled_deterrence_message_does_not_act_before_its_start() -> None:
    later = message(7, LINE, "dissuasion", start=NOW + timedelta(minutes=5))
    assert ids(select_messages([message(1), later], None, "FR", None, NOW)) == [1]


def test_status_of_a_message_over_time() -> None:
    timed = message(1, start=NOW, end=NOW + timedelta(hours=1))
    assert message_status(timed, NOW - timedelta(minutes=1)) == "programme"
    assert message_status(timed, NOW) == "diffuse"
    assert message_status(timed, NOW + timedelta(hours=1)) == "termine"
    assert message_status(message(2, active=False), NOW) == "inactif"


def test_next_change_is_the_nearest_start_or_end_to_come() -> None:
    messages = [
        message(1, start=NOW + timedelta(hours=2)),
        message(2, end=NOW + timedelta(minutes=30)),
        message(3, end=NOW + timedelta(minutes=10), active=False),
    ]
    assert next_change(messages, NOW) == NOW + timedelta(minutes=30)
    assert next_change([], NOW) is None


@pytest.mark.parametrize(
    ("kind", "values"),
    [("ligne", ("GF",)), ("branches", ()), ("territoires", ())],
)
def test_a_scope_names_values_exactly_when_it_is_not_the_whole_line(
    kind: str, values: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError):
        Scope(kind, values)  # type: ignore[arg-type]


def test_a_message_period_must_be_aware_and_ordered() -> None:
    with pytest.raises(ValueError):
        message(1, start=datetime(2026, 7, 8, 10, 0))
    with pytest.raises(ValueError):
        message(1, start=NOW, end=NOW)


# -- surge -------------------------------------------------------------------------------


def reading(arrivals: int) -> SurgeReading:
    return SurgeReading(arrivals=arrivals, window_s=300, threshold=60)


def test_surge_alert_starts_above_the_threshold_only() -> None:
    assert next_alert(False, reading(60)) is False
    assert next_alert(False, reading(61)) is True


def test_surge_alert_ends_once_the_rate_falls_well_below_the_threshold() -> None:
    assert next_alert(True, reading(55)) is True  # still above 80 % of the threshold
    assert next_alert(True, reading(49)) is True
    assert next_alert(True, reading(48)) is False


def test_surge_transitions() -> None:
    assert transition(False, True) == "debut"
    assert transition(True, False) == "fin"
    assert transition(True, True) is None


def test_arrival_window_forgets_arrivals_older_than_the_window() -> None:
    window = ArrivalWindow(300)
    for second in range(0, 600, 10):
        window.add(1000.0 + second)
    assert window.count(1600.0) == 29  # (1300, 1600]: 1310 … 1590
    assert window.count(2000.0) == 0
    assert reading(120).per_minute == 24.0
