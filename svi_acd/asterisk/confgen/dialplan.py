"""extensions.conf: the single support number, its static fallback, and a pure-dialplan menu.

The support number hands each call to the service over FastAGI. The service sets
``SVI_FLOW_DONE=1`` when it has walked the whole flow; anything else (service down:
AGISTATUS=FAILURE; service killed mid-call: AGISTATUS=SUCCESS without the mark; guard timer
fired) sends the caller to the default queue after a default message: the line never goes
silent. A completed flow may leave ``SVI_QUEUE`` (and ``QUEUE_PRIO``) for the dialplan to queue
the caller, so the FastAGI connection does not stay open while the caller waits.

With the AsyncAGI runtime (``SVI_AGI_URL = agi:async``) Asterisk would wait in silence for a
service that is not there, so the call first checks the service's heartbeat, a global the
service sets over AMI every few seconds: older than ``SVI_HEARTBEAT_MAX_S``, the caller goes
straight to the fallback (journaled as ``NOSERVICE``). An AsyncAGI call then runs under a short
lease (``TIMEOUT(absolute)`` = ``SVI_ASYNC_LEASE_S``) that the service renews over AMI while it
drives the call: a service killed mid-call loses its callers to the fallback within the lease,
not after the whole flow guard. The checks are keyed on the URL, so one dialplan serves both
runtimes (the lab's tests switch with one global).
"""

from __future__ import annotations

from dataclasses import dataclass

from svi_acd.asterisk.contract import (
    AFTER_FLOW_CONTEXT,
    AGENTS_CONTEXT,
    ANSWERED_ARG,
    ASYNC_AGI_URL,
    CALLBACK_CONTEXT,
    CALLBACK_DIAL_EXTEN,
    CALLBACK_DIAL_VARIABLE,
    CALLBACK_FROM_VARIABLE,
    CALLBACK_PLACE_EXTEN,
    CALLBACK_POSITION_VARIABLE,
    CALLBACK_PRIORITY_VARIABLE,
    CALLBACK_QUEUE_VARIABLE,
    CALLBACK_RING_VARIABLE,
    CALLBACK_WAIT_VARIABLE,
    CALLER_CONTEXT,
    DEFAULT_QUEUE_VARIABLE,
    DIALPLAN_MENU_EXTEN,
    EVENT_CALLBACK_RESULT,
    EVENT_FALLBACK,
    FALLBACK_CONTEXT,
    FLOW_DONE,
    HEARTBEAT_VARIABLE,
    LEASE_VARIABLE,
    MENU_CONTEXT,
    NO_SERVICE_STATUS,
    OVERFLOW_CONTEXT,
    OVERFLOW_MAILBOX_VARIABLE,
    OVERFLOW_QUEUE_VARIABLE,
    OVERFLOW_SOUND_VARIABLE,
    OVERFLOW_VARIABLE,
    QUEUE_CONTEXT,
    QUEUE_VARIABLE,
    SUPPORT_EXTEN,
)
from svi_acd.config.flow import MenuNode
from svi_acd.config.model import Settings

HEARTBEAT_MAX_AGE_S = 10
ASYNC_LEASE_S = 30


@dataclass(frozen=True)
class DialplanOptions:
    support_exten: str = SUPPORT_EXTEN
    menu_exten: str = DIALPLAN_MENU_EXTEN
    # French sounds shipped by asterisk-core-sounds-fr-gsm.
    fallback_sound: str = "one-moment-please"
    menu_sound: str = "vm-options"
    invalid_sound: str = "pm-invalid-option"
    goodbye_sound: str = "vm-goodbye"
    flow_guard_s: int | None = None  # None: the longest crisis message + 2 minutes of menus
    extra_contexts: tuple[str, ...] = ()  # dialplan text added by later code (flow engine)


def flow_guard_s(settings: Settings, options: DialplanOptions) -> int:
    return options.flow_guard_s or settings.crisis.max_duration_s + 120


def support_agi_url(settings: Settings, fastagi_url: str) -> str:
    """What the support number runs: the FastAGI URL, or ``agi:async`` for the AsyncAGI runtime."""
    return ASYNC_AGI_URL if settings.service.agi_runtime == "asyncagi" else fastagi_url


def extensions_conf(settings: Settings, options: DialplanOptions, agi_url: str) -> str:
    parts = [
        _header(settings, options, agi_url),
        _support_number(options),
        _fallback(),
        _after_flow(),
        _queue(),
        _overflow(),
        _callback(),
        _dialplan_menu(settings, options),
        f"[{AGENTS_CONTEXT}]\n; agents receive calls only; they dial nothing.\n",
        *options.extra_contexts,
    ]
    return "\n".join(parts)


