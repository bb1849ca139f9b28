"""One outcome per call, from its queue_log lines (pure: no file, no database)."""

from __future__ import annotations

from datetime import date

import pytest

from svi_acd.stats.events import MalformedLine, parse_line
from svi_acd.stats.outcome import CallRecord, fold, hour_periods
from tests.stats.conftest import reference_day
from tests.stats.queue_logs import epoch


def calls_of(text_lines: list[str]) -> dict[str, CallRecord]:
    events = [event for event in map(parse_line, text_lines) if event is not None]
    return fold(events, {})


@pytest.fixture(scope="module")
def day() -> dict[str, CallRecord]:
    return calls_of(reference_day().lines)


def test_answered_call_keeps_wait_talk_agent_and_caller(day: dict[str, CallRecord]) -> None:
    call = day["c01"]
    assert (call.outcome, call.wait_s, call.talk_s) == ("answered", 12, 300)
    assert (call.agent, call.queue, call.caller) == ("PJSIP/agent-a", "support", "0612345601")
    assert (call.territory, call.branch, call.category) == ("FR", "incident", "queued")


@pytest.mark.parametrize(
    ("callid", "outcome", "wait"),
    [("c02", "abandon", 20), ("c03", "abandon", 2), ("c04", "timeout", 60),
     ("c05", "exit_empty", 3), ("c06", "exit_key", 15), ("c19", "waiting", None)],
)  # fmt: skip
def test_each_queue_exit_gives_its_outcome_and_wait(
    day: dict[str, CallRecord], callid: str, outcome: str, wait: int | None
) -> None:
    assert (day[callid].outcome, day[callid].wait_s) == (outcome, wait)


@pytest.mark.parametrize(
    ("callid", "category"),
    [("c07", "closed"), ("c08", "territory_closed"), ("c09", "deterred"),
     ("c10", "overflow"), ("c16", "callback"), ("c17", "other"), ("c13", "queued")],
)  # fmt: skip
def test_received_split_has_one_category_per_call(
    day: dict[str, CallRecord], callid: str, category: str
) -> None:
    assert day[callid].category == category


def test_ring_no_answer_before_another_agent_answers_is_one_answered_call(
    day: dict[str, CallRecord],
) -> None:
    call = day["c11"]
    assert (call.outcome, call.agent, call.wait_s, call.talk_s) == (
        "answered", "PJSIP/agent-b", 40, 100)  # fmt: skip
    assert call.ring_no_answer == 1


def test_blind_transfer_is_answered_by_the_first_agent_and_flagged(
    day: dict[str, CallRecord],
) -> None:
    call = day["c12"]
    assert (call.outcome, call.agent, call.talk_s, call.transferred) == (
        "answered", "PJSIP/agent-a", 60, True)  # fmt: skip


def test_transfer_back_to_a_queue_then_hang_up_stays_answered(
    day: dict[str, CallRecord],
) -> None:
    call = day["c15"]
    assert (call.outcome, call.queue, call.wait_s, call.entries) == ("answered", "support", 8, 2)
    assert (call.ticket, call.parent_ticket, call.transferred) == ("T200", "P1", True)


def test_vip_and_p0_priorities(day: dict[str, CallRecord]) -> None:
    assert day["c13"].priority == "VIP"
    assert day["c18"].priority == "P0"
    assert day["c01"].priority is None


def test_waits_add_up_when_a_caller_moves_from_one_queue_to_another() -> None:
    start = epoch("2026-10-14 11:00:00")
    calls = calls_of([
        f"{start}|x1|support|NONE|ENTERQUEUE||0600000000",
        f"{start + 60}|x1|support|NONE|EXITWITHTIMEOUT|1|1|60",
        f"{start + 61}|x1|niveau2|NONE|ENTERQUEUE||0600000000",
        f"{start + 81}|x1|niveau2|PJSIP/b|CONNECT|20|x|2",
    ])  # fmt: skip
    call = calls["x1"]
    assert (call.outcome, call.queue, call.wait_s, call.entries) == ("answered", "niveau2", 80, 2)


