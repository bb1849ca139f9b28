"""Crisis messages in the shipped flow: line and territory messages before the menu, branch
messages once the branch is chosen, VIPs, deterrence after a menu choice, no repeats."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from svi_acd.config.model import Settings
from svi_acd.ivr.engine import run_flow
from svi_acd.ivr.session import ANY_DIGIT
from svi_acd.live.crisis_source import LiveCrisisSource
from svi_acd.live.state import InProcessLiveState
from svi_acd.routing.crisis import CrisisMessage, CrisisSnapshot, Scope
from svi_acd.routing.directory import DirectoryEntry, VipDirectory
from tests.unit.test_flow_engine import ScriptedCaller, services

PARIS_NUMBER = "0145678912"
GUYANE_NUMBER = "0594 30 12 34"


def source(*messages: CrisisMessage) -> LiveCrisisSource:
    live = InProcessLiveState(300)
    live.apply(CrisisSnapshot(1, messages))
    return LiveCrisisSource(live, lambda stem: f"sons/{stem}")


LINE = Scope()


def message(id: int, scope: Scope = LINE, mode: str = "information") -> CrisisMessage:
    return CrisisMessage(id, mode, f"crise-{id}", scope)  # type: ignore[arg-type]


async def test_a_line_message_is_heard_before_the_menu(settings: Settings) -> None:
    caller = ScriptedCaller(PARIS_NUMBER, ["1"])
    result = await run_flow(services(settings, crisis=source(message(1))), caller)
    assert caller.played == ["sons/crise-1", "svi/accueil"]
    assert result.variables["CRISE"] == "crise-1"
    assert result.action == "queue"


async def test_a_branch_message_is_heard_only_by_callers_choosing_that_branch(
    settings: Settings,
) -> None:
    crisis = source(message(4, Scope("branches", ("telephonie",))))
    phone = ScriptedCaller(PARIS_NUMBER, ["4"])
    await run_flow(services(settings, crisis=crisis), phone)
    assert phone.played == ["svi/accueil", "sons/crise-4"]
    incident = ScriptedCaller(PARIS_NUMBER, ["1"])
    await run_flow(services(settings, crisis=crisis), incident)
    assert incident.played == ["svi/accueil"]


async def test_a_territory_message_is_heard_by_callers_from_that_territory(
    settings: Settings,
) -> None:
    crisis = source(message(1), message(2, Scope("territoires", ("GF",))))
    guyane = ScriptedCaller(GUYANE_NUMBER, ["1"])
    afternoon = datetime(2026, 7, 8, 15, 0, tzinfo=ZoneInfo("Europe/Paris"))  # Cayenne open
    await run_flow(services(settings, afternoon, crisis=crisis), guyane)
    assert guyane.played == ["sons/crise-1", "sons/crise-2", "svi/accueil"]
    paris = ScriptedCaller(PARIS_NUMBER, ["1"])
    await run_flow(services(settings, crisis=crisis), paris)
    assert paris.played == ["sons/crise-1", "svi/accueil"]


async def test_deterrence_in_a_branch_hangs_up_after_the_menu_choice(settings: Settings) -> None:
    crisis = source(message(1), message(5, Scope("branches", ("demande",)), "dissuasion"))
    caller = ScriptedCaller(PARIS_NUMBER, ["2"])
    result = await run_flow(services(settings, crisis=crisis), caller)
    assert caller.played == ["sons/crise-1", "svi/accueil", "sons/crise-5"]
    assert result.action == "hangup"
    assert ("NONE", "SVI_DETERRED", "crise-5") in caller.events
    assert "SVI_QUEUE" not in caller.variables
    assert result.variables["CRISE"] == "crise-1,crise-5"


async def test_a_vip_skipping_the_menu_hears_line_and_vip_messages_once(
    settings: Settings,
) -> None:
    vip = VipDirectory([DirectoryEntry("+33612345678", "Dupont", level="VIP")])
    crisis = source(message(1), message(3, Scope("branches", ("vip",))))
    caller = ScriptedCaller("0612345678", [])
    result = await run_flow(services(settings, directory=lambda: vip, crisis=crisis), caller)
    assert caller.played == ["sons/crise-1", "sons/crise-3"]
    assert result.action == "queue"


class Interrupting(ScriptedCaller):
    """Presses a key during the first interruptible prompt."""

    async def play(self, sounds: list[str], escape: str = ANY_DIGIT) -> str | None:
        self.played += sounds
        return self.keys.pop(0) if escape and self.keys else None


async def test_a_choice_pressed_during_an_information_message_answers_the_menu(
    settings: Settings,
) -> None:
    caller = Interrupting(PARIS_NUMBER, ["2"])
    result = await run_flow(services(settings, crisis=source(message(1), message(2))), caller)
    assert caller.played == ["sons/crise-1"]  # the second message and the menu were skipped
    assert result.variables["branche"] == "demande"