def _header(settings: Settings, options: DialplanOptions, agi_url: str) -> str:
    return f"""[general]
static = yes
writeprotect = yes
clearglobalvars = yes

[globals]
SVI_AGI_URL = {agi_url}
{DEFAULT_QUEUE_VARIABLE} = {settings.default_queue}
SVI_FALLBACK_SOUND = {options.fallback_sound}
SVI_FLOW_GUARD_S = {flow_guard_s(settings, options)}
SVI_HEARTBEAT_MAX_S = {HEARTBEAT_MAX_AGE_S}
{LEASE_VARIABLE} = {ASYNC_LEASE_S}
"""


def _support_number(options: DialplanOptions) -> str:
    return f"""[{CALLER_CONTEXT}]
; The single support number: the service's flow, or the static fallback.
exten => {options.support_exten},1,NoOp(Numéro unique : appel de ${{CALLERID(num)}})
 ; Answered here, as the pure-dialplan menu does: the service's first command is then a prompt.
 same => n,Answer()
 same => n,Set({FLOW_DONE}=)
 same => n,GotoIf($["${{SVI_AGI_URL}}" != "{ASYNC_AGI_URL}"]?flux)
 ; AsyncAGI: without a fresh heartbeat nobody would drive the call.
 same => n,GotoIf($[${{EPOCH}} - 0${{{HEARTBEAT_VARIABLE}}} > ${{SVI_HEARTBEAT_MAX_S}}]?absent)
 same => n,Set(TIMEOUT(absolute)=${{{LEASE_VARIABLE}}})
 same => n,Goto(agi)
 same => n(flux),Set(TIMEOUT(absolute)=${{SVI_FLOW_GUARD_S}})
 same => n(agi),AGI(${{SVI_AGI_URL}},{ANSWERED_ARG})
 same => n,Set(TIMEOUT(absolute)=0)
 same => n,GotoIf($["${{{FLOW_DONE}}}" = "1"]?{AFTER_FLOW_CONTEXT},s,1)
 same => n,Goto({FALLBACK_CONTEXT},s,1)
 same => n(absent),Set(AGISTATUS={NO_SERVICE_STATUS})
 same => n,Goto({FALLBACK_CONTEXT},s,1)

; The same menu in pure dialplan, to compare against the service (benchmark).
exten => {options.menu_exten},1,Goto({MENU_CONTEXT},s,1)

; The guard timer fired while the service held the call.
exten => T,1,Goto({FALLBACK_CONTEXT},s,1)
"""


def _fallback() -> str:
    return f"""[{FALLBACK_CONTEXT}]
; The service did not finish the flow: default message, then the default queue.
exten => s,1,Set(TIMEOUT(absolute)=0)
 same => n,Verbose(1,SVI secours : AGISTATUS=${{AGISTATUS}} {FLOW_DONE}=${{{FLOW_DONE}}})
 same => n,QueueLog(${{{DEFAULT_QUEUE_VARIABLE}}},${{UNIQUEID}},NONE,{EVENT_FALLBACK},${{AGISTATUS}})
 same => n,Answer()
 same => n,Playback(${{SVI_FALLBACK_SOUND}})
 same => n,Set({QUEUE_VARIABLE}=${{{DEFAULT_QUEUE_VARIABLE}}})
 same => n,Goto({QUEUE_CONTEXT},s,1)
"""  # noqa: E501


def _after_flow() -> str:
    return f"""[{AFTER_FLOW_CONTEXT}]
; The service finished its flow; it may leave {QUEUE_VARIABLE} (and QUEUE_PRIO) to queue the
; caller, or {OVERFLOW_VARIABLE} (an overflow destination decided at entry).
exten => s,1,GotoIf($["${{{OVERFLOW_VARIABLE}}}" != ""]?{OVERFLOW_CONTEXT},${{{OVERFLOW_VARIABLE}}},1)
 same => n,GotoIf($["${{{QUEUE_VARIABLE}}}" = ""]?fin)
 same => n,Goto({QUEUE_CONTEXT},s,1)
 same => n(fin),Hangup()
"""  # noqa: E501


def _queue() -> str:
    return f"""[{QUEUE_CONTEXT}]
; Every path that queues a caller comes here, so that every one follows a withdrawal by the
; service's overflow rules (QueueWithdrawCaller): the service moves only callers waiting here.
exten => s,1,Set({QUEUE_VARIABLE}=${{IF($["${{{QUEUE_VARIABLE}}}" = ""]?${{{DEFAULT_QUEUE_VARIABLE}}}:${{{QUEUE_VARIABLE}}})}})
 same => n,Queue(${{{QUEUE_VARIABLE}}})
 same => n,GotoIf($["${{QUEUESTATUS}}" = "WITHDRAW"]?{OVERFLOW_CONTEXT},${{QUEUE_WITHDRAW_INFO}},1)
 same => n,Hangup()
"""  # noqa: E501