def test_complete_without_connect_still_counts_as_answered() -> None:
    start = epoch("2026-10-14 11:00:00")
    calls = calls_of([f"{start}|x2|support|PJSIP/a|COMPLETEAGENT|7|90|1"])
    assert (calls["x2"].outcome, calls["x2"].wait_s, calls["x2"].talk_s) == ("answered", 7, 90)


def test_period_is_the_first_event_even_when_lines_arrive_out_of_order() -> None:
    early, late = epoch("2026-10-14 23:59:50"), epoch("2026-10-15 00:00:20")
    calls = calls_of([f"{late}|x3|support|PJSIP/a|CONNECT|25|x|1",
                      f"{early}|x3|support|NONE|ENTERQUEUE||06"])  # fmt: skip
    assert calls["x3"].first_epoch == early
    assert calls["x3"].row()["day"] == date(2026, 10, 14)


def test_hour_periods_follow_paris_time_across_the_autumn_change() -> None:
    first = epoch("2026-10-25 02:30:00", fold=0)
    second = epoch("2026-10-25 02:30:00", fold=1)
    assert second - first == 3600
    for moment in (first, second):
        assert hour_periods(moment - moment % 3600) == (date(2026, 10, 25), "2026-W43", "2026-10")
    assert hour_periods(epoch("2026-12-31 23:30:00") // 3600 * 3600)[1] == "2026-W53"
    assert hour_periods(epoch("2027-01-01 00:30:00") // 3600 * 3600)[1] == "2026-W53"


@pytest.mark.parametrize(
    ("text", "reason"),
    [("garbage", "champ"), ("abc|c|q|a|CONNECT|1", "horodatage"), ("1|c|q|a||x", "vide"),
     ("1|c|q|a|CONNECT|douze|x|1", "non numérique")],
)  # fmt: skip
def test_malformed_lines_say_why(text: str, reason: str) -> None:
    with pytest.raises(MalformedLine, match=reason):
        parse_line(text)


def test_lines_about_no_call_are_not_call_events() -> None:
    assert parse_line("1790000000|NONE|support|PJSIP/a|PAUSE|ticket") is None
    assert parse_line("1790000000|NONE|NONE|NONE|QUEUESTART|") is None
    assert parse_line("1790000000|c9|support|PJSIP/a|RINGCANCELED|1000") is None


def test_caller_withdrawn_by_an_overflow_rule_is_an_overflow_not_an_abandon() -> None:
    start = epoch("2026-10-14 10:00:00")
    calls = calls_of(
        [
            f"{start}|w1|support|NONE|ENTERQUEUE||0612345601|1",
            f"{start + 30}|w1|support|NONE|SVI_OVERFLOW|attente trop longue|message:sature",
            f"{start + 30}|w1|support|NONE|WITHDRAW|1|1|30|message",
        ]
    )
    call = calls["w1"]
    assert (call.outcome, call.wait_s, call.category) == ("withdrawn", 30, "overflow")
    assert call.overflow_rule == "attente trop longue"


def test_callback_placeholder_answered_counts_once_for_the_callers_call() -> None:
    start = epoch("2026-10-14 11:00:00")
    calls = calls_of(
        [
            f"{start}|cb1|support|NONE|ENTERQUEUE||0612345602|1",
            f"{start + 20}|cb1|support|NONE|SVI_OVERFLOW|attente trop longue|rappel",
            f"{start + 20}|cb1|support|NONE|SVI_CALLBACK|",
            f"{start + 20}|cb1-rappel;2|support|NONE|ENTERQUEUE||0612345602|1",
            f"{start + 20}|cb1|support|NONE|WITHDRAW|2|1|20|rappel",
            f"{start + 95}|cb1-rappel;2|support|PJSIP/agent-a|CONNECT|75|x.1|3",
            f"{start + 200}|cb1-rappel;2|support|PJSIP/agent-a|COMPLETEAGENT|75|105|1",
        ]
    )
    assert list(calls) == ["cb1"]
    call = calls["cb1"]
    assert (call.outcome, call.category, call.entries) == ("answered", "callback", 2)
    assert (call.wait_s, call.talk_s, call.agent) == (95, 105, "PJSIP/agent-a")
