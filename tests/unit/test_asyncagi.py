"""AsyncAGI bookkeeping against a scripted AMI server: replies keyed by CommandID, hang-ups,
link loss, the recovery sweep, the heartbeat and the lease. The lab covers real calls in
tests/e2e/test_asyncagi.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from urllib.parse import quote

import pytest

from svi_acd.asterisk.ami import AmiConnection, AmiCredentials, AmiOptions
from svi_acd.asterisk.confgen.files import AsteriskOptions, AsteriskPaths, generate
from svi_acd.config.model import Settings
from svi_acd.ivr.agi import AgiSession
from svi_acd.ivr.asyncagi import EVENT_CLASSES, EVENT_NAMES, AsyncAgiRuntime
from tests.unit.fake_ami import FakeAmi, frame

CHANNEL = "PJSIP/appelants-00000001"
UNIQUEID = "1795462646.1"


def env(caller: str = "0140000001", name: str = "Françoise", uniqueid: str = UNIQUEID) -> str:
    lines = [
        "agi_request: async", f"agi_channel: {CHANNEL}", f"agi_uniqueid: {uniqueid}",
        f"agi_callerid: {caller}", f"agi_calleridname: {name}", "agi_extension: 3000", "", "",
    ]  # fmt: skip
    return quote("\n".join(lines))


def start_event(uniqueid: str = UNIQUEID, **env_fields: str) -> bytes:
    return frame(Event="AsyncAGIStart", Channel=CHANNEL, Uniqueid=uniqueid,
                 Env=env(uniqueid=uniqueid, **env_fields))  # fmt: skip


def exec_event(command_id: str, result: str, uniqueid: str = UNIQUEID) -> bytes:
    return frame(Event="AsyncAGIExec", Channel=CHANNEL, Uniqueid=uniqueid,
                 Result=quote(result + "\n"), CommandId=command_id)  # fmt: skip


def end_event(uniqueid: str = UNIQUEID) -> bytes:
    return frame(Event="AsyncAGIEnd", Channel=CHANNEL, Uniqueid=uniqueid)


class Calls:
    """What the handler saw, and a way for a test to hold a call in its flow."""

    def __init__(self) -> None:
        self.sessions: list[AgiSession] = []
        self.outcomes: asyncio.Queue[str] = asyncio.Queue()
        self.script: Callable[[AgiSession], object] | None = None

    async def handler(self, session: AgiSession) -> None:
        self.sessions.append(session)
        try:
            assert self.script is not None
            result = self.script(session)
            if asyncio.iscoroutine(result):
                await result
        except BaseException as exc:
            self.outcomes.put_nowait(type(exc).__name__)
            raise
        self.outcomes.put_nowait("done")

    async def outcome(self) -> str:
        return await asyncio.wait_for(self.outcomes.get(), 5)


def auto_exec(results: dict[str, str]) -> Callable[[FakeAmi, dict[str, str]], object]:
    """An AGI responder: queue notice, then the command's result (default ``200 result=0``)."""

    async def respond(fake: FakeAmi, action: dict[str, str]) -> None:
        await fake.reply(action, Message="Added AGI command to queue")
        command = action["Command"]
        if command in results or "*" not in results:
            result = results.get(command, "200 result=0")
            await fake.send(exec_event(action["CommandID"], result))

    return respond


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    server.port = await server.start()  # type: ignore[attr-defined]
    server.variables["SVI_ASYNC_LEASE_S"] = "30"
    server.on("AGI", auto_exec({}))
    yield server
    await server.stop()


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
async def runtime(fake: FakeAmi, calls: Calls) -> AsyncIterator[AsyncAgiRuntime]:
    options = AmiOptions("127.0.0.1", fake.port, AmiCredentials("svi", "secret"),  # type: ignore[attr-defined]
                         event_classes=EVENT_CLASSES, event_names=EVENT_NAMES,
                         backoff_initial_s=0.05)  # fmt: skip
    ami = AmiConnection(options)
    runtime = AsyncAgiRuntime(ami, calls.handler, 30.0, heartbeat_interval_s=0.1,
                              sweep_grace_s=0.05)  # fmt: skip
    runtime.start()
    ami.start()
    await runtime.wait_ready(5)
    yield runtime
    await runtime.stop()
    await ami.close()


def agi_commands(fake: FakeAmi) -> list[str]:
    return [r.action["Command"] for r in fake.actions("AGI")]


async def test_replies_are_matched_by_command_id_and_unknown_ids_are_ignored(
    fake: FakeAmi, runtime: AsyncAgiRuntime, calls: Calls
) -> None:
    fake.on("AGI", auto_exec({"*": ""}))  # queue notices only: the test sends the results

    async def flow(session: AgiSession) -> None:
        reply = await session.command("GET VARIABLE CALLERID(num)")
        assert reply.result == "1" and reply.rest == "(0140000001)"

    calls.script = flow
    await fake.send(start_event())
    command = await fake.wait_action("AGI")
    await fake.send(
        exec_event("inconnu/1", "200 result=0"),  # a CommandID nobody waits for
        exec_event(command["CommandID"], "200 result=1 (9999)", uniqueid="1795462646.9"),
        exec_event(command["CommandID"], "200 result=1 (0140000001)"),
    )
    assert await calls.outcome() == "done"
    assert calls.sessions[0].trace == [("GET VARIABLE CALLERID(num)", "200 result=1 (0140000001)")]


