"""``svi-acd lab call`` reports the outcome of the calls it just placed, each by its own id."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lab.commands import caller_numbers
from lab.queue_log import read_queue_log
from lab.runner import Lab, LabState
from lab.sipp import SippProcess
from svi_acd.cli import main
from svi_acd.config.model import Settings
from tests.e2e.acd import acd_service, with_acd
from tests.e2e.calls import SettableClock

pytestmark = pytest.mark.e2e


async def lab_call(lab: Lab, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    command = ["lab", "--run-dir", str(lab.run_dir), "call", "--no-agents", *argv]
    assert await asyncio.to_thread(main, command) == 0
    return capsys.readouterr().out


async def test_a_hang_up_in_the_menu_is_reported_as_such_not_as_an_earlier_calls_outcome(
    lab: Lab, lab_state: LabState, agents: list[SippProcess], flow_settings: Settings,
    clock: SettableClock, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    async with acd_service(lab, lab_state, with_acd(flow_settings, ()), clock, tmp_path) as (
        service, _,
    ):  # fmt: skip
        answered = await lab_call(lab, capsys, "--caller", "01 40 00 09 51", "--digits", "1",
                                  "--wait", "1", "--hold", "15")  # fmt: skip
        assert "0140000951 : CONNECT par " in answered
        # The same number again, hanging up in the menu: the earlier CONNECT is not its own.
        left = await lab_call(lab, capsys, "--caller", "0140000951", "--wait", "1", "--hold", "1")
        assert "0140000951 : raccroché dans le SVI (appel " in left
        uniqueid = left.split("(appel ")[1].split(")")[0]
        assert uniqueid in service.recent_calls  # the id is the call's own
        events = [e.event for e in read_queue_log(lab.queue_log) if e.call_id == uniqueid]
        assert "SVI_CALL" in events and "ENTERQUEUE" not in events


def test_caller_numbers_are_read_as_routing_reads_them() -> None:
    assert caller_numbers("0696 20 12 34", 2) == ["0696201234", "0696201235"]
    assert caller_numbers("06.12.34.56.78", 1) == ["0612345678"]
    assert caller_numbers("+596 696 20 12 34", 1) == ["+596696201234"]
    assert caller_numbers("0033 1 40 00 00 01", 1) == ["+33140000001"]
