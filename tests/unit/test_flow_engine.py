"""The flow engine on the shipped menu, with a scripted caller (no Asterisk: the walk only)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from svi_acd.config.model import Settings
from svi_acd.ivr.engine import FLOW_DONE, CrisisPlayback, FlowError, FlowServices, run_flow
from svi_acd.ivr.session import CallInfo
from svi_acd.routing.decision import Router
from svi_acd.routing.directory import DirectoryEntry, VipDirectory

PARIS = ZoneInfo("Europe/Paris")
OPEN = datetime(2026, 7, 8, 10, 0, tzinfo=PARIS)


class ScriptedCaller:
    """Answers each digit request from a script; records what the service did."""

    def __init__(self, number: str, keys: list[str | None]) -> None:
        self.info = CallInfo(uniqueid="1700000000.1", caller_number=number)
        self.keys = list(keys)
        self.played: list[str] = []
        self.said: list[tuple[datetime, str]] = []
        self.variables: dict[str, str] = {}
        self.events: list[tuple[str, ...]] = []

    async def answer(self) -> None:
        pass

    async def play(self, sounds: list[str], escape: str = "") -> str | None:
        self.played += sounds
        return None

    async def ask_digit(self, sounds: list[str], timeout_s: float) -> str | None:
        self.played += sounds
        return self.keys.pop(0)

    async def read_digits(self, sounds: list[str], max_digits: int, timeout_s: float) -> str:
        self.played += sounds
        # As GET DATA does: it stops reading at max_digits.
        return (self.keys.pop(0) or "")[:max_digits]

    async def say_moment(self, moment: datetime, zone: str) -> None:
        self.said.append((moment, zone))

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def queue_log(self, queue: str, event: str, *data: str) -> None:
        self.events.append((queue, event, *data))

    async def hangup(self) -> None:
        pass


class Sounds:
    def sound(self, prompt_id: str) -> str:
        return f"svi/{prompt_id}"


class OneCrisis:
    def __init__(self, mode: str) -> None:
        self.mode = mode

    def current(self, scope, territory, branch, at):  # type: ignore[no-untyped-def]
        return [CrisisPlayback("crise-42", "svi/crise/42", self.mode)]  # type: ignore[arg-type]


def services(settings: Settings, at: datetime = OPEN, **extra) -> FlowServices:  # type: ignore[no-untyped-def]
    return FlowServices(settings, Router(settings), Sounds(), clock=lambda: at, **extra)


async def test_caller_presses_1_and_is_queued_in_the_incident_branch(settings: Settings) -> None:
    caller = ScriptedCaller("0145678912", ["1"])
    result = await run_flow(services(settings), caller)
    assert (result.action, result.queue, result.priority) == ("queue", "support", 0)
    assert caller.variables["SVI_QUEUE"] == "support"
    assert caller.variables["SVI_BRANCHE"] == "incident"
    assert caller.played == ["svi/accueil"]
    assert ("support", "SVI_BRANCH", "incident") in caller.events
    assert list(caller.variables)[-1] == FLOW_DONE


async def test_wrong_digit_then_timeout_follow_the_invalid_and_no_input_branches(
    settings: Settings,
) -> None:
    caller = ScriptedCaller("0145678912", ["9", None, "2"])
    result = await run_flow(services(settings), caller)
    assert caller.played == [
        "svi/accueil",
        "svi/choix_invalide", "svi/accueil",
        "svi/sans_reponse", "svi/accueil",
    ]  # fmt: skip
    assert result.variables["branche"] == "demande"


async def test_retries_exhausted_go_to_the_failure_branch(settings: Settings) -> None:
    caller = ScriptedCaller("0145678912", [None, "7", None])
    result = await run_flow(services(settings), caller)
    assert (result.action, result.variables["branche"]) == ("queue", "defaut")


async def test_ticket_number_is_recorded_for_the_call(settings: Settings) -> None:
    caller = ScriptedCaller("0145678912", ["3", "12", "20261234"])
    result = await run_flow(services(settings), caller)
    assert caller.played == ["svi/accueil", "svi/saisie_ticket", "svi/ticket_invalide",
                             "svi/saisie_ticket"]  # fmt: skip
    assert caller.variables["SVI_TICKET"] == "20261234"
    assert ("NONE", "SVI_TICKET", "20261234", "") in caller.events
    assert result.variables["branche"] == "suivi"


async def test_an_over_long_ticket_number_is_refused_not_cut_to_the_maximum(
    settings: Settings,
) -> None:
    over_long = "2026123456789012345678901234567"  # 31 digits; the maximum is 12
    caller = ScriptedCaller("0145678912", ["3", over_long, "20261234"])
    result = await run_flow(services(settings), caller)
    assert caller.played[2:] == ["svi/ticket_invalide", "svi/saisie_ticket"]
    assert caller.variables["SVI_TICKET"] == "20261234"
    tickets = [event for event in caller.events if event[1] == "SVI_TICKET"]
    assert tickets == [("NONE", "SVI_TICKET", "20261234", "")]
    assert result.variables["branche"] == "suivi"


async def test_no_ticket_number_typed_retries_then_goes_on_without_a_ticket(
    settings: Settings,
) -> None:
    caller = ScriptedCaller("0145678912", ["3", None, None])
    result = await run_flow(services(settings), caller)
    assert caller.played == ["svi/accueil", "svi/saisie_ticket", "svi/ticket_sans_reponse",
                             "svi/saisie_ticket"]  # fmt: skip
    assert "SVI_TICKET" not in caller.variables
    assert (result.action, result.variables["branche"]) == ("queue", "suivi")


async def test_vip_skips_the_menu_and_is_queued_with_priority(settings: Settings) -> None:
    vip = VipDirectory([DirectoryEntry("+33612345678", "Dupont", level="VIP")])
    caller = ScriptedCaller("06 12 34 56 78", [])
    result = await run_flow(services(settings, directory=lambda: vip), caller)
    assert (result.action, result.priority) == ("queue", settings.vip.queue_priority)
    assert caller.variables["QUEUE_PRIO"] == str(settings.vip.queue_priority)
    assert "svi/accueil" not in caller.played
    assert ("NONE", "SVI_VIP", "VIP") in caller.events
    assert ("NONE", "SVI_CALL", "FR", "P0") in caller.events


async def test_p0_period_outside_its_dates_goes_through_the_menu(settings: Settings) -> None:
    december = {"start": date(2026, 12, 1), "end": date(2026, 12, 31)}
    p0 = VipDirectory([DirectoryEntry("+33145678912", "Compta", level="P0", **december)])
    caller = ScriptedCaller("0145678912", ["1"])
    result = await run_flow(services(settings, directory=lambda: p0), caller)
    assert result.priority == 0
    assert caller.played == ["svi/accueil"]


async def test_out_of_hours_caller_hears_the_closed_message_and_the_next_opening(
    settings: Settings,
) -> None:
    caller = ScriptedCaller("0145678912", [])
    at = datetime(2026, 7, 10, 19, 0, tzinfo=PARIS)  # Friday evening
    result = await run_flow(services(settings, at), caller)
    assert result.action == "hangup"
    assert caller.played == ["svi/ferme", "svi/prochaine_ouverture"]
    assert caller.said == [(datetime(2026, 7, 13, 8, 0, tzinfo=PARIS), "Europe/Paris")]
    assert ("NONE", "SVI_CLOSED", "desk_hours", "") in caller.events
    assert "SVI_QUEUE" not in caller.variables
    assert caller.variables[FLOW_DONE] == "1"


async def test_martinique_caller_outside_its_window_hears_its_local_time(
    settings: Settings,
) -> None:
    caller = ScriptedCaller("0696 20 12 34", [])
    at = datetime(2026, 7, 8, 12, 0, tzinfo=PARIS)
    result = await run_flow(services(settings, at), caller)
    assert result.action == "hangup"
    assert caller.played == ["svi/territoire_ferme", "svi/prochaine_ouverture"]
    [(moment, zone)] = caller.said
    assert (moment.isoformat(), zone) == ("2026-07-08T08:00:00-04:00", "America/Martinique")
    assert ("NONE", "SVI_TERRITORY_CLOSED", "territory_hours", "MQ") in caller.events


async def test_information_crisis_message_then_menu(settings: Settings) -> None:
    caller = ScriptedCaller("0145678912", ["1"])
    result = await run_flow(services(settings, crisis=OneCrisis("information")), caller)
    assert caller.played == ["svi/crise/42", "svi/accueil"]
    assert result.action == "queue"


async def test_deterrence_message_hangs_up_and_is_journaled(settings: Settings) -> None:
    caller = ScriptedCaller("0145678912", [])
    result = await run_flow(services(settings, crisis=OneCrisis("dissuasion")), caller)
    assert (result.action, caller.played) == ("hangup", ["svi/crise/42"])
    assert ("NONE", "SVI_DETERRED", "crise-42") in caller.events


async def test_a_loop_in_the_graph_stops_without_marking_the_flow_done(settings: Settings) -> None:
    data = settings.model_dump(by_alias=True)
    data["svi"]["noeuds"]["crise"]["suite"] = "routage"
    looping = Settings.model_validate(data)
    caller = ScriptedCaller("0145678912", [])
    with pytest.raises(FlowError):
        await run_flow(services(looping), caller)
    assert FLOW_DONE not in caller.variables


class HeldLink:
    """The service's AMI link as the engine sees it; writes wait until ``release`` is set."""

    def __init__(self, connected: bool = True, fails: frozenset[str] = frozenset()) -> None:
        self.connected = connected
        self.fails = fails
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.lines: list[tuple[str, str, str, str]] = []

    async def queue_log(
        self, queue: str, uniqueid: str, event: str, message: str = "",
        *, deadline_s: float | None = None,
    ) -> None:  # fmt: skip
        self.started.set()
        await self.release.wait()
        if event in self.fails:
            raise ConnectionError("AMI perdue")
        self.lines.append((queue, uniqueid, event, message))


