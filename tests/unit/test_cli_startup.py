"""The command line answers at once: only the typed command's module is loaded (timings are
in bench/RESULTS.md; here, what is imported, which does not depend on the machine)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from svi_acd.cli import COMMANDS, build_parser

HEAVY = ("sqlalchemy", "aiohttp", "alembic", "openpyxl", "pydantic", "redis", "jinja2")


def modules_loaded_by(code: str) -> set[str]:
    run = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint(*sys.modules)"],
                         capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
    return set(run.stdout.split())


def test_help_loads_no_heavy_library_and_lists_every_command() -> None:
    loaded = modules_loaded_by("from svi_acd.cli import build_parser\nbuild_parser(['--help'])")
    assert sorted(name for name in HEAVY if name in loaded) == []
    listing = build_parser(["--help"]).format_help()
    for name, (_, help_text) in COMMANDS.items():
        assert name in listing and help_text in listing


def test_a_report_does_not_load_the_connectors_or_the_spreadsheet_library() -> None:
    loaded = modules_loaded_by(
        "from svi_acd.cli import build_parser\n"
        "build_parser(['stats', 'report', '--by', 'day', '--from', '2026-10-14', "
        "'--to', '2026-10-14'])"
    )
    assert {"aiohttp", "openpyxl", "alembic", "redis"} & loaded == set()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_builds_its_own_parser(name: str) -> None:
    parser = build_parser([name, "--help"])
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args([name, "--help"])
    assert stopped.value.code == 0
