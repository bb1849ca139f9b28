"""Properties of next_open that must hold for every caller at every instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from svi_acd.config.loader import load_settings
from svi_acd.routing.decision import Router

ROUTER = Router(load_settings())
CALLERS = ["0145678912", "0594101234", "0696201234", "0590201234", "0262161234",
           "0269601234", "+508411234", "+687251234"]  # fmt: skip
# Instants spread over several years, DST changes included, at second precision.
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=0))


@settings(max_examples=400, deadline=None)
@given(caller=st.sampled_from(CALLERS), moment=instants)
def test_next_open_is_the_first_moment_the_caller_is_served(caller: str, moment: datetime) -> None:
    decision = ROUTER.decide(caller, moment)
    if decision.open:
        assert decision.next_open is None
        return
    found = decision.next_open
    assert found is not None
    assert found >= moment
    assert ROUTER.decide(caller, found).open
    # One second earlier the caller was still not served (unless that is before the call).
    earlier = found - timedelta(seconds=1)
    if earlier >= moment:
        assert not ROUTER.decide(caller, earlier).open


@settings(max_examples=200, deadline=None)
@given(caller=st.sampled_from(CALLERS), moment=instants)
def test_next_open_local_is_the_same_instant_in_the_caller_zone(
    caller: str, moment: datetime
) -> None:
    decision = ROUTER.decide(caller, moment)
    if decision.next_open is not None:
        assert decision.next_open_local == decision.next_open
        assert decision.next_open.utcoffset() in {timedelta(hours=1), timedelta(hours=2)}


@settings(max_examples=200, deadline=None)
@given(caller=st.sampled_from(CALLERS), moment=instants)
def test_a_served_overseas_caller_is_within_the_desk_hours(caller: str, moment: datetime) -> None:
    decision = ROUTER.decide(caller, moment)
    if decision.open:
        assert ROUTER.decide("0145678912", moment).open
