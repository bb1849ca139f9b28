"""A reference day of calls (every outcome) and helpers shared by the statistics tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.journal import ImportResult, import_queue_log
from svi_acd.stats.measures import Thresholds
from svi_acd.stats.reports import Report, build_report
from tests.stats.queue_logs import QueueLog, epoch

DAY = date(2026, 10, 14)  # a Wednesday, Paris summer time (UTC+2)
THRESHOLDS = Thresholds(short_abandon_s=5, service_level_s=30)
N = "NONE"


def reference_day() -> QueueLog:
    """19 calls on 2026-10-14, one per outcome or edge; expected figures in test_reports.py."""
    log = QueueLog()
    nine, ten = epoch("2026-10-14 09:00:00"), epoch("2026-10-14 10:00:00")
    a, b = "PJSIP/agent-a", "PJSIP/agent-b"
    enter = (2, "support", N, "ENTERQUEUE", "", "")

    def queued(caller: str) -> tuple:
        return (2, "support", N, "ENTERQUEUE", "", caller)

    calls = {
        "c01": (nine, [(0, N, N, "SVI_CALL", "FR", ""), (1, N, N, "SVI_BRANCH", "incident"),
                       queued("0612345601"), (14, "support", a, "CONNECT", 12, "c01b", 4),
                       (314, "support", a, "COMPLETECALLER", 12, 300, 1)]),
        "c02": (nine + 60, [(0, N, N, "SVI_CALL", "FR", ""), (1, N, N, "SVI_BRANCH", "incident"),
                            queued("0612345602"), (22, "support", N, "ABANDON", 1, 1, 20)]),
        "c03": (nine + 120, [(0, N, N, "SVI_CALL", "GF", ""), queued("0594000003"),
                             (4, "support", N, "ABANDON", 1, 1, 2)]),
        "c04": (nine + 180, [(0, N, N, "SVI_CALL", "FR", ""), (1, N, N, "SVI_BRANCH", "demande"),
                             enter, (62, "support", N, "EXITWITHTIMEOUT", 1, 1, 60)]),
        "c05": (nine + 240, [enter, (5, "support", N, "EXITEMPTY", 1, 1, 3)]),
        "c06": (nine + 300, [enter, (17, "support", N, "EXITWITHKEY", "1", 1, 1, 15)]),
        "c07": (nine + 360, [(0, N, N, "SVI_CALL", "FR", ""), (1, N, N, "SVI_CLOSED")]),
        "c08": (nine + 420, [(0, N, N, "SVI_CALL", "MQ", ""), (1, N, N, "SVI_TERRITORY_CLOSED")]),
        "c09": (nine + 480, [(0, N, N, "SVI_CALL", "FR", ""), (9, N, N, "SVI_DETERRED")]),
        "c10": (nine + 540, [(0, N, N, "SVI_CALL", "FR", ""), enter,
                             (92, "support", N, "EXITWITHTIMEOUT", 1, 1, 90),
                             (92, N, N, "SVI_OVERFLOW", "attente_max", "messagerie")]),
        "c11": (ten, [(0, N, N, "SVI_CALL", "RE", ""), enter,
                      (20, "support", a, "RINGNOANSWER", 15000),
                      (42, "support", b, "CONNECT", 40, "c11b", 5),
                      (142, "support", b, "COMPLETEAGENT", 40, 100, 1)]),
        "c12": (ten + 60, [(0, N, N, "SVI_CALL", "FR", ""), enter,
                           (7, "support", a, "CONNECT", 5, "c12b", 2),
                           (67, "support", a, "BLINDTRANSFER", "2000", "interne", 5, 60, 1)]),
        "c13": (ten + 120, [(0, N, N, "SVI_CALL", "FR", ""), (0, N, N, "SVI_VIP", "VIP"),
                            (2, "vip", N, "ENTERQUEUE", "", "0145000013"),
                            (5, "vip", b, "CONNECT", 3, "c13b", 1),
                            (205, "vip", b, "COMPLETECALLER", 3, 200, 1)]),
        "c14": (ten + 180, [(0, N, N, "SVI_CALL", "FR", ""), (1, N, N, "SVI_BRANCH", "suivi"),
                            (1, N, N, "SVI_TICKET", "T100", "P1"), enter,
                            (27, "support", a, "CONNECT", 25, "c14b", 3),
                            (77, "support", a, "COMPLETECALLER", 25, 50, 1)]),
        "c15": (ten + 240, [(0, N, N, "SVI_CALL", "FR", ""), (1, N, N, "SVI_TICKET", "T200", "P1"),
                            enter, (10, "support", b, "CONNECT", 8, "c15b", 2),
                            (40, "support", b, "ATTENDEDTRANSFER", "BRIDGE", "x", 8, 30, 1),
                            (41, "niveau2", N, "ENTERQUEUE", "", ""),
                            (91, "niveau2", N, "ABANDON", 1, 1, 50)]),
        "c16": (ten + 300, [(0, N, N, "SVI_CALL", "FR", ""), enter, (30, N, N, "SVI_CALLBACK"),
                            (32, "support", N, "EXITWITHKEY", "5", 1, 1, 30)]),
        "c17": (ten + 360, [(0, N, N, "SVI_CALL", "FR", ""), (3, N, N, "SVI_BRANCH", "demande")]),
        "c18": (ten + 420, [(0, N, N, "SVI_CALL", "FR", "P0"), (1, N, N, "SVI_TICKET", "T300", ""),
                            enter, (6, "support", N, "ABANDON", 1, 1, 4)]),
        "c19": (ten + 480, [(0, N, N, "SVI_CALL", "FR", ""), enter]),
    }  # fmt: skip
    for callid, (start, steps) in calls.items():
        log.call(start, callid, *steps)
    # Agent and queue events without a call are part of a real queue_log too.
    log.add(nine - 60, N, "support", a, "ADDMEMBER", "")
    log.add(nine - 30, N, "support", a, "PAUSE", "ticket")
    log.lines.sort(key=lambda text: int(text.split("|", 1)[0]))
    return log


@pytest.fixture
def reference_log(tmp_path: Path) -> Path:
    return reference_day().write(tmp_path / "queue_log")


async def load(engine: AsyncEngine, path: Path, **options: object) -> ImportResult:
    return await import_queue_log(engine, path, THRESHOLDS, **options)  # type: ignore[arg-type]


async def report(
    engine: AsyncEngine, by: str, start: date = DAY, end: date = DAY, **kw: object
) -> Report:
    thresholds = kw.get("thresholds", THRESHOLDS)
    return await build_report(engine, by, start, end, thresholds)  # type: ignore[arg-type]


def by_key(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}
