"""Overflow (« débordement ») rules, evaluated on the board: pure decisions, no I/O.

A rule watches one queue and fires on a condition; the first enabled rule that fires for a
caller wins (configuration order). Two moments:

- at entry (``at_entry``), before a caller joins the queue: a caller who would overflow at once
  never waits (``aucun_agent``, ``aucun_agent_libre``, ``longueur_max``, ``appels_par_agent``);
- while waiting (``while_waiting``), every tick, for each caller: ``attente_max_s`` on their own
  wait, the others on the queue's state, where the threshold of ``aucun_agent`` and
  ``aucun_agent_libre`` is a grace in seconds (``aucun_agent_libre`` without a grace acts at
  entry only), and ``longueur_max`` / ``appels_par_agent`` pick
  the callers beyond the allowed length, last arrived first (the earlier ones keep their turn).

A callback needs a number to call back: for a withheld number such a rule is skipped. Only
callers whose path follows a withdrawal (``WaitingCaller.movable``) are moved while waiting:
one queued by another dialplan path is left to be served.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from svi_acd.acd.board import QueueView, WaitingCaller
from svi_acd.config.model import OverflowRule


@dataclass(frozen=True)
class Overflow:
    rule: OverflowRule
    caller: WaitingCaller | None  # None at entry: the caller is not in the queue yet

    @property
    def destination(self) -> str:
        target = self.rule.destination
        detail = target.queue or target.prompt or target.mailbox or ""
        return f"{target.type}:{detail}" if detail else target.type


def rule_json(rule: OverflowRule, enabled: bool) -> dict[str, object]:
    """A rule as the API, the CLI and the pages show it (French keys)."""
    target = rule.destination
    return {
        "nom": rule.name,
        "file": rule.queue,
        "condition": rule.condition,
        "seuil": rule.threshold,
        "destination": target.type,
        "cible": target.queue or target.prompt or target.mailbox,
        "actif": enabled,
    }


def _allowed_length(rule: OverflowRule, queue: QueueView) -> float:
    """How many callers the queue may hold under a length rule."""
    if rule.condition == "longueur_max":
        return rule.threshold
    return rule.threshold * queue.agents_staffed  # appels_par_agent


def _applicable(
    rule: OverflowRule, queue: str, caller_number: str, enabled: Mapping[str, bool]
) -> bool:
    if rule.queue != queue or not enabled.get(rule.name, rule.enabled):
        return False
    return not (rule.destination.type == "rappel" and not caller_number)


def at_entry(
    rules: Iterable[OverflowRule],
    queue: QueueView,
    caller_number: str,
    enabled: Mapping[str, bool] | None = None,
) -> Overflow | None:
    """The rule that keeps a new caller out of ``queue``, if any."""
    switches = enabled or {}
    for rule in rules:
        if not _applicable(rule, queue.name, caller_number, switches):
            continue
        if rule.condition == "aucun_agent":
            fires = queue.agents_logged_in == 0
        elif rule.condition == "aucun_agent_libre":
            fires = queue.agents_available == 0
        elif rule.condition in ("longueur_max", "appels_par_agent"):
            fires = len(queue.waiting) + 1 > _allowed_length(rule, queue)
        else:  # attente_max_s: only a caller who waited can exceed it
            fires = rule.threshold <= 0
        if fires:
            return Overflow(rule, None)
    return None


def while_waiting(
    rules: Iterable[OverflowRule],
    queue: QueueView,
    now: float,
    enabled: Mapping[str, bool] | None = None,
    exempt: frozenset[str] = frozenset(),
) -> list[Overflow]:
    """For each caller of ``queue`` a rule moves now, that rule (one per caller)."""
    switches = enabled or {}
    decided: dict[str, Overflow] = {}
    callers = [caller for caller in queue.waiting if caller.uniqueid not in exempt]
    by_arrival = sorted(queue.waiting, key=lambda caller: caller.position)
    for rule in rules:
        if rule.queue != queue.name or not switches.get(rule.name, rule.enabled):
            continue
        if rule.condition in ("longueur_max", "appels_par_agent"):
            allowed = _allowed_length(rule, queue)
            keep = max(0, math.floor(allowed)) if math.isfinite(allowed) else len(by_arrival)
            beyond = {caller.uniqueid for caller in by_arrival[keep:]}
        for caller in callers:
            if caller.uniqueid in decided or caller.callback or not caller.movable:
                continue
            if rule.destination.type == "rappel" and not caller.caller:
                continue
            waited = caller.waited_s(now)
            if rule.condition == "attente_max_s":
                fires = waited >= rule.threshold
            elif rule.condition == "aucun_agent":
                fires = queue.agents_logged_in == 0 and waited >= rule.threshold
            elif rule.condition == "aucun_agent_libre":
                # Without a grace this rule acts at entry only: a caller whose call is ringing
                # an agent must not be taken away because that agent is no longer free.
                fires = 0 < rule.threshold <= waited and queue.agents_available == 0
            else:
                fires = caller.uniqueid in beyond
            if fires:
                decided[caller.uniqueid] = Overflow(rule, caller)
    return list(decided.values())
