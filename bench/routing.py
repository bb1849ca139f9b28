"""Routing decisions per second for a mixed caller population (not a test: prints a table).

Run: .venv/bin/python bench/routing.py [--calls 200000]
The population mirrors the desk: 7,200 users, mostly metropolitan, some overseas, 180 VIPs,
withheld numbers and garbage; instants on weekdays' business hours, or anywhere in the year.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from svi_acd.config.loader import load_settings
from svi_acd.routing.caller import identify
from svi_acd.routing.decision import Router
from svi_acd.routing.directory import DirectoryEntry, VipDirectory

POPULATION = [
    (0.70, lambda r: f"01{r.randrange(10**8):08d}"),
    (0.10, lambda r: f"06 {r.randrange(10**8):08d}"),
    (0.03, lambda r: f"0594{r.randrange(10**6):06d}"),
    (0.03, lambda r: f"0696{r.randrange(10**6):06d}"),
    (0.03, lambda r: f"+590590{r.randrange(10**6):06d}"),
    (0.03, lambda r: f"0262{r.randrange(10**6):06d}"),
    (0.02, lambda r: f"0269{r.randrange(10**6):06d}"),
    (0.01, lambda r: f"+508 41{r.randrange(10**4):04d}"),
    (0.02, lambda r: f"+687 25{r.randrange(10**4):04d}"),
    (0.02, lambda r: "anonymous"),
    (0.01, lambda r: "garbage#*"),
]


def make_callers(count: int, rng: random.Random) -> list[str]:
    weights = [weight for weight, _ in POPULATION]
    makers = rng.choices([maker for _, maker in POPULATION], weights, k=count)
    return [maker(rng) for maker in makers]


def any_instants(count: int, rng: random.Random) -> list[datetime]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [start + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(count)]


def business_instants(count: int, rng: random.Random) -> list[datetime]:
    """Weekdays of 2026 between 08:00 and 18:30 Paris, as most real calls arrive."""
    paris, start = ZoneInfo("Europe/Paris"), datetime(2026, 1, 5)
    instants = []
    while len(instants) < count:
        day = start + timedelta(days=rng.randrange(360))
        if day.weekday() < 5:
            moment = day + timedelta(seconds=8 * 3600 + rng.randrange(37800))
            instants.append(moment.replace(tzinfo=paris))
    return instants


def run(label: str, func, items) -> tuple[str, int, float]:
    started = time.perf_counter()
    for item in items:
        func(*item)
    elapsed = time.perf_counter() - started
    return label, len(items), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    router = Router(load_settings())
    # The ministry's 7,200 users call again and again: draw the calls from that many numbers.
    pool = make_callers(7200, rng)
    callers = rng.choices(pool, k=args.calls)
    business = business_instants(args.calls, rng)
    anytime = any_instants(args.calls, rng)
    vips = VipDirectory(
        DirectoryEntry(identify(number).e164 or "", f"VIP {i}", level="VIP")
        for i, number in enumerate(pool[:180])
        if identify(number).e164
    )
    # Warm the holiday tables for every year the instants cover.
    router.decide("0145678912", datetime(2026, 6, 1, tzinfo=UTC))
    router.decide("0145678912", datetime(2027, 6, 1, tzinfo=UTC))
    closed = sum(not router.decide(c, t).open for c, t in zip(callers, anytime, strict=True))
    decide = lambda c, t: router.decide(c, t, vips)  # noqa: E731
    rows = [
        run("identification (1er appel)", identify.__wrapped__, [(c,) for c in pool]),
        run("décision, heures ouvrées", decide, list(zip(callers, business, strict=True))),
        run("décision, toute l'année", decide, list(zip(callers, anytime, strict=True))),
    ]
    share = closed / args.calls
    print(f"{args.calls} appels de {len(pool)} numéros ; sur toute l'année, {share:.0%} hors "
          "fenêtre (annonce de la prochaine ouverture calculée)")  # fmt: skip
    print(f"{'opération':<28} {'appels':>9} {'durée (s)':>10} {'décisions/s':>12} {'µs/appel':>9}")
    for label, count, elapsed in rows:
        print(f"{label:<28} {count:>9} {elapsed:>10.2f} {count / elapsed:>12,.0f} "
              f"{elapsed / count * 1e6:>9.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