async def test_the_first_prompt_does_not_wait_for_the_journal(settings: Settings) -> None:
    link = HeldLink()
    caller = ScriptedCaller("0145678912", ["1"])
    walk = asyncio.create_task(run_flow(services(settings, journal=link), caller))
    async with asyncio.timeout(5):
        await link.started.wait()  # SVI_CALL's write is on its way, and held
    assert caller.played == ["svi/accueil"]  # the caller heard the menu meanwhile
    assert caller.variables["SVI_QUEUE"] == "support"
    assert FLOW_DONE not in caller.variables  # the call is not handed back before the journal
    link.release.set()
    result = await walk
    assert result.action == "queue"
    assert [line[2:] for line in link.lines] == [("SVI_CALL", "FR|"), ("SVI_BRANCH", "incident")]
    assert {line[1] for line in link.lines} == {caller.info.uniqueid}
    assert caller.events == []  # nothing went through the call's channel
    assert list(caller.variables)[-1] == FLOW_DONE


async def test_a_line_the_link_could_not_write_goes_through_the_channel(
    settings: Settings,
) -> None:
    link = HeldLink(fails=frozenset({"SVI_CALL"}))
    link.release.set()
    caller = ScriptedCaller("0145678912", ["1"])
    await run_flow(services(settings, journal=link), caller)
    assert [line[2] for line in link.lines] == ["SVI_BRANCH"]
    assert caller.events == [("NONE", "SVI_CALL", "FR", "")]
    assert list(caller.variables)[-1] == FLOW_DONE


async def test_without_the_link_lines_go_through_the_channel_in_order(settings: Settings) -> None:
    link = HeldLink(connected=False)
    caller = ScriptedCaller("0145678912", ["3", "20261234"])
    await run_flow(services(settings, journal=link), caller)
    assert link.lines == []
    assert [event[1] for event in caller.events] == ["SVI_CALL", "SVI_TICKET", "SVI_BRANCH"]


async def test_a_broken_walk_still_lands_its_journal_and_keeps_its_error(
    settings: Settings,
) -> None:
    data = settings.model_dump(by_alias=True)
    data["svi"]["noeuds"]["crise"]["suite"] = "routage"
    looping = Settings.model_validate(data)
    link = HeldLink()
    link.release.set()
    caller = ScriptedCaller("0145678912", [])
    with pytest.raises(FlowError):
        await run_flow(services(looping, journal=link), caller)
    assert link.lines and all(line[2] == "SVI_CALL" for line in link.lines)
    assert FLOW_DONE not in caller.variables
