"""Real servers for integration tests, started on loopback and stopped by the test run."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if not found:
        raise RuntimeError(f"{name} introuvable : installez le paquet Debian postgresql")
    return found


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on 127.0.0.1; yields its URL (database ``svi``)."""
    root = Path(tempfile.mkdtemp(prefix="svi-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: hand the folder to the postgres account.
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    user = "postgres" if run_as else pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run(
        [*run_as, _postgres_bin("initdb"), "-D", str(data), "-U", user, "-A", "trust",
         "-E", "UTF8"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [*run_as, _postgres_bin("pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
         str(root / "log"), "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        subprocess.run(
            [_postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, "svi"],
            check=True, capture_output=True,
        )  # fmt: skip
        yield f"postgresql://{user}@127.0.0.1:{port}/svi"
    finally:
        subprocess.run(
            [*run_as, _postgres_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class RedisServer:
    """A throw-away redis-server on 127.0.0.1 that a test may kill and start again."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server introuvable : installez le paquet Debian redis-server")
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.root),
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server s'est arrêté (code {self.process.returncode})")
            time.sleep(0.02)
        raise RuntimeError(f"redis-server ne répond pas sur le port {self.port}")

    def kill(self) -> None:
        """SIGKILL, as a crash would: no goodbye to the clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, stopped (killed) at the end."""
    server = RedisServer(Path(tempfile.mkdtemp(prefix="svi-redis-")), free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()
        shutil.rmtree(server.root, ignore_errors=True)