async def test_caller_details_come_from_the_url_encoded_environment(
    fake: FakeAmi, runtime: AsyncAgiRuntime, calls: Calls
) -> None:
    calls.script = lambda session: None
    await fake.send(start_event(caller="0596123456", name="Hélène Désirée"))
    assert await calls.outcome() == "done"
    info = calls.sessions[0].info
    assert (info.uniqueid, info.caller_number) == (UNIQUEID, "0596123456")


async def test_a_finished_flow_leaves_the_agi_so_the_dialplan_goes_on(
    fake: FakeAmi, runtime: AsyncAgiRuntime, calls: Calls
) -> None:
    calls.script = lambda session: session.set_variable("SVI_FLOW_DONE", "1")
    await fake.send(start_event())
    assert await calls.outcome() == "done"
    await fake.wait_action("AGI", count=2)
    assert agi_commands(fake) == ['SET VARIABLE SVI_FLOW_DONE "1"', "ASYNCAGI BREAK"]
    assert fake.actions("Redirect") == []
    await fake.send(end_event())
    await fake.wait_for(lambda: not runtime.calls)


async def test_a_failed_flow_sends_the_caller_to_the_fallback_at_once(
    fake: FakeAmi, runtime: AsyncAgiRuntime, calls: Calls
) -> None:
    def broken(session: AgiSession) -> None:
        raise RuntimeError("bug in the flow")

    calls.script = broken
    await fake.send(start_event())
    assert await calls.outcome() == "RuntimeError"
    redirect = await fake.wait_action("Redirect")
    assert (redirect["Channel"], redirect["Context"], redirect["Exten"]) == (
        CHANNEL, "svi-secours", "s",
    )  # fmt: skip
    assert "ASYNCAGI BREAK" not in agi_commands(fake)


async def test_async_agi_end_turns_the_pending_command_into_a_hang_up(
    fake: FakeAmi, runtime: AsyncAgiRuntime, calls: Calls
) -> None:
    fake.on("AGI", auto_exec({"*": ""}))
    calls.script = lambda session: session.play(["accueil"])
    await fake.send(start_event())
    await fake.wait_action("AGI")
    await fake.send(end_event())
    assert await calls.outcome() == "CallerHungUp"
    assert runtime.calls == {}
    await runtime.ami.ping()  # anything the runtime sent after the end has arrived by now
    assert fake.actions("Redirect") == []
    assert agi_commands(fake) == ['STREAM FILE accueil "0123456789*#"']


async def test_link_loss_abandons_the_call_and_the_sweep_hands_it_to_the_fallback(
    fake: FakeAmi, runtime: AsyncAgiRuntime, calls: Calls
) -> None:
    fake.on("AGI", auto_exec({"*": ""}))  # the prompt plays on: no result before the cut

    async def channels(fake: FakeAmi, action: dict[str, str]) -> None:
        await fake.reply(action, EventList="start", Message="Channels will follow")
        await fake.send(
            frame(Event="CoreShowChannel", ActionID=action["ActionID"], Channel=CHANNEL,
                  Uniqueid=UNIQUEID, Context="appelants", Application="QueueLog"),
            frame(Event="CoreShowChannel", ActionID=action["ActionID"], Channel="PJSIP/a-2",
                  Uniqueid="2.2", Context="svi-secours", Application="Queue"),
            frame(Event="CoreShowChannelsComplete", ActionID=action["ActionID"],
                  EventList="Complete", ListItems=2),
        )  # fmt: skip

    fake.on("CoreShowChannels", channels)
    calls.script = lambda session: session.play(["accueil"])
    await fake.send(start_event())
    await fake.wait_action("AGI")
    await fake.drop()
    assert await calls.outcome() in ("CancelledError", "AsyncAgiLinkLost", "AmiConnectionLost")
    redirect = await fake.wait_action("Redirect")
    assert redirect["Channel"] == CHANNEL and redirect["Context"] == "svi-secours"
    await asyncio.wait_for(_until(lambda: runtime.swept == 1), 5)
    assert len(fake.actions("Redirect")) == 1  # the queued caller is left alone


async def test_the_sweep_leaves_alone_the_channels_a_session_drives(
    fake: FakeAmi, runtime: AsyncAgiRuntime, calls: Calls
) -> None:
    fake.on("AGI", auto_exec({"*": ""}))
    release = asyncio.Event()

    async def hold(session: AgiSession) -> None:
        await release.wait()

    fake.on("CoreShowChannels", channels_in_agi([(CHANNEL, UNIQUEID)]))
    calls.script = hold
    await fake.send(start_event())
    await asyncio.wait_for(_until(lambda: bool(calls.sessions)), 5)
    assert await runtime.sweep() == 0
    assert fake.actions("Redirect") == []
    release.set()
    assert await calls.outcome() == "done"


