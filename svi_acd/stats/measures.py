"""What is counted, in SQL, and the published definitions (numerator and denominator each).

Every counter is a SQL aggregate over ``stats_calls`` (``call_measures``); the rollup table and
the reports both use these expressions, so there is one definition of each figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func

from svi_acd.stats.tables import HOURLY_MEASURES, StatsCall


@dataclass(frozen=True, slots=True)
class Thresholds:
    short_abandon_s: int = 5
    service_level_s: int = 30


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def call_measures(thresholds: Thresholds) -> dict[str, ColumnElement[Any]]:
    """The rollup counters as aggregates over ``stats_calls`` (same order as the table)."""
    c = StatsCall
    answered = c.outcome == "answered"
    abandon = c.outcome == "abandon"
    measures: dict[str, ColumnElement[Any]] = {"received": func.count(c.id)}
    for category in ("closed", "territory_closed", "deterred", "callback", "overflow"):
        measures[category] = _count(c.category == category)
    measures.update(
        queued=_count(c.category == "queued"),
        other=_count(c.category == "other"),
        queue_calls=_count(c.queued.is_(True)),
        answered=_count(answered),
        abandoned=_count(abandon & (c.wait_s >= thresholds.short_abandon_s)),
        short_abandoned=_count(abandon & (c.wait_s < thresholds.short_abandon_s)),
        timeout=_count(c.outcome == "timeout"),
        exit_empty=_count(c.outcome == "exit_empty"),
        exit_key=_count(c.outcome == "exit_key"),
        withdrawn=_count(c.outcome == "withdrawn"),
        in_queue=_count(c.outcome == "waiting"),
        answered_in_sl=_count(answered & (c.wait_s <= thresholds.service_level_s)),
        wait_answered_s=func.sum(case((answered, c.wait_s), else_=0)),
        talk_s=func.sum(case((answered, c.talk_s), else_=0)),
        max_wait_s=func.coalesce(func.max(case((c.queued.is_(True), c.wait_s), else_=0)), 0),
        transferred=_count(answered & c.transferred.is_(True)),
        vip=_count(c.priority.is_not(None)),
    )
    assert tuple(measures) == HOURLY_MEASURES
    return measures


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _seconds(total: int, count: int) -> float | None:
    return round(total / count, 1) if count else None


COUNTS = (
    "presented",
    "answered",
    "abandoned",
    "short_abandoned",
    "timeout",
    "exit_empty",
    "exit_key",
    "withdrawn",
    "in_queue",
    "queue_calls",
    "received",
    "closed",
    "territory_closed",
    "deterred",
    "overflow",
    "callback",
    "queued",
    "other",
    "vip",
    "transferred",
)


def figures(sums: dict[str, int]) -> dict[str, Any]:
    """Counts, rates and durations of a report row from its summed counters."""
    presented = sums["queue_calls"] - sums["short_abandoned"]
    values: dict[str, Any] = {"presented": presented}
    values.update({name: int(sums[name]) for name in COUNTS if name != "presented"})
    values.update(
        answer_rate=_ratio(sums["answered"], presented),
        abandon_rate=_ratio(sums["abandoned"], presented),
        service_level=_ratio(sums["answered_in_sl"], sums["answered"]),
        asa_seconds=_seconds(sums["wait_answered_s"], sums["answered"]),
        aht_seconds=_seconds(sums["talk_s"], sums["answered"]),
        max_wait_seconds=int(sums["max_wait_s"]) if sums["queue_calls"] else None,
    )
    return values


def add_sums(total: dict[str, int], row: dict[str, int]) -> None:
    for name in HOURLY_MEASURES:
        if name == "max_wait_s":
            total[name] = max(total.get(name, 0), row[name])
        else:
            total[name] = total.get(name, 0) + row[name]


def definitions(thresholds: Thresholds) -> dict[str, dict[str, str]]:
    """The published definitions, French labels, numerator and denominator of each figure."""
    short, level = thresholds.short_abandon_s, thresholds.service_level_s
    return {
        "received": _d("Appels reçus", "tous les appels connus du journal (un par uniqueid)"),
        "closed": _d("Fermé", "appels reçus hors des horaires du centre (SVI_CLOSED)"),
        "territory_closed": _d(
            "Hors fenêtre du territoire", "appels d'un territoire hors de sa fenêtre"
        ),
        "deterred": _d("Dissuadés", "raccrochés pendant un message de dissuasion (SVI_DETERRED)"),
        "callback": _d("Rappel demandé", "appels ayant demandé à être rappelés (SVI_CALLBACK)"),
        "overflow": _d("Débordés", "appels envoyés vers un débordement (SVI_OVERFLOW)"),
        "queued": _d("Mis en file", "autres appels entrés en file d'attente (ENTERQUEUE)"),
        "other": _d("Autres", "raccrochés dans le SVI avant toute file ou décision"),
        "queue_calls": _d("Appels en file", "appels ayant au moins un ENTERQUEUE"),
        "presented": _d(
            "Appels présentés",
            f"appels en file moins les abandons courts (< {short} s)",
        ),
        "answered": _d("Appels servis", "appels en file mis en relation avec un agent (CONNECT)"),
        "abandoned": _d("Abandons", f"raccroché en attente après au moins {short} s (ABANDON)"),
        "short_abandoned": _d(
            "Abandons courts", f"raccroché en attente en moins de {short} s, hors présentés"
        ),
        "timeout": _d("Délai dépassé", "sortis de la file à l'expiration (EXITWITHTIMEOUT)"),
        "exit_empty": _d("File vide", "sortis faute d'agent joignable (EXITEMPTY)"),
        "exit_key": _d("Sortie par touche", "sortis de la file par une touche (EXITWITHKEY)"),
        "withdrawn": _d(
            "Retirés par débordement",
            "appelants en file envoyés vers un débordement (WITHDRAW) : ni servis ni abandons",
        ),
        "in_queue": _d("En attente", "encore en file (ou fin de l'appel absente du journal)"),
        "vip": _d("VIP / P0", "appels reconnus VIP ou P0"),
        "transferred": _d("Transférés", "appels servis puis transférés par l'agent"),
        "answer_rate": _r("Taux de décroché", "answered", "presented"),
        "abandon_rate": _r("Taux d'abandon", "abandoned", "presented"),
        "service_level": _r(
            "Niveau de service",
            f"appels servis avec une attente ≤ {level} s",
            "answered",
        ),
        "asa_seconds": _r("Attente moyenne (s)", "attente des appels servis", "answered"),
        "aht_seconds": _r("Durée moyenne de conversation (s)", "temps de conversation", "answered"),
        "max_wait_seconds": _d("Attente maximale (s)", "plus longue attente d'un appel en file"),
    }


def _d(label: str, description: str) -> dict[str, str]:
    return {"label": label, "description": description}


def _r(label: str, numerator: str, denominator: str) -> dict[str, str]:
    return {
        "label": label,
        "numerator": numerator,
        "denominator": denominator,
        "description": f"{numerator} / {denominator} (null si le dénominateur est 0)",
    }
