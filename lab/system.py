"""What the lab needs from the host: Debian packages, a mirror, disk space, root.

Every failure becomes a ``LabError`` carrying a French sentence that says what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

DEFAULT_MIRROR = "http://deb.debian.org/debian"
APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))


class LabError(Exception):
    """A lab step failed; the message is a French sentence for the user."""


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise LabError(f"{what} : il faut être root (relancez avec sudo).")


def _source_files() -> list[Path]:
    files: list[Path] = []
    for source in APT_SOURCES:
        if source.is_dir():
            files += sorted(source.glob("*.sources")) + sorted(source.glob("*.list"))
        elif source.is_file():
            files.append(source)
    return files


def _main_archive_uris(text: str) -> list[str]:
    """Debian main-archive URIs from a deb822 ``.sources`` or a one-line ``.list`` file."""
    uris = re.findall(r"^URIs:\s*(.+)$", text, flags=re.MULTILINE)
    found = [uri for line in uris for uri in line.split()]
    found += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, flags=re.MULTILINE)
    # Keep the main archive (…/debian), not security, ports or third-party repositories.
    return [uri.rstrip("/") for uri in found if uri.rstrip("/").endswith("/debian")]


def debian_mirror() -> str:
    """``$SVI_ACD_LAB_MIRROR``, else the Debian mirror apt already uses, else deb.debian.org."""
    configured = os.environ.get("SVI_ACD_LAB_MIRROR")
    if configured:
        return configured.rstrip("/")
    for file in _source_files():
        try:
            uris = _main_archive_uris(file.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
        if uris:
            return uris[0]
    return DEFAULT_MIRROR


def check_free_space(folder: Path, needed_mb: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
    if free_mb < needed_mb:
        raise LabError(
            f"espace disque insuffisant dans {folder} : {free_mb} Mo libres, {needed_mb} Mo "
            "nécessaires. Libérez de la place ou choisissez un autre dossier avec "
            "SVI_ACD_LAB_CACHE."
        )


def ensure_programs(pairs: Sequence[tuple[str, str]]) -> None:
    """Install the Debian package of each (program, package) whose program is missing."""
    missing = [package for program, package in pairs if shutil.which(program) is None]
    if not missing:
        return
    names = ", ".join(missing)
    if shutil.which("apt-get") is None:
        raise LabError(f"paquets manquants ({names}) et apt-get absent : installez-les à la main.")
    require_root(f"installation des paquets {names}")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    result = subprocess.run(install, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        # The package lists may be missing or stale: refresh once, then retry.
        update = subprocess.run(
            ["apt-get", "update", "-q"], capture_output=True, text=True, env=environment
        )
        if update.returncode != 0:
            raise LabError(
                "apt-get update a échoué : le dépôt Debian est-il joignable ? "
                f"({last_line(update.stderr)})"
            )
        result = subprocess.run(install, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise LabError(
            f"apt-get install {names} a échoué ({last_line(result.stderr or result.stdout)})"
        )


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "aucun message"
