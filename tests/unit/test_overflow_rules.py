"""Overflow rules on hand-built boards: which caller goes where, at entry and while waiting."""

from __future__ import annotations

from svi_acd.acd.board import Agent, Board, QueueView, WaitingCaller
from svi_acd.acd.overflow import at_entry, while_waiting
from svi_acd.config.model import OverflowRule

NOW = 1_800_000_000.0
MESSAGE = {"type": "message", "annonce": "sature"}


def rule(condition: str, threshold: float = 0, destination: dict | None = None,
         name: str | None = None) -> OverflowRule:  # fmt: skip
    return OverflowRule.model_validate(
        {"nom": name or condition, "file": "support", "condition": condition,
         "seuil": threshold, "destination": destination or MESSAGE}
    )  # fmt: skip


def board(
    free: int = 0,
    busy: int = 0,
    paused: int = 0,
    waits: tuple[float, ...] = (),
    numbers: tuple[str, ...] = (),
    outside: frozenset[int] = frozenset(),
) -> QueueView:
    """A queue; ``outside``: indexes of callers queued by a path that does not follow a
    withdrawal (not in the dialplan's queue context)."""  # fmt: skip
    desk = Board({"support": "Centre de services"})
    states = ["libre"] * free + ["en_appel"] * busy + ["pause"] * paused
    for index, state in enumerate(states):
        desk.put_agent(Agent(f"a{index}", f"PJSIP/a{index}", ("support",), logged_in=True,
                             in_call=state == "en_appel", paused=state == "pause"))  # fmt: skip
    for index, wait in enumerate(waits):
        number = numbers[index] if index < len(numbers) else f"01400000{index:02d}"
        desk.put_caller(WaitingCaller(f"c{index}", "support", f"PJSIP/x-{index}", number,
                                      NOW - wait, index + 1,
                                      movable=index not in outside))  # fmt: skip
    view = desk.snapshot(NOW).queue("support")
    assert view is not None
    return view


def test_no_rule_fires_when_an_agent_is_free() -> None:
    rules = [rule("aucun_agent"), rule("aucun_agent_libre")]
    assert at_entry(rules, board(free=1, busy=1), "0140000000") is None


def test_no_agent_logged_in_overflows_a_new_caller() -> None:
    found = at_entry([rule("aucun_agent")], board(), "0140000000")
    assert found is not None and found.rule.condition == "aucun_agent"
    assert found.destination == "message:sature"


def test_all_agents_busy_or_paused_means_no_free_agent() -> None:
    found = at_entry([rule("aucun_agent"), rule("aucun_agent_libre")], board(busy=1, paused=1),
                     "0140000000")  # fmt: skip
    assert found is not None and found.rule.condition == "aucun_agent_libre"


def test_first_matching_rule_in_configuration_order_wins() -> None:
    rules = [rule("longueur_max", 2, name="longue"), rule("aucun_agent_libre", name="occupés")]
    found = at_entry(rules, board(busy=2, waits=(10, 5)), "0140000000")
    assert found is not None and found.rule.name == "longue"


def test_switched_off_rule_is_ignored() -> None:
    rules = [rule("aucun_agent_libre", name="occupés")]
    assert at_entry(rules, board(busy=1), "0140000000", {"occupés": False}) is None


def test_callback_needs_a_number_to_call_back() -> None:
    rules = [rule("aucun_agent_libre", destination={"type": "rappel"})]
    assert at_entry(rules, board(busy=1), "") is None
    assert at_entry(rules, board(busy=1), "0140000000") is not None


def test_calls_per_agent_counts_staffed_agents_only() -> None:
    rules = [rule("appels_par_agent", 2)]
    # 2 staffed agents (1 free, 1 on a call) and 3 waiting: a 4th fits, a 5th does not.
    assert at_entry(rules, board(free=1, busy=1, paused=3, waits=(1, 2, 3)), "01") is None
    assert at_entry(rules, board(free=1, busy=1, waits=(1, 2, 3, 4)), "01") is not None


def test_maximum_wait_moves_only_the_callers_who_waited_that_long() -> None:
    moves = while_waiting([rule("attente_max_s", 60)], board(busy=1, waits=(90, 61, 30)), NOW)
    assert sorted(move.caller.uniqueid for move in moves if move.caller) == ["c0", "c1"]


def test_queue_too_long_moves_the_last_arrived_and_keeps_the_first() -> None:
    moves = while_waiting([rule("longueur_max", 2)], board(busy=1, waits=(90, 60, 30, 10)), NOW)
    assert sorted(move.caller.uniqueid for move in moves if move.caller) == ["c2", "c3"]


def test_no_free_agent_without_grace_acts_at_entry_only() -> None:
    view = board(busy=2, waits=(120,))
    assert while_waiting([rule("aucun_agent_libre")], view, NOW) == []
    assert len(while_waiting([rule("aucun_agent_libre", 60)], view, NOW)) == 1


def test_callers_already_moved_and_placeholders_are_left_alone() -> None:
    view = board(busy=1, waits=(90, 80))
    moves = while_waiting([rule("attente_max_s", 60)], view, NOW, exempt=frozenset({"c0"}))
    assert [move.caller.uniqueid for move in moves if move.caller] == ["c1"]


def test_callers_queued_by_another_dialplan_path_are_never_withdrawn() -> None:
    view = board(busy=1, waits=(90, 80), outside=frozenset({0}))
    moves = while_waiting([rule("attente_max_s", 60)], view, NOW)
    assert [move.caller.uniqueid for move in moves if move.caller] == ["c1"]


def test_withheld_callers_are_not_offered_a_callback_while_waiting() -> None:
    view = board(busy=1, waits=(90, 90), numbers=("", "0140000000"))
    callback = rule("attente_max_s", 60, {"type": "rappel"})
    assert [move.caller.uniqueid for move in while_waiting([callback], view, NOW)
            if move.caller] == ["c1"]  # fmt: skip
