"""The contract between the service and the dialplan it generates: every name both sides use.

The dialplan (``extensions.conf``) and the service (flow engine, ACD, AsyncAGI sweep,
statistics) meet on contexts, extensions, channel variables and custom queue_log events. A
name written on one side only breaks calls silently (a ``Goto`` to a context that does not
exist hangs the caller up), so each is defined here once and imported by both.
"""

from __future__ import annotations

from typing import Final

# -- contexts and extensions ---------------------------------------------------------------
CALLER_CONTEXT: Final = "appelants"  # where the operator's trunk and the lab's callers land
AGENTS_CONTEXT: Final = "agents"  # agents' phones: they receive calls only
SUPPORT_EXTEN: Final = "3000"  # the single support number
DIALPLAN_MENU_EXTEN: Final = "3001"  # the same menu in pure dialplan (benchmark)
FALLBACK_CONTEXT: Final = "svi-secours"  # the service did not finish: default message, queue
AFTER_FLOW_CONTEXT: Final = "svi-suite"  # the service finished: queue or overflow as it said
# Every path of ours that puts a caller in a queue goes through this one context, which
# follows a withdrawal by the overflow rules. The ACD moves only callers waiting from it.
QUEUE_CONTEXT: Final = "svi-file"
OVERFLOW_CONTEXT: Final = "svi-debordement"  # one extension per overflow destination type
CALLBACK_CONTEXT: Final = "svi-rappel"
CALLBACK_PLACE_EXTEN: Final = "place"  # the placeholder's half, waiting in the queue
CALLBACK_DIAL_EXTEN: Final = "appel"  # the half that calls the caller back
MENU_CONTEXT: Final = "menu-plan"

# -- how the service is reached --------------------------------------------------------------
ASYNC_AGI_URL: Final = "agi:async"
# The dialplan answered before handing the call over: AGI(url,repondu) or agi://…/svi?repondu.
ANSWERED_ARG: Final = "repondu"

# -- channel variables -----------------------------------------------------------------------
FLOW_DONE: Final = "SVI_FLOW_DONE"  # "1", set last by the service: anything else = fallback
QUEUE_VARIABLE: Final = "SVI_QUEUE"  # the queue the caller joins (read by QUEUE_CONTEXT)
QUEUE_PRIORITY_VARIABLE: Final = "QUEUE_PRIO"  # app_queue reads it at Queue()
OVERFLOW_VARIABLE: Final = "SVI_DEBORD"  # an overflow decided at entry: its destination type
OVERFLOW_SOUND_VARIABLE: Final = "SVI_DEBORD_SON"
OVERFLOW_MAILBOX_VARIABLE: Final = "SVI_DEBORD_BOITE"
OVERFLOW_QUEUE_VARIABLE: Final = "SVI_DEBORD_FILE"
# The overflow destination types (config: destination.type) are the extensions of
# OVERFLOW_CONTEXT and the WithdrawInfo the ACD gives QueueWithdrawCaller.
# Globals (inherited by every channel)
HEARTBEAT_VARIABLE: Final = "SVI_HEARTBEAT"  # Asterisk's epoch when the service last said so
LEASE_VARIABLE: Final = "SVI_ASYNC_LEASE_S"  # read by the service at login
DEFAULT_QUEUE_VARIABLE: Final = "SVI_DEFAULT_QUEUE"
# A callback's placeholder (inherited by both halves of its Local channel: "__" prefix).
CALLBACK_QUEUE_VARIABLE: Final = "SVI_RAPPEL_FILE"
CALLBACK_POSITION_VARIABLE: Final = "SVI_RAPPEL_POSITION"
CALLBACK_PRIORITY_VARIABLE: Final = "SVI_RAPPEL_PRIO"
CALLBACK_DIAL_VARIABLE: Final = "SVI_RAPPEL_CANAL"
CALLBACK_RING_VARIABLE: Final = "SVI_RAPPEL_SONNERIE"
CALLBACK_FROM_VARIABLE: Final = "SVI_RAPPEL_DE"  # the caller's uniqueid
CALLBACK_WAIT_VARIABLE: Final = "SVI_RAPPEL_ATTENTE"
# The placeholder's uniqueid is the caller's plus this (and ";2" for the half in the queue).
CALLBACK_SUFFIX: Final = "-rappel"

# -- custom queue_log events -----------------------------------------------------------------
NO_QUEUE: Final = "NONE"  # queue_log's queue column for calls that never reached a queue
EVENT_CALL: Final = "SVI_CALL"  # territory|priority
EVENT_BRANCH: Final = "SVI_BRANCH"  # branch
EVENT_CLOSED: Final = "SVI_CLOSED"  # reason|holiday
EVENT_TERRITORY_CLOSED: Final = "SVI_TERRITORY_CLOSED"  # reason|territory
EVENT_DETERRED: Final = "SVI_DETERRED"  # crisis message id
EVENT_OVERFLOW: Final = "SVI_OVERFLOW"  # rule|destination
EVENT_CALLBACK: Final = "SVI_CALLBACK"
EVENT_VIP: Final = "SVI_VIP"  # VIP or P0
EVENT_TICKET: Final = "SVI_TICKET"  # ticket|parent ticket
EVENT_FALLBACK: Final = "SVI_FALLBACK"  # AGISTATUS, or NO_SERVICE_STATUS (written by the dialplan)
EVENT_CALLBACK_RESULT: Final = "SVI_CALLBACK_RESULT"  # DIALSTATUS (written by the dialplan)
NO_SERVICE_STATUS: Final = "NOSERVICE"  # the AsyncAGI heartbeat was stale
# The events the service writes for a call, which statistics read.
SERVICE_EVENTS: Final = frozenset(
    {
        EVENT_CALL,
        EVENT_BRANCH,
        EVENT_CLOSED,
        EVENT_TERRITORY_CLOSED,
        EVENT_DETERRED,
        EVENT_OVERFLOW,
        EVENT_CALLBACK,
        EVENT_VIP,
        EVENT_TICKET,
    }
)
