"""One AMI connection for the whole service: login awaited, deadlines, back-off, no blind replay.

A small client on asyncio streams rather than panoramisk 1.4: fixing panoramisk would mean
overriding every connection-level method of its ``Manager`` and ``AMIProtocol`` (connect,
connection_made, login, ping, connection_lost, close, send_awaiting_actions, data_received,
handle_message) plus its ``Action`` completion guesses, keeping only its header parsing. Its
``connect()`` resolves before login, it reconnects at a fixed delay and replays unanswered
actions after reconnecting (an ``Originate`` may run twice), decodes each TCP chunk alone
(a split "é" is dropped), never checks ping replies, and guesses when an answer is complete
(``QueueAdd`` and synchronous ``Originate`` never resolve, ``AGI`` never yields the result).

Here:
- ``start()`` runs a supervisor task: connect, read the greeting, log in (waiting for the
  answer), install event filters, then serve until the link breaks; reconnect with exponential
  back-off (``status`` says "reconnexion dans N s").
- every action runs under a deadline; the answer is matched by ActionID; an event list
  (``EventList: start`` … ``Complete``) is collected only when the caller asks for one;
- an action already written when the link breaks is never sent again unless it is idempotent
  (``Ping``, ``Getvar``, ``Setvar``, ``CoreShowChannels``…): others fail with
  ``AmiConnectionLost`` (it may have run). Actions not yet written wait for the next login
  within their deadline.
- a ping every few seconds, checked under a deadline: a silent peer is dropped and redialled.
- events are subscribed by class at login (``Events: agi,call``) and narrowed with ``Filter``
  to the names the service handles.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from svi_acd.asterisk.frames import (
    END_OF_MESSAGE,
    GREETING_PREFIX,
    AmiMessage,
    FieldValue,
    decode_message,
    format_action,
)
from svi_acd.asterisk.link import (
    SECRET_ENV,
    USER_ENV,
    AmiActionError,
    AmiConnectionLost,
    AmiCredentials,
    AmiError,
    AmiLoginError,
    AmiOptions,
    AmiProtocolError,
    AmiStatus,
    AmiTimeout,
    State,
)

__all__ = [
    "AmiActionError",
    "AmiConnection",
    "AmiConnectionLost",
    "AmiCredentials",
    "AmiError",
    "AmiLoginError",
    "AmiOptions",
    "AmiProtocolError",
    "AmiStatus",
    "AmiTimeout",
]

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1024 * 1024
# Sending these twice does no harm: they may be resent after a reconnection.
IDEMPOTENT_ACTIONS = frozenset(
    {
        "ping", "getvar", "setvar", "coreshowchannels", "corestatus", "coresettings",
        "queuestatus", "queuesummary", "status", "listcommands", "extensionstate",
        "devicestatelist", "pjsipshowendpoints",
    }
)  # fmt: skip

EventCallback = Callable[[AmiMessage], None]
LoginHook = Callable[[], Awaitable[None]]
DisconnectHook = Callable[[str], None]


@dataclass(eq=False)
class _Pending:
    name: str
    future: asyncio.Future[None]
    wants_list: bool
    response: AmiMessage | None = None
    events: list[AmiMessage] = field(default_factory=list)


@dataclass(eq=False)
class _Link:
    """One TCP connection: its reader task, the actions waiting for an answer, its hooks."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    pending: dict[str, _Pending] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    ready: bool = False  # logged in, filters installed
    broken: str | None = None  # why the link broke (set by the reader at once)
    greeted: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, AmiError):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(exc, TimeoutError):
        return "délai dépassé"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class AmiConnection:
    """The service's AMI link. ``start()``, then ``action()``; ``close()`` at the end."""

    def __init__(self, options: AmiOptions) -> None:
        self.options = options
        self._ids = itertools.count(1)
        self._id_prefix = f"svi-{secrets.token_hex(3)}"
        self._link: _Link | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._wake = asyncio.Event()
        self._subscribers: dict[str, list[EventCallback]] = {}
        self._login_hooks: list[LoginHook] = []
        self._disconnect_hooks: list[DisconnectHook] = []
        self._state: State = "arrêté"
        self._retry_at: float | None = None
        self._last_error: str | None = None
        self._connected_since: datetime | None = None
        self._pong: tuple[float, float] | None = None  # (Asterisk's Timestamp, our monotonic)
        self.logins = 0

    # -- subscriptions ----------------------------------------------------------------------
    def on_event(self, name: str, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback`` for each event ``name`` (``*``: every event); returns an undo."""
        callbacks = self._subscribers.setdefault(name.lower(), [])
        callbacks.append(callback)
        return lambda: callbacks.remove(callback) if callback in callbacks else None

    def on_login(self, hook: LoginHook) -> None:
        """Run ``hook`` (as a task) after every successful login, first and reconnections."""
        self._login_hooks.append(hook)

    def on_disconnect(self, hook: DisconnectHook) -> None:
        """Call ``hook(reason)`` when a logged-in link breaks."""
        self._disconnect_hooks.append(hook)

    # -- state ------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        link = self._link
        return link is not None and link.ready and link.broken is None

    @property
    def status(self) -> AmiStatus:
        retry_in = None
        if self._retry_at is not None:
            retry_in = max(0.0, self._retry_at - time.monotonic())
        return AmiStatus(self._state, retry_in, self._last_error, self._connected_since)

    def asterisk_time(self) -> float:
        """Asterisk's clock (epoch s) as of the last Pong, advanced by our monotonic clock."""
        if self._pong is None:
            return time.time()
        stamp, at = self._pong
        return stamp + (time.monotonic() - at)

    def _set_state(self, state: State, retry_at: float | None = None) -> None:
        self._state, self._retry_at = state, retry_at
        self._wake.set()
        self._wake = asyncio.Event()

    async def wait_connected(self, timeout_s: float) -> None:
        """Wait until logged in; AmiTimeout (with the status) otherwise."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._usable_link()
        except TimeoutError:
            raise AmiTimeout(
                f"AMI non connectée après {timeout_s:g} s : {self.status.text}"
            ) from None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        if self._supervisor is None:
            self._closing = False
            self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")

    async def close(self) -> None:
        """Log off politely, stop reconnecting, fail whatever still waits."""
        self._closing = True
        link = self._link
        if link is not None and link.ready:
            with contextlib.suppress(AmiError, OSError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._request(link, "Logoff", {})
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        self._set_state("arrêté")

    async def _supervise(self) -> None:
        delay = self.options.backoff_initial_s
        while not self._closing:
            self._set_state("connexion")
            logins = self.logins
            try:
                await self._connect_and_serve()
            except (AmiError, OSError, TimeoutError, EOFError) as exc:
                self._last_error = _describe(exc)
            except Exception as exc:  # a bug must not stop the reconnections
                log.exception("AMI : erreur inattendue sur la connexion")
                self._last_error = _describe(exc)
            if self._closing:
                break
            if self.logins > logins:
                delay = self.options.backoff_initial_s
            self._set_state("reconnexion", time.monotonic() + delay)
            log.warning("AMI %s", self.status.text)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.options.backoff_max_s)

    async def _connect_and_serve(self) -> None:
        options = self.options
        async with asyncio.timeout(options.connect_deadline_s):
            reader, writer = await asyncio.open_connection(
                options.host, options.port, limit=MAX_MESSAGE_BYTES
            )
        link = _Link(reader, writer)
        self._link = link
        reading = asyncio.create_task(self._read_loop(link), name="ami-reader")
        pinging: asyncio.Task[None] | None = None
        try:
            await self._log_in(link)
            pinging = asyncio.create_task(self._ping_loop(link), name="ami-ping")
            done, _ = await asyncio.wait({reading, pinging}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # raises what broke the link
            raise AmiConnectionLost("connexion AMI terminée")
        finally:
            for task in (reading, pinging):
                if task is not None:
                    task.cancel()
            await asyncio.gather(reading, *([pinging] if pinging else []), return_exceptions=True)
            self._tear_down(link)

    async def _log_in(self, link: _Link) -> None:
        options = self.options
        try:
            async with asyncio.timeout(options.connect_deadline_s):
                await self._log_in_steps(link)
        except TimeoutError:
            raise AmiTimeout(
                f"pas de réponse à la connexion AMI en {options.connect_deadline_s:g} s"
            ) from None
        link.ready = True
        self.logins += 1
        self._last_error = None
        self._connected_since = datetime.now().astimezone()
        self._set_state("connecté")
        log.info("AMI connectée à %s:%s", options.host, options.port)
        for hook in self._login_hooks:
            task = asyncio.create_task(self._run_hook(hook), name="ami-login-hook")
            link.tasks.add(task)
            task.add_done_callback(link.tasks.discard)

    async def _log_in_steps(self, link: _Link) -> None:
        options = self.options
        await link.greeted
        classes = ",".join(options.event_classes) or "off"
        login = await self._request(
            link,
            "Login",
            {"Username": options.credentials.username, "Secret": options.credentials.secret,
             "Events": classes},
        )  # fmt: skip
        assert login.response is not None
        if login.response.is_error:
            raise AmiLoginError(
                f"identifiants AMI refusés pour « {options.credentials.username} » "
                f"({login.response.message}) : vérifiez {USER_ENV} et {SECRET_ENV}"
            )
        if options.event_names:
            names = "|".join(options.event_names)
            # Whitelist: every other event of the subscribed classes is dropped by Asterisk.
            await self._request(
                link, "Filter", {"Operation": "Add", "Filter": f"Event: ({names})[[:space:]]"}
            )
        pong = await self._request(link, "Ping", {})
        self._note_pong(pong.response)

    async def _run_hook(self, hook: LoginHook) -> None:
        try:
            await hook()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("AMI : erreur dans une tâche lancée après la connexion")

    def _tear_down(self, link: _Link) -> None:
        was_ready = link.ready
        link.ready = False
        if self._link is link:
            self._link = None
        self._connected_since = None
        link.writer.transport.abort()  # a dead peer must not hold us on close
        reason = link.broken or "connexion AMI fermée"
        self._fail_pending(link, reason)
        for task in list(link.tasks):
            task.cancel()
        if was_ready:
            if not self._closing:
                log.warning("AMI déconnectée : %s", reason)
            for hook in self._disconnect_hooks:
                try:
                    hook(reason)
                except Exception:
                    log.exception("AMI : erreur dans un traitement de déconnexion")
        self._wake.set()
        self._wake = asyncio.Event()

    def _fail_pending(self, link: _Link, reason: str) -> None:
        for pending in list(link.pending.values()):
            if not pending.future.done():
                pending.future.set_exception(
                    AmiConnectionLost(
                        f"connexion AMI perdue avant la réponse à « {pending.name} » ({reason})"
                    )
                )
        link.pending.clear()

    # -- reading ----------------------------------------------------------------------------
    async def _read_loop(self, link: _Link) -> None:
        reader = link.reader
        try:
            greeting = await reader.readline()
            text = greeting.decode("utf-8", errors="replace").strip()
            if not text.startswith(GREETING_PREFIX):
                raise AmiProtocolError(f"ce n'est pas une AMI Asterisk (reçu : {text[:60]!r})")
            link.greeted.set_result(text)
            while True:
                raw = await reader.readuntil(END_OF_MESSAGE)
                message = decode_message(raw)
                if message is None:
                    log.warning("AMI : message illisible ignoré : %r", raw[:200])
                    continue
                self._handle(link, message)
        except asyncio.IncompleteReadError:
            link.broken = "Asterisk a fermé la connexion AMI"
            raise AmiConnectionLost(link.broken) from None
        except asyncio.LimitOverrunError:
            link.broken = f"message AMI de plus de {MAX_MESSAGE_BYTES} octets"
            raise AmiProtocolError(link.broken) from None
        except (AmiError, OSError) as exc:
            link.broken = _describe(exc)
            raise
        finally:
            link.broken = link.broken or "connexion AMI fermée"
            if not link.greeted.done():
                link.greeted.set_exception(AmiConnectionLost(link.broken))
            self._fail_pending(link, link.broken)

    def _handle(self, link: _Link, message: AmiMessage) -> None:
        pending = link.pending.get(message.action_id) if message.action_id else None
        if pending is not None and not pending.future.done():
            if message.is_event:
                if pending.response is not None and pending.wants_list:
                    pending.events.append(message)
                    if message.ends_list:
                        pending.future.set_result(None)
                    return
            elif pending.response is None:
                pending.response = message
                if not (pending.wants_list and message.starts_list):
                    pending.future.set_result(None)
                return
        if message.is_event:
            self._dispatch(message)

    def _dispatch(self, event: AmiMessage) -> None:
        for key in (event.event.lower(), "*"):
            for callback in list(self._subscribers.get(key, ())):
                try:
                    callback(event)
                except Exception:
                    log.exception("AMI : erreur en traitant l'évènement %s", event.event)

    # -- actions ----------------------------------------------------------------------------
    async def _usable_link(self) -> _Link:
        while True:
            if self._closing:
                raise AmiError("connexion AMI fermée (arrêt du service)")
            link = self._link
            if link is not None and link.ready and link.broken is None:
                return link
            await self._wake.wait()

    async def _request(
        self, link: _Link, name: str, fields: Mapping[str, FieldValue], wants_list: bool = False
    ) -> _Pending:
        if link.broken:
            raise AmiConnectionLost(f"connexion AMI perdue ({link.broken})")
        action_id = f"{self._id_prefix}-{next(self._ids)}"
        pending = _Pending(name, asyncio.get_running_loop().create_future(), wants_list)
        link.pending[action_id] = pending
        try:
            link.writer.write(format_action(name, action_id, fields))
            await link.writer.drain()
            await pending.future
            return pending
        except OSError as exc:
            raise AmiConnectionLost(f"écriture AMI impossible ({_describe(exc)})") from exc
        finally:
            link.pending.pop(action_id, None)

    async def _perform(
        self,
        name: str,
        fields: Mapping[str, FieldValue] | None,
        deadline_s: float | None,
        idempotent: bool | None,
        wants_list: bool,
    ) -> _Pending:
        deadline = self.options.action_deadline_s if deadline_s is None else deadline_s
        retry = name.lower() in IDEMPOTENT_ACTIONS if idempotent is None else idempotent
        try:
            async with asyncio.timeout(deadline):
                while True:
                    link = await self._usable_link()
                    try:
                        return await self._request(link, name, fields or {}, wants_list)
                    except AmiConnectionLost:
                        if not retry:
                            raise
                        log.info("AMI : « %s » renvoyée après reconnexion", name)
        except AmiConnectionLost as exc:
            raise AmiConnectionLost(
                f"{exc} ; l'action n'est pas renvoyée (elle a peut-être été exécutée)"
            ) from None
        except TimeoutError:
            raise AmiTimeout(
                f"pas de réponse d'Asterisk à « {name} » en {deadline:g} s "
                f"(AMI : {self.status.text})"
            ) from None

    async def action(
        self,
        name: str,
        fields: Mapping[str, FieldValue] | None = None,
        *,
        deadline_s: float | None = None,
        idempotent: bool | None = None,
        check: bool = True,
    ) -> AmiMessage:
        """Send ``name`` and return Asterisk's response (AmiActionError on ``Response: Error``)."""
        pending = await self._perform(name, fields, deadline_s, idempotent, wants_list=False)
        assert pending.response is not None
        if check and pending.response.is_error:
            raise AmiActionError(name, pending.response)
        return pending.response

    async def action_list(
        self,
        name: str,
        fields: Mapping[str, FieldValue] | None = None,
        *,
        deadline_s: float | None = None,
        idempotent: bool | None = None,
    ) -> list[AmiMessage]:
        """An action answered by an event list: the events, without the final ``…Complete``."""
        pending = await self._perform(name, fields, deadline_s, idempotent, wants_list=True)
        assert pending.response is not None
        if pending.response.is_error:
            raise AmiActionError(name, pending.response)
        return [event for event in pending.events if not event.ends_list]

    # -- the actions the service uses ----------------------------------------------------------
    def _note_pong(self, response: AmiMessage | None) -> None:
        stamp = response.get("Timestamp") if response else ""
        try:
            self._pong = (float(stamp), time.monotonic())
        except ValueError:
            self._pong = (time.time(), time.monotonic())

    async def _ping_loop(self, link: _Link) -> None:
        while True:
            await asyncio.sleep(self.options.ping_interval_s)
            try:
                async with asyncio.timeout(self.options.action_deadline_s):
                    pong = await self._request(link, "Ping", {})
            except TimeoutError:
                link.broken = (
                    f"Asterisk ne répond plus au Ping depuis {self.options.action_deadline_s:g} s"
                )
                raise AmiTimeout(link.broken) from None
            self._note_pong(pong.response)

    async def ping(self) -> float:
        """Check the link; returns Asterisk's clock (epoch seconds)."""
        response = await self.action("Ping")
        self._note_pong(response)
        return self.asterisk_time()

    async def setvar(self, variable: str, value: str, channel: str | None = None) -> None:
        """Set a channel variable, or a global one without ``channel``."""
        fields: dict[str, FieldValue] = {"Variable": variable, "Value": value}
        if channel:
            fields["Channel"] = channel
        await self.action("Setvar", fields)

    async def getvar(self, variable: str, channel: str | None = None) -> str:
        fields: dict[str, FieldValue] = {"Variable": variable}
        if channel:
            fields["Channel"] = channel
        return (await self.action("Getvar", fields)).get("Value")

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        await self.action(
            "Redirect", {"Channel": channel, "Context": context, "Exten": exten,
                         "Priority": priority},
        )  # fmt: skip

    async def core_show_channels(self) -> list[AmiMessage]:
        return await self.action_list("CoreShowChannels")

    async def originate(self, fields: Mapping[str, FieldValue]) -> AmiMessage:
        """Always ``Async: true``: a synchronous Originate holds the answer until the far end
        picks up (or forever); the outcome comes later as an ``OriginateResponse`` event."""
        return await self.action("Originate", {**fields, "Async": "true"}, idempotent=False)

    async def queue_add(
        self, queue: str, interface: str, member_name: str = "", paused: bool = False
    ) -> None:
        fields: dict[str, FieldValue] = {"Queue": queue, "Interface": interface,
                                         "Paused": "true" if paused else "false"}  # fmt: skip
        if member_name:
            fields["MemberName"] = member_name
        await self.action("QueueAdd", fields, idempotent=False)

    async def queue_log(
        self, queue: str, uniqueid: str, event: str, message: str = "",
        *, deadline_s: float | None = None,
    ) -> None:  # fmt: skip
        """One line in app_queue's queue_log, as the dialplan's ``QueueLog()`` writes it.

        Not resent after a reconnection (it may have been written): the caller decides.
        """
        fields: dict[str, FieldValue] = {"Queue": queue, "Event": event, "Uniqueid": uniqueid,
                                         "Interface": "NONE", "Message": message}  # fmt: skip
        await self.action("QueueLog", fields, deadline_s=deadline_s, idempotent=False)

    async def command(self, cli: str, deadline_s: float | None = None) -> list[str]:
        """A CLI command; its output lines."""
        response = await self.action("Command", {"Command": cli}, deadline_s=deadline_s)
        return list(response.all("Output"))
