"""A cached Debian sid chroot with Asterisk 22 and the French sounds.

Debian bookworm has no Asterisk; sid has Asterisk 22. ``debootstrap`` builds the chroot once
(about a minute) into a temporary folder that is renamed into place only when complete, with a
marker file last: a half-built chroot is never reused.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lab.system import (
    LabError,
    check_free_space,
    debian_mirror,
    ensure_programs,
    last_line,
    require_root,
)

CHROOT_NAME = "asterisk-sid"
MARKER_NAME = ".svi-acd-chroot.json"
PACKAGES = ("asterisk", "asterisk-core-sounds-fr-gsm")
NEEDED_MB = 1500  # ~500 MB chroot + downloaded packages, with margin
SOUNDS = "usr/share/asterisk/sounds"
BUILD_TIMEOUT_S = 1800

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def cache_dir() -> Path:
    """``$SVI_ACD_LAB_CACHE``, else ``~/.cache/svi-acd``."""
    configured = os.environ.get("SVI_ACD_LAB_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "svi-acd"


@dataclass(frozen=True)
class AsteriskChroot:
    root: Path
    asterisk_version: str
    build_seconds: float | None = None

    def inside(self, path: str) -> Path:
        """The host path of ``path`` as seen from inside the chroot."""
        return self.root / path.lstrip("/")

    def command(self, *args: str) -> list[str]:
        return ["chroot", str(self.root), *args]


def read_marker(root: Path) -> dict[str, object] | None:
    try:
        data = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not (root / "usr/sbin/asterisk").exists():
        return None
    return data


def find_chroot(cache: Path | None = None) -> AsteriskChroot | None:
    """The complete cached chroot, or None (never a half-built one)."""
    root = (cache or cache_dir()) / CHROOT_NAME
    marker = read_marker(root)
    if marker is None:
        return None
    seconds = marker.get("build_seconds")
    return AsteriskChroot(
        root=root,
        asterisk_version=str(marker.get("asterisk_version", "?")),
        build_seconds=float(seconds) if isinstance(seconds, int | float) else None,
    )


def ensure_chroot(
    cache: Path | None = None, mirror: str | None = None, progress: Progress = _quiet
) -> AsteriskChroot:
    """Reuse the cached chroot, or build it (as root) when missing."""
    cache = cache or cache_dir()
    found = find_chroot(cache)
    if found is None:
        require_root("construction du chroot Asterisk")
        cache.mkdir(parents=True, exist_ok=True)
        with _build_lock(cache):
            # Another process may have finished the build while we waited for the lock.
            found = find_chroot(cache) or _build(cache, mirror or debian_mirror(), progress)
    prepare_chroot(found.root)
    return found


@contextmanager
def _build_lock(cache: Path) -> Iterator[None]:
    with open(cache / f"{CHROOT_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(cache: Path, mirror: str, progress: Progress) -> AsteriskChroot:
    ensure_programs([("debootstrap", "debootstrap")])
    check_free_space(cache, NEEDED_MB)
    for stale in cache.glob(f"{CHROOT_NAME}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted build
    partial = Path(tempfile.mkdtemp(prefix=f"{CHROOT_NAME}.partial-", dir=cache))
    log = cache / f"{CHROOT_NAME}.build.log"
    progress(f"Construction du chroot Debian sid avec Asterisk depuis {mirror} (1 à 2 minutes)…")
    started = time.monotonic()
    try:
        _debootstrap(partial, mirror, log)
        version = asterisk_version(partial)
        shutil.rmtree(partial / "var/cache/apt/archives", ignore_errors=True)
        prepare_chroot(partial)
        seconds = round(time.monotonic() - started, 1)
        marker = {"asterisk_version": version, "mirror": mirror, "build_seconds": seconds}
        (partial / MARKER_NAME).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        target = cache / CHROOT_NAME
        if target.exists():  # an incomplete leftover without marker: replace it
            shutil.rmtree(target)
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    progress(f"Chroot prêt en {seconds} s : {target} ({version}).")
    return AsteriskChroot(root=target, asterisk_version=version, build_seconds=seconds)


def _debootstrap(target: Path, mirror: str, log: Path) -> None:
    command = [
        "debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
        "sid", str(target), mirror,
    ]  # fmt: skip
    with open(log, "w", encoding="utf-8") as output:
        try:
            result = subprocess.run(
                command, stdout=output, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            raise LabError(
                f"debootstrap n'a pas fini en {BUILD_TIMEOUT_S // 60} minutes (dépôt lent ?) ; "
                f"journal : {log}"
            ) from None
    if result.returncode != 0:
        raise LabError(_explain_debootstrap(log.read_text(encoding="utf-8", errors="replace"), log))


def _explain_debootstrap(output: str, log: Path) -> str:
    lowered = output.lower()
    if "no space left" in lowered:
        return f"disque plein pendant debootstrap : libérez de la place (journal : {log})."
    unreachable = ("failed getting release", "temporary failure", "could not resolve",
                   "couldn't download", "connection refused", "unable to connect")  # fmt: skip
    if any(sign in lowered for sign in unreachable):
        return (
            "le dépôt Debian est injoignable pendant debootstrap : vérifiez le réseau ou "
            f"indiquez un miroir joignable dans SVI_ACD_LAB_MIRROR (journal : {log})."
        )
    return f"debootstrap a échoué : {last_line(output)} (journal : {log})."


def asterisk_version(root: Path) -> str:
    result = subprocess.run(
        ["chroot", str(root), "asterisk", "-V"], capture_output=True, text=True, timeout=30
    )
    if result.returncode != 0:
        raise LabError(f"Asterisk ne démarre pas dans le chroot : {last_line(result.stderr)}")
    return result.stdout.strip()


def prepare_chroot(root: Path) -> None:
    """What Asterisk needs in the chroot; idempotent, run at every lab start."""
    (root / "run/asterisk").mkdir(parents=True, exist_ok=True)
    hostname = socket.gethostname()
    _write(root / "etc/hosts", f"127.0.0.1 localhost {hostname}\n::1 localhost\n")
    # Without a loopback resolver Asterisk would query the host's DNS on every call.
    _write(root / "etc/resolv.conf", "nameserver 127.0.0.1\n")
    _link_french_sounds(root)


def _write(path: Path, text: str) -> None:
    if path.is_symlink():
        path.unlink()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _link_french_sounds(root: Path) -> None:
    """The package ships ``fr_CA_f_June``; Asterisk looks for ``fr`` when language=fr."""
    sounds = root / SOUNDS
    french = sounds / "fr"
    if french.exists():
        return
    candidates = sorted(path.name for path in sounds.glob("fr_*") if path.is_dir())
    if not candidates:
        raise LabError(
            f"aucun dossier de sons français dans {sounds} : supprimez le chroot pour le "
            "reconstruire (paquet asterisk-core-sounds-fr-gsm)."
        )
    if french.is_symlink():
        french.unlink()  # dangling link
    french.symlink_to(candidates[0])