def _overflow() -> str:
    return f"""[{OVERFLOW_CONTEXT}]
; Overflow destinations; the service sets {OVERFLOW_QUEUE_VARIABLE} / _SON / _BOITE on the channel.
exten => file,1,Set({QUEUE_VARIABLE}=${{{OVERFLOW_QUEUE_VARIABLE}}})
 same => n,Set({OVERFLOW_VARIABLE}=)
 same => n,Goto({QUEUE_CONTEXT},s,1)
exten => message,1,Playback(${{{OVERFLOW_SOUND_VARIABLE}}})
 same => n,Hangup()
exten => rappel,1,Playback(${{{OVERFLOW_SOUND_VARIABLE}}})
 same => n,Hangup()
exten => messagerie,1,Playback(${{{OVERFLOW_SOUND_VARIABLE}}})
 same => n,VoiceMail(${{{OVERFLOW_MAILBOX_VARIABLE}}},s)
 same => n,Hangup()
; A destination this dialplan does not know: the caller is not dropped, they wait again.
exten => i,1,Playback(${{SVI_FALLBACK_SOUND}})
 same => n,Set({QUEUE_VARIABLE}=${{{DEFAULT_QUEUE_VARIABLE}}})
 same => n,Goto({QUEUE_CONTEXT},s,1)
"""


def _callback() -> str:
    place, queue = CALLBACK_PLACE_EXTEN, f"${{{CALLBACK_QUEUE_VARIABLE}}}"
    return f"""[{CALLBACK_CONTEXT}]
; A callback keeps the caller's place: this half waits in the queue at their position...
exten => {place},1,Set(QUEUE_PRIO=${{{CALLBACK_PRIORITY_VARIABLE}}})
 same => n,Queue({queue},,,,${{{CALLBACK_WAIT_VARIABLE}}},,,,${{{CALLBACK_POSITION_VARIABLE}}})
 same => n,Hangup()
; ...and when an agent takes it, this half calls the caller back.
; The result is journaled when this half hangs up, whoever hangs up first.
exten => {CALLBACK_DIAL_EXTEN},1,Set(CHANNEL(hangup_handler_push)={CALLBACK_CONTEXT},resultat,1)
 same => n,Dial(${{{CALLBACK_DIAL_VARIABLE}}},${{{CALLBACK_RING_VARIABLE}}})
 same => n,Hangup()
exten => resultat,1,QueueLog({queue},${{{CALLBACK_FROM_VARIABLE}}},NONE,{EVENT_CALLBACK_RESULT},${{DIALSTATUS}})
 same => n,Return()
"""  # noqa: E501


def _first_menu(settings: Settings) -> MenuNode | None:
    for node in settings.flow.nodes.values():
        if isinstance(node, MenuNode):
            return node
    return None


def _dialplan_menu(settings: Settings, options: DialplanOptions) -> str:
    menu = _first_menu(settings)
    digits = sorted(menu.choices) if menu else ["1", "2", "3", "4"]
    timeout_s = menu.timeout_s if menu else 5.0
    attempts = menu.attempts if menu else 3
    lines = [
        f"[{MENU_CONTEXT}]",
        "; Every choice leads to the default queue: the benchmark compares signalling cost.",
        "exten => s,1,Answer()",
        " same => n,Set(MENU_ESSAIS=0)",
        f" same => n(menu),Background({options.menu_sound})",
        f" same => n,WaitExten({timeout_s:g})",
    ]
    for digit in digits:
        target = menu.choices[digit] if menu else f"choix_{digit}"
        lines += [
            f"exten => {digit},1,Set(SVI_BRANCHE={target})",
            f" same => n,Goto({QUEUE_CONTEXT},s,1)",
        ]
    for retry_exten, sound in (("i", options.invalid_sound), ("t", None)):
        lines.append(f"exten => {retry_exten},1,Set(MENU_ESSAIS=$[${{MENU_ESSAIS}} + 1])")
        if sound:
            lines.append(f" same => n,Playback({sound})")
        lines += [
            f" same => n,GotoIf($[${{MENU_ESSAIS}} >= {attempts}]?echec,1)",
            " same => n,Goto(s,menu)",
        ]
    lines += [
        "exten => echec,1,Set(SVI_BRANCHE=defaut)",
        f" same => n,Goto({QUEUE_CONTEXT},s,1)",
    ]
    return "\n".join(lines) + "\n"
