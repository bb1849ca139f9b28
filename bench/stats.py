"""Statistics import throughput and report time, SQLite and PostgreSQL (prints a table).

Run: .venv/bin/python bench/stats.py [--calls 1000000] [--backends sqlite,postgresql]

Generates a queue_log of N calls, all in one month (October 2026, DST change included) so
that the month report covers every call; the mix mirrors the desk: closed, territory closed,
deterred, menu hang-ups, queued calls answered (some after an unanswered ring, some
transferred), abandoned, short abandons, timeouts with overflow, VIP, tickets. Then, on each
backend: import time (lines/s), a second import of the same file (nothing to do), and the
median of 3 runs of the month report and of other reports.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from svi_acd.db.base import create_engine
from svi_acd.db.migrate import upgrade
from svi_acd.stats.journal import import_queue_log
from svi_acd.stats.measures import Thresholds
from svi_acd.stats.reports import build_report
from tests.servers import postgres_server

MONTH_START = 1790805600  # 2026-10-01 00:00 Paris
MONTH_SECONDS = 31 * 86400 - 4 * 3600  # stay inside the month
AGENTS = [f"PJSIP/agent{n:02d}" for n in range(40)]
TERRITORIES = ["FR"] * 12 + ["GF", "MQ", "GP", "RE", "YT", "PM", "NC"]
BRANCHES = ["incident", "demande", "suivi", "telephonie"]


def call_lines(rng: random.Random, callid: str, start: int) -> list[tuple[int, str]]:
    """The (epoch, line) pairs of one call."""
    out: list[tuple[int, str]] = []

    def add(offset: int, queue: str, agent: str, event: str, *data: object) -> None:
        fields = [str(start + offset), callid, queue, agent, event, *map(str, data)]
        out.append((start + offset, "|".join(fields)))

    add(0, "NONE", "NONE", "SVI_CALL", rng.choice(TERRITORIES), "P0" if rng.random() < 0.02 else "")
    kind = rng.random()
    if kind < 0.05:
        add(1, "NONE", "NONE", "SVI_CLOSED")
        return out
    if kind < 0.07:
        add(1, "NONE", "NONE", "SVI_TERRITORY_CLOSED")
        return out
    if kind < 0.09:
        add(8, "NONE", "NONE", "SVI_DETERRED")
        return out
    add(5, "NONE", "NONE", "SVI_BRANCH", rng.choice(BRANCHES))
    if kind < 0.12:
        return out
    if rng.random() < 0.3:
        add(9, "NONE", "NONE", "SVI_TICKET", f"T{rng.randrange(20000)}", "")
    queue = "support"
    add(10, queue, "NONE", "ENTERQUEUE", "", f"01{rng.randrange(10**8):08d}")
    fate, wait = rng.random(), rng.randrange(1, 240)
    if fate < 0.80:
        agent = rng.choice(AGENTS)
        if rng.random() < 0.1:
            add(10 + wait // 2, queue, rng.choice(AGENTS), "RINGNOANSWER", 15000)
        talk = rng.randrange(30, 900)
        add(10 + wait, queue, agent, "CONNECT", wait, f"{callid}9", 3)
        end = "BLINDTRANSFER" if rng.random() < 0.03 else "COMPLETECALLER"
        data = ("200", "ctx", wait, talk, 1) if end == "BLINDTRANSFER" else (wait, talk, 1)
        add(10 + wait + talk, queue, agent, end, *data)
    elif fate < 0.90:
        add(10 + wait, queue, "NONE", "ABANDON", 1, 1, wait)
    elif fate < 0.93:
        add(12, queue, "NONE", "ABANDON", 1, 1, 2)
    elif fate < 0.97:
        add(310, queue, "NONE", "EXITWITHTIMEOUT", 1, 1, 300)
        add(310, "NONE", "NONE", "SVI_OVERFLOW", "attente_max", "messagerie")
    elif fate < 0.98:
        add(13, queue, "NONE", "EXITEMPTY", 1, 1, 3)
    else:
        add(10 + wait, queue, "NONE", "EXITWITHKEY", 1, 1, 1, wait)
    return out


def generate(calls: int, seed: int = 42) -> Iterator[str]:
    """Lines in time order (calls overlap, as in a real queue_log)."""
    rng = random.Random(seed)
    starts = sorted(MONTH_START + rng.randrange(MONTH_SECONDS) for _ in range(calls))
    pending: list[tuple[int, int, str]] = []
    sequence = 0
    for number, start in enumerate(starts):
        while pending and pending[0][0] <= start:
            yield heapq.heappop(pending)[2]
        for at, text in call_lines(rng, f"{start}.{number}", start):
            heapq.heappush(pending, (at, sequence, text))
            sequence += 1
    while pending:
        yield heapq.heappop(pending)[2]


def write_log(calls: int, folder: Path) -> tuple[Path, int]:
    path, count = folder / "queue_log", 0
    with path.open("w") as stream:
        for text in generate(calls):
            stream.write(text + "\n")
            count += 1
    return path, count


async def timed(coroutine_factory, runs: int = 1) -> float:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        await coroutine_factory()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


async def bench_backend(url: str, log: Path, lines: int) -> dict[str, float]:
    engine = create_engine(url)
    thresholds = Thresholds()
    try:
        await upgrade(engine)
        figures: dict[str, float] = {}
        figures["import_s"] = await timed(lambda: import_queue_log(engine, log, thresholds))
        figures["lines_per_s"] = lines / figures["import_s"]
        figures["reimport_s"] = await timed(lambda: import_queue_log(engine, log, thresholds))
        month = (date(2026, 10, 1), date(2026, 10, 31))
        for by in ("month", "day", "hour", "agent", "territory", "ticket"):
            figures[f"report_{by}_s"] = await timed(
                lambda by=by: build_report(engine, by, *month, thresholds), runs=3
            )
        report = await build_report(engine, "month", *month, thresholds)
        figures["calls_in_month"] = report.totals["received"]
        return figures
    finally:
        await engine.dispose()


def print_table(results: dict[str, dict[str, float]], calls: int, lines: int) -> None:
    print(f"\n{calls:,} appels, {lines:,} lignes de queue_log\n")
    names = list(results)
    print(f"| mesure | {' | '.join(names)} |")
    print(f"|---|{'---|' * len(names)}")
    for key in next(iter(results.values())):
        cells = []
        for name in names:
            value = results[name][key]
            cells.append(f"{value:,.0f}" if value >= 100 else f"{value:.3f}")
        print(f"| {key} | {' | '.join(cells)} |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    backends = args.backends.split(",")
    with tempfile.TemporaryDirectory(prefix="svi-bench-") as folder:
        started = time.perf_counter()
        log, lines = write_log(args.calls, Path(folder))
        print(f"queue_log généré en {time.perf_counter() - started:.1f} s : {log}")
        results: dict[str, dict[str, float]] = {}
        if "sqlite" in backends:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            results["SQLite"] = await bench_backend(url, log, lines)
        if "postgresql" in backends:
            with postgres_server() as url:
                results["PostgreSQL"] = await bench_backend(url, log, lines)
        print_table(results, args.calls, lines)


if __name__ == "__main__":
    asyncio.run(main())
