"""AsyncAGI runtime: the service drives calls over its AMI connection (``AGI(agi:async)``).

For deployments where Asterisk cannot open connections to the service. Asterisk announces each
call with ``AsyncAGIStart`` (``Env``: the URL-encoded AGI headers); the service sends ``AGI``
actions (Channel, Command, CommandID) and Asterisk answers each with ``AsyncAGIExec``
(CommandID, URL-encoded Result), matched here by CommandID (panoramisk's ``send_agi_command``
never resolves on Asterisk ≥ 12). ``AsyncAGIEnd`` ends the call: a pending command raises
``CallerHungUp``. Each call runs the same ``AgiSession`` as FastAGI, over ``send`` below.

The line never goes silent:
- a heartbeat: the global ``SVI_HEARTBEAT`` is set every few seconds to Asterisk's own clock
  (from the Ping timestamp, so clock skew between hosts does not matter); the dialplan sends
  callers straight to the fallback when it is stale; a clean stop sets it to 0 at once;
- a finished flow releases the channel with ``ASYNCAGI BREAK`` (the dialplan goes on); a
  failed one is redirected to the fallback at once (a running prompt is cut);
- when the AMI link breaks, every call in progress is abandoned (its state is unknown) and,
  after each login, a recovery sweep (``CoreShowChannels``) redirects every channel waiting
  in ``AGI(agi:async)`` (in the support number's context) that no session owns to the
  fallback, including callers left by a previous instance of the service;
- each call runs under a lease (``TIMEOUT(absolute)``, ``SVI_ASYNC_LEASE_S`` in the dialplan)
  that the service renews over AMI every third of it: a service killed mid-call that does not
  come back loses its callers to the fallback (``T`` extension) within the lease. A renewal is
  written only while the call is still driven and the link is up, in the same step as that
  check, so it can never land after the call went back to the dialplan (it would cut the
  caller in the queue), and it is never resent after a reconnection.

Latency (bench/agi_latency.py, lab on 2 cores): a command's round trip is 100 ms p50 with a
silent caller (Asterisk polls the AsyncAGI queue every 100 ms without incoming frames), 30 ms
with a caller sending audio, against 0.2 ms over FastAGI. Only one service instance may drive
an Asterisk this way: every AMI client receives every AsyncAGIStart.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from svi_acd.asterisk.ami import AmiActionError, AmiConnection, AmiConnectionLost, AmiError
from svi_acd.asterisk.contract import (
    CALLER_CONTEXT,
    FALLBACK_CONTEXT,
    HEARTBEAT_VARIABLE,
    LEASE_VARIABLE,
)
from svi_acd.asterisk.frames import AmiMessage, url_decoded
from svi_acd.ivr.agi import AgiSession, call_info, parse_headers
from svi_acd.ivr.session import CallerHungUp

log = logging.getLogger(__name__)

EVENT_CLASSES = ("agi",)
EVENT_NAMES = ("AsyncAGIStart", "AsyncAGIExec", "AsyncAGIEnd")
BREAK_COMMAND = "ASYNCAGI BREAK"
HEARTBEAT_INTERVAL_S = 3.0
SWEEP_GRACE_S = 1.0  # an AsyncAGIStart still on its way may claim a channel the sweep saw
FORGET_AFTER_S = 30.0  # a released call whose AsyncAGIEnd never came is forgotten

CallHandler = Callable[[AgiSession], Awaitable[object]]


class AsyncAgiLinkLost(AmiError):
    """The AMI link broke during the call: the sweep hands the caller to the fallback."""


@dataclass(eq=False)
class AsyncCall:
    """One channel sitting in ``AGI(agi:async)`` and the session driving it."""

    uniqueid: str
    channel: str
    pending: dict[str, asyncio.Future[str]] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    task: asyncio.Task[None] | None = None
    ended: bool = False  # AsyncAGIEnd seen: the channel left the AGI (or hung up)
    released_at: float | None = None  # monotonic time the service let the channel go
    lease_at: float = field(default_factory=time.monotonic)  # last TIMEOUT(absolute) set

    @property
    def driven(self) -> bool:
        return self.released_at is None and not self.ended

    def fail(self, error: BaseException) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()


def first_line(result: str) -> str:
    """The reply line of an AsyncAGIExec ``Result`` (a 520 usage text has several)."""
    for line in result.splitlines():
        if line.strip():
            return line.strip()
    return ""


def headers_from_env(env: str) -> dict[str, str]:
    return parse_headers(url_decoded(env).splitlines())


class AsyncAgiRuntime:
    """Runs ``handler`` for each AsyncAGI call announced on ``ami``."""

    def __init__(
        self,
        ami: AmiConnection,
        handler: CallHandler,
        media_deadline_s: float,
        *,
        heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
        sweep_grace_s: float = SWEEP_GRACE_S,
    ) -> None:
        self.ami = ami
        self.handler = handler
        self.media_deadline_s = media_deadline_s
        self.heartbeat_interval_s = heartbeat_interval_s
        self.sweep_grace_s = sweep_grace_s
        self.calls: dict[str, AsyncCall] = {}  # by uniqueid
        self.swept = 0  # channels handed to the fallback by recovery sweeps
        self.lease_s: int | None = None  # read from the dialplan at login; None: no lease
        self._unsubscribe: list[Callable[[], None]] = []
        self._heartbeat: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = False

    @property
    def active_calls(self) -> int:
        return sum(1 for call in self.calls.values() if call.driven)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Subscribe to the AsyncAGI events; call before ``ami.start()``."""
        handlers = {
            "AsyncAGIStart": self._on_start,
            "AsyncAGIExec": self._on_exec,
            "AsyncAGIEnd": self._on_end,
        }
        self._unsubscribe = [self.ami.on_event(name, h) for name, h in handlers.items()]
        self.ami.on_login(self._after_login)
        self.ami.on_disconnect(self._on_disconnect)
        self._heartbeat = asyncio.create_task(self._beat_forever(), name="asyncagi-heartbeat")

    async def wait_ready(self, timeout_s: float) -> None:
        """Wait for the first heartbeat: from then on the dialplan hands calls to the service."""
        async with asyncio.timeout(timeout_s):
            await self._ready.wait()

    async def stop(self) -> None:
        """Stop taking calls (heartbeat to 0), end every session, hand their callers back."""
        self._stopping = True  # from now on, AsyncAGIStart is left to the final sweep
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self.ami.connected:
            with contextlib.suppress(AmiError):
                await self.ami.setvar(HEARTBEAT_VARIABLE, "0")  # new callers: fallback at once
        tasks = [call.task for call in self.calls.values() if call.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Released calls are leaving the AGI for the flow's own queue: the sweep spares them.
        self.calls = {uid: call for uid, call in self.calls.items() if not call.driven}
        if self.ami.connected:
            # Every other caller still in AGI, driven until now or arrived meanwhile, goes back.
            with contextlib.suppress(AmiError):
                await self.sweep(grace_s=0.0, reason="arrêt du service")
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    # -- heartbeat and recovery ---------------------------------------------------------------
    async def _beat(self) -> None:
        stamp = await self.ami.ping()  # Asterisk's clock: the dialplan compares with ${EPOCH}
        await self.ami.setvar(HEARTBEAT_VARIABLE, str(int(stamp)))
        self._ready.set()

    async def _beat_forever(self) -> None:
        while True:
            tick = self.heartbeat_interval_s
            if self.lease_s:
                tick = min(tick, self.lease_s / 4)  # renew each lease well before it ends
            await asyncio.sleep(tick)
            self._forget_released()
            if not self.ami.connected:
                continue
            await self._renew_leases()
            try:
                await self._beat()
            except AmiError as exc:
                log.warning("battement de cœur AsyncAGI non envoyé : %s", exc)

    async def _renew_leases(self) -> None:
        lease = self.lease_s
        if not lease:
            return
        now = time.monotonic()
        due = [
            call for call in self.calls.values() if call.driven and now - call.lease_at >= lease / 3
        ]
        await asyncio.gather(*(self._renew_lease(call, lease) for call in due))

    async def _renew_lease(self, call: AsyncCall, lease: int) -> None:
        # Check and write in one step (no suspension before the write): see the module notes.
        if not (call.driven and self.ami.connected):
            return
        call.lease_at = time.monotonic()
        fields = {"Channel": call.channel, "Variable": "TIMEOUT(absolute)", "Value": str(lease)}
        try:
            await self.ami.action("Setvar", fields, idempotent=False)
        except AmiError as exc:
            log.info("bail AsyncAGI non renouvelé : %s", exc, extra={"uniqueid": call.uniqueid})

    async def _after_login(self) -> None:
        if self._stopping:
            return
        lease = await self.ami.getvar(LEASE_VARIABLE)
        self.lease_s = int(lease) if lease.isdigit() and int(lease) > 0 else None
        await self._beat()  # before the sweep, so that new callers are taken again at once
        await self.sweep()

    async def sweep(self, grace_s: float | None = None, reason: str = "reprise") -> int:
        """Hand to the fallback every channel waiting in AsyncAGI that no session owns."""
        # A channel still in the support number's context sits in AGI(agi:async): the lines
        # around it take no time. (Its Application is no clue: after an AGI "EXEC QueueLog"
        # Asterisk keeps showing QueueLog there.)
        channels = await self.ami.core_show_channels()
        waiting = {
            event.get("Uniqueid"): event.get("Channel")
            for event in channels
            if event.get("Context") == CALLER_CONTEXT
        }
        orphans = {uid: channel for uid, channel in waiting.items() if uid not in self.calls}
        if not orphans:
            return 0
        await asyncio.sleep(self.sweep_grace_s if grace_s is None else grace_s)
        released = 0
        for uniqueid, channel in orphans.items():
            if uniqueid in self.calls:
                continue
            if await self._to_fallback(AsyncCall(uniqueid, channel)):
                released += 1
                self.swept += 1
        log.warning("%s : %d appel(s) sans session renvoyé(s) vers la file par défaut",
                    reason, released)  # fmt: skip
        return released

    def _forget_released(self) -> None:
        now = time.monotonic()
        for uniqueid, call in list(self.calls.items()):
            if call.released_at is not None and now - call.released_at > FORGET_AFTER_S:
                del self.calls[uniqueid]

    def _on_disconnect(self, reason: str) -> None:
        """The link broke: results of pending commands are lost; abandon every call."""
        calls = list(self.calls.values())
        self.calls.clear()
        for call in calls:
            call.fail(AsyncAgiLinkLost(f"connexion AMI perdue pendant l'appel ({reason})"))
            if call.task is not None:
                call.task.cancel()
        if calls:
            log.warning("AMI perdue : %d appel(s) en cours repris par le plan de secours",
                        len(calls))  # fmt: skip

    # -- events -----------------------------------------------------------------------------
    def _on_start(self, event: AmiMessage) -> None:
        if self._stopping:
            return
        headers = headers_from_env(event.get("Env"))
        uniqueid = event.get("Uniqueid") or headers.get("agi_uniqueid", "")
        channel = event.get("Channel") or headers.get("agi_channel", "")
        previous = self.calls.pop(uniqueid, None)
        if previous is not None:
            previous.ended = True  # its session must not end the new AGI
            previous.fail(CallerHungUp("nouvelle AGI sur le même canal"))
        call = AsyncCall(uniqueid, channel)
        info = call_info({"agi_uniqueid": uniqueid, **headers})
        session = AgiSession(info, lambda text, deadline_s: self._send(call, text, deadline_s),
                             self.media_deadline_s)  # fmt: skip
        self.calls[uniqueid] = call
        call.task = asyncio.create_task(self._run(call, session), name=f"asyncagi-{uniqueid}")

    def _on_exec(self, event: AmiMessage) -> None:
        call = self.calls.get(event.get("Uniqueid"))
        command_id = event.get("CommandId")
        future = call.pending.pop(command_id, None) if call else None
        if future is None:
            log.debug("AsyncAGIExec sans commande en attente (%s) ignoré", command_id)
            return
        if not future.done():
            future.set_result(first_line(url_decoded(event.get("Result"))))

    def _on_end(self, event: AmiMessage) -> None:
        call = self.calls.pop(event.get("Uniqueid"), None)
        if call is None:
            return
        call.ended = True
        call.fail(CallerHungUp("fin de l'AGI : l'appelant a raccroché ou l'appel a été repris"))

    # -- one call ---------------------------------------------------------------------------
    async def _send(self, call: AsyncCall, text: str, deadline_s: float) -> str:
        if call.ended:
            raise CallerHungUp("l'appelant a raccroché")
        command_id = f"{call.uniqueid}/{next(call.counter)}"
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        call.pending[command_id] = future  # before sending: the reply may beat the response
        try:
            async with asyncio.timeout(deadline_s):
                await self.ami.action(
                    "AGI", {"Channel": call.channel, "Command": text, "CommandID": command_id},
                    idempotent=False,
                )  # fmt: skip
                return await future
        except AmiActionError as exc:
            if "does not exist" in exc.response.message:
                raise CallerHungUp(f"canal disparu : {exc.response.message}") from None
            raise
        finally:
            call.pending.pop(command_id, None)

    async def _run(self, call: AsyncCall, session: AgiSession) -> None:
        extra = {"uniqueid": call.uniqueid}
        failed = True
        try:
            await self.handler(session)
            failed = False
        except CallerHungUp as exc:
            # Usually gone; if not (a missing sound also answers -1), the dialplan queues.
            log.info("appelant parti pendant le SVI (%s)", exc, extra=extra)
            failed = False
        except (AsyncAgiLinkLost, AmiConnectionLost) as exc:
            # The command's fate is unknown: the sweep after reconnection takes the caller.
            log.warning("%s ; la reprise renverra l'appel vers la file par défaut", exc,
                        extra=extra)  # fmt: skip
            return
        except (TimeoutError, AmiError) as exc:
            log.warning("Asterisk ne répond plus : %s ; le plan de secours prend l'appel", exc,
                        extra=extra)  # fmt: skip
        except Exception:
            log.exception("erreur dans le SVI ; le plan de secours prend l'appel", extra=extra)
        if call.ended or self._stopping:
            return
        if failed:
            await self._to_fallback(call)
        else:
            await self._release(call)

    async def _release(self, call: AsyncCall) -> None:
        """Leave the AGI so that the dialplan goes on: after the flow, or to the fallback."""
        call.released_at = time.monotonic()
        fields = {"Channel": call.channel, "Command": BREAK_COMMAND,
                  "CommandID": f"{call.uniqueid}/fin"}  # fmt: skip
        try:
            await self.ami.action("AGI", fields, idempotent=False)
        except AmiActionError as exc:
            log.debug("canal déjà parti : %s", exc, extra={"uniqueid": call.uniqueid})
        except AmiError as exc:
            log.warning("fin d'AGI non transmise : %s", exc, extra={"uniqueid": call.uniqueid})

    async def _to_fallback(self, call: AsyncCall) -> bool:
        """Send the caller to the fallback at once (a running prompt is cut)."""
        call.released_at = time.monotonic()
        try:
            await self.ami.redirect(call.channel, FALLBACK_CONTEXT, "s")
            return True
        except AmiActionError as exc:
            log.info("canal %s déjà parti : %s", call.channel, exc.response.message,
                     extra={"uniqueid": call.uniqueid})  # fmt: skip
        except AmiError as exc:
            log.warning("renvoi vers la file par défaut impossible : %s", exc,
                        extra={"uniqueid": call.uniqueid})  # fmt: skip
        return False
