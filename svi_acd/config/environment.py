"""The environment file a checkout keeps for the commands typed after ``scripts/demo.sh``.

The demo runs the service on ``./var`` (database, sounds) with the lab's AMI credentials. A
command typed later in a new shell would otherwise read an empty database in
``~/.local/share/svi-acd`` and find no AMI credentials. So the demo writes ``var/svi-acd.env``
(``KEY=value`` lines, readable by its owner only) and every ``svi-acd`` command run from the
checkout (the current folder or one of its parents holds that file) reads it first.

Only ``SVI_ACD_*`` variables are taken, and a variable already set in the environment wins.
``SVI_ACD_ENV`` names another file; set and empty, it turns the lookup off (the tests do).
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from pathlib import Path

ENV_FILE_VARIABLE = "SVI_ACD_ENV"
CHECKOUT_ENV_FILE = Path("var") / "svi-acd.env"
_LINE = re.compile(r"^\s*(?:export\s+)?(SVI_ACD_[A-Z0-9_]+)\s*=\s*(.*?)\s*$")


def find_env_file(start: Path) -> Path | None:
    """``var/svi-acd.env`` in ``start`` or the nearest parent that has one."""
    for folder in (start, *start.parents):
        candidate = folder / CHECKOUT_ENV_FILE
        if candidate.is_file():
            return candidate
    return None


def read_env_file(path: Path) -> dict[str, str]:
    """The ``SVI_ACD_*`` assignments of a file; comments, blank and other lines are skipped."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        value = match[2]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[match[1]] = value
    return found


def load_env_file(
    environ: MutableMapping[str, str] | None = None, cwd: Path | None = None
) -> Path | None:
    """Complete ``environ`` from the checkout's file; the file read, or None."""
    env = os.environ if environ is None else environ
    named = env.get(ENV_FILE_VARIABLE)
    if named is not None:
        path: Path | None = Path(named) if named else None
    else:
        path = find_env_file(cwd or Path.cwd())
    if path is None or not path.is_file():
        return None
    for key, value in read_env_file(path).items():
        env.setdefault(key, value)
    return path
