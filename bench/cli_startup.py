"""How long `svi-acd` takes to answer: --help, and a report on an empty database.

    .venv/bin/python bench/cli_startup.py [--runs 15]

Each command runs in a fresh process (as a person or a script types it); the table gives the
fastest and the median wall-clock time. The database is created once, outside the timing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = str(Path(sys.executable).with_name("svi-acd"))


def timed(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{folder}/vide.sqlite3"
        report = [CLI, "stats", "report", "--from", "2026-12-01", "--to", "2026-12-01",
                  "--by", "day", "--db", database]  # fmt: skip
        subprocess.run(report, capture_output=True, check=True)  # creates the schema
        cases = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "svi-acd --help": [CLI, "--help"],
            "svi-acd stats report (base vide)": report,
        }
        print("| commande | plus rapide (s) | médiane (s) | essais |\n|---|---|---|---|")
        for label, command in cases.items():
            times = timed(command, runs)
            print(f"| {label} | {min(times):.3f} | {statistics.median(times):.3f} | {runs} |")


if __name__ == "__main__":
    main()