def channels_in_agi(
    channels: list[tuple[str, str]],
) -> Callable[[FakeAmi, dict[str, str]], object]:
    """A CoreShowChannels responder listing ``(channel, uniqueid)`` in the support context."""

    async def respond(fake: FakeAmi, action: dict[str, str]) -> None:
        await fake.reply(action, EventList="start")
        await fake.send(
            *(frame(Event="CoreShowChannel", ActionID=action["ActionID"], Channel=channel,
                    Uniqueid=uniqueid, Context="appelants", Application="QueueLog")
              for channel, uniqueid in channels),
            frame(Event="CoreShowChannelsComplete", ActionID=action["ActionID"],
                  EventList="Complete"),
        )  # fmt: skip

    return respond


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():  # polled: the handler has no event to await
        await asyncio.sleep(0.01)


async def test_the_heartbeat_is_asterisk_own_clock(fake: FakeAmi, runtime: AsyncAgiRuntime) -> None:
    assert fake.variables["SVI_HEARTBEAT"] == str(int(fake.asterisk_time))
    assert runtime.lease_s == 30


async def test_the_lease_is_renewed_while_the_service_drives_the_call_only(
    fake: FakeAmi, runtime: AsyncAgiRuntime, calls: Calls
) -> None:
    runtime.lease_s = 1  # renewed every third of a second, checked every quarter
    release = asyncio.Event()

    async def hold(session: AgiSession) -> None:
        await release.wait()

    def renewals() -> list[dict[str, str]]:
        return [r.action for r in fake.actions("Setvar") if r.action.get("Channel") == CHANNEL]

    calls.script = hold
    await fake.send(start_event())
    await fake.wait_for(lambda: len(renewals()) >= 2)
    assert renewals()[0]["Variable"] == "TIMEOUT(absolute)" and renewals()[0]["Value"] == "1"
    release.set()
    assert await calls.outcome() == "done"
    await fake.wait_action("AGI")  # ASYNCAGI BREAK
    renewed = len(renewals())
    pings = len(fake.actions("Ping"))
    await fake.wait_for(lambda: len(fake.actions("Ping")) >= pings + 3)  # ~3 more ticks
    assert len(renewals()) == renewed  # never after the call went back to the dialplan


async def test_stop_turns_the_heartbeat_off_and_hands_driven_calls_back(
    fake: FakeAmi, runtime: AsyncAgiRuntime, calls: Calls
) -> None:
    fake.on("AGI", auto_exec({"*": ""}))
    fake.on("CoreShowChannels", channels_in_agi([(CHANNEL, UNIQUEID)]))
    calls.script = lambda session: session.play(["accueil"])
    await fake.send(start_event())
    await fake.wait_action("AGI")
    await runtime.stop()
    assert await calls.outcome() == "CancelledError"
    assert fake.variables["SVI_HEARTBEAT"] == "0"
    redirect = await fake.wait_action("Redirect")
    assert redirect["Channel"] == CHANNEL


# -- the dialplan's side of the contract -------------------------------------------------------
def lab_files(settings: Settings, runtime: str) -> dict[str, str]:
    service = settings.service.model_copy(update={"agi_runtime": runtime})
    options = AsteriskOptions(paths=AsteriskPaths("/srv/lab"), ami_user="svi", ami_secret="s3cret")
    return generate(settings.model_copy(update={"service": service}), options)


def test_asyncagi_callers_are_handed_over_only_behind_a_fresh_heartbeat_and_a_lease(
    settings: Settings,
) -> None:
    files = lab_files(settings, "asyncagi")
    dialplan = files["extensions.conf"]
    assert "SVI_AGI_URL = agi:async" in dialplan
    assert "SVI_HEARTBEAT_MAX_S = 10" in dialplan and "SVI_ASYNC_LEASE_S = 30" in dialplan
    support = dialplan.split("exten => 3000,1,")[1].split("\n\n")[0]
    agi = support.index("AGI(${SVI_AGI_URL},repondu)")
    assert support.index("${EPOCH} - 0${SVI_HEARTBEAT} > ${SVI_HEARTBEAT_MAX_S}") < agi
    assert support.index("Set(TIMEOUT(absolute)=${SVI_ASYNC_LEASE_S})") < agi
    assert "(absent),Set(AGISTATUS=NOSERVICE)" in support  # journaled by the fallback
    # The service reads AsyncAGI events and sends AGI actions: the "agi" class both ways.
    manager = files["manager.conf"]
    assert "read = " in manager and manager.split("read = ")[1].split("\n")[0].endswith(",agi")
    assert manager.split("write = ")[1].split("\n")[0].endswith(",agi")


def test_fastagi_keeps_its_url_and_the_long_flow_guard(settings: Settings) -> None:
    support = lab_files(settings, "fastagi")["extensions.conf"].split("exten => 3000,1,")[1]
    assert "SVI_AGI_URL = agi://" in lab_files(settings, "fastagi")["extensions.conf"]
    # The heartbeat check only applies to agi:async; FastAGI calls skip to the guard.
    assert '"${SVI_AGI_URL}" != "agi:async"]?flux)' in support
    assert "(flux),Set(TIMEOUT(absolute)=${SVI_FLOW_GUARD_S})" in support
