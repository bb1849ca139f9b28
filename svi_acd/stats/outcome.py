"""One outcome per call, folded from its queue_log events (pure, no I/O).

Rules (the published definitions are in the README):

- the call's period is that of its **first** event, in Europe/Paris local time;
- once a call has been answered (CONNECT, or COMPLETE*/transfer when CONNECT is missing) it
  stays answered: a transfer that puts the caller back in a queue, and whatever happens
  there, does not make a second call nor turn it into an abandon; the answering agent is the
  first one; talk time adds up over the agents who talked to the caller;
- before the answer, every queue exit (timeout, key, empty queue) adds its wait to the call's
  wait, so a caller moved from queue A to queue B waited the sum of both; CONNECT adds its
  holdtime; the outcome and queue are those of the last queue visited;
- RINGNOANSWER (an agent's phone rang unanswered) changes nothing but a counter: the call is
  still waiting, and is answered if another agent picks up.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from svi_acd.routing.caller import served_territory
from svi_acd.stats.events import QueueLogEvent

PARIS = ZoneInfo("Europe/Paris")

CLOSED, TERRITORY_CLOSED, DETERRED, OVERFLOW, CALLBACK = 1, 2, 4, 8, 16
FLAG_EVENTS = {
    "SVI_CLOSED": CLOSED,
    "SVI_TERRITORY_CLOSED": TERRITORY_CLOSED,
    "SVI_DETERRED": DETERRED,
    "SVI_OVERFLOW": OVERFLOW,
    "SVI_CALLBACK": CALLBACK,
}
# The received split: the first matching flag wins, then "queued", then "other".
CATEGORIES = (
    (CLOSED, "closed"),
    (TERRITORY_CLOSED, "territory_closed"),
    (DETERRED, "deterred"),
    (CALLBACK, "callback"),
    (OVERFLOW, "overflow"),
)
EXIT_OUTCOMES = {
    "ABANDON": "abandon",
    "EXITWITHTIMEOUT": "timeout",
    "EXITEMPTY": "exit_empty",
    "EXITWITHKEY": "exit_key",
    "WITHDRAW": "withdrawn",  # moved by an overflow rule (SVI_OVERFLOW just before)
}
REFUSED = {"JOINEMPTY": "join_empty", "FULL": "full", "JOINUNAVAIL": "join_empty"}
TRANSFERS = frozenset({"BLINDTRANSFER", "ATTENDEDTRANSFER", "TRANSFER"})
ANSWERED = "answered"


@lru_cache(maxsize=65536)
def hour_periods(hour_start: int) -> tuple[date, str, str]:
    """Paris day, ISO week (``2026-W43``) and month (``2026-10``) of a local hour.

    Paris offsets are whole hours, so a UTC hour is exactly one local hour.
    """
    local = datetime.fromtimestamp(hour_start, PARIS).date()
    year, week, _ = local.isocalendar()
    return local, f"{year}-W{week:02d}", f"{local.year}-{local.month:02d}"


@dataclass(slots=True)
class CallRecord:
    callid: str
    first_epoch: int
    last_epoch: int
    flags: int = 0
    queued: bool = False
    entries: int = 0
    outcome: str | None = None
    queue: str | None = None
    agent: str | None = None
    wait_s: int | None = None
    talk_s: int = 0
    ring_no_answer: int = 0
    transferred: bool = False
    caller: str | None = None
    territory: str | None = None
    priority: str | None = None
    branch: str | None = None
    ticket: str | None = None
    parent_ticket: str | None = None
    overflow_rule: str | None = None

    @property
    def hour_start(self) -> int:
        return self.first_epoch - self.first_epoch % 3600

    @property
    def category(self) -> str:
        for flag, name in CATEGORIES:
            if self.flags & flag:
                return name
        return "queued" if self.queued else "other"

    def row(self) -> dict[str, object]:
        """The ``stats_calls`` columns of this call, by name."""
        return dict(zip(ROW_COLUMNS, self.values(), strict=True))

    def values(self) -> tuple[object, ...]:
        """The ``stats_calls`` columns of this call, in ``ROW_COLUMNS`` order."""
        hour_start = self.first_epoch - self.first_epoch % 3600
        day, week, month = hour_periods(hour_start)
        return (
            self.callid, self.first_epoch, self.last_epoch, self.flags, self.queued,
            self.entries, self.outcome, self.queue, self.agent, self.wait_s, self.talk_s,
            self.ring_no_answer, self.transferred, self.caller,
            # No SVI_CALL (the fallback's calls, older journals): the number tells, by the
            # routing's own rule.
            self.territory or served_territory(self.caller), self.priority,
            self.branch, self.ticket, self.parent_ticket, self.overflow_rule,
            hour_start, day, week, month, self.category,
        )  # fmt: skip


RECORD_FIELDS = tuple(field.name for field in fields(CallRecord))
ROW_COLUMNS = (*RECORD_FIELDS, "hour_start", "day", "week", "month", "category")


def _answer(call: CallRecord, event: QueueLogEvent) -> None:
    call.outcome = ANSWERED
    call.agent = event.agent or None
    call.queue = event.queue or call.queue
    call.wait_s = (call.wait_s or 0) + event.wait


def _queue_event(call: CallRecord, event: QueueLogEvent) -> None:
    name, answered = event.event, call.outcome == ANSWERED
    if name == "ENTERQUEUE":
        call.queued = True
        call.entries += 1
        if not answered:
            call.outcome, call.queue = "waiting", event.queue or None
        if not call.caller:
            call.caller = event.field(1)[:40] or None
    elif name == "CONNECT":
        if not answered:
            _answer(call, event)
    elif name in EXIT_OUTCOMES:
        if not answered:
            call.outcome = EXIT_OUTCOMES[name]
            call.queue = event.queue or call.queue
            call.wait_s = (call.wait_s or 0) + event.wait
    elif name == "RINGNOANSWER":
        if not answered:
            call.ring_no_answer += 1
    elif name in REFUSED:
        if call.outcome is None:
            call.outcome, call.queue = REFUSED[name], event.queue or None
    else:  # COMPLETECALLER, COMPLETEAGENT, transfers
        if not answered:
            _answer(call, event)
        call.talk_s += event.talk
        call.transferred = call.transferred or name in TRANSFERS


def _service_event(call: CallRecord, event: QueueLogEvent) -> None:
    name, first, second = event.event, event.field(0), event.field(1)
    if name in FLAG_EVENTS:
        call.flags |= FLAG_EVENTS[name]
        if name == "SVI_OVERFLOW":
            call.overflow_rule = first[:64] or call.overflow_rule
    elif name == "SVI_CALL":
        call.territory = first[:4] or call.territory
        if second == "P0" and call.priority is None:
            call.priority = "P0"
    elif name == "SVI_VIP":
        call.priority = "VIP" if "VIP" in (first, call.priority) else "P0"
    elif name == "SVI_BRANCH":
        call.branch = first[:64] or call.branch
    elif name == "SVI_TICKET":
        call.ticket = first[:64] or call.ticket
        call.parent_ticket = second[:64] or call.parent_ticket


def apply(call: CallRecord | None, event: QueueLogEvent) -> CallRecord:
    """The call after ``event`` (a new record for the call's first event)."""
    if call is None:
        call = CallRecord(event.callid, event.epoch, event.epoch)
    elif event.epoch < call.first_epoch:
        call.first_epoch = event.epoch
    if event.epoch > call.last_epoch:
        call.last_epoch = event.epoch
    if event.event.startswith("SVI_"):
        _service_event(call, event)
    else:
        _queue_event(call, event)
    return call


def fold(events: list[QueueLogEvent], known: dict[str, CallRecord]) -> dict[str, CallRecord]:
    """Apply events in order on top of the calls already known; returns every touched call."""
    touched: dict[str, CallRecord] = {}
    for event in events:
        callid = event.callid
        call = touched.get(callid) or known.get(callid)
        touched[callid] = apply(call, event)
    return touched
