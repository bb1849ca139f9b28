"""Start and stop the lab's Asterisk (chrooted, on 127.0.0.1) and remember it by PID.

The run folder (``$SVI_ACD_LAB_RUN``, else ``~/.cache/svi-acd/lab-run``) holds ``state.json``
(PID and ports), ``ami.env`` (AMI credentials for the service), ``asterisk.out`` and, while
the lab runs, ``service.env``: what a service needs to serve it (``svi-acd serve --lab`` reads
that file; the product knows the lab by this file only, never by its code). Asterisk's
own files live inside the chroot, under a folder named after the run folder, so several labs
(a developer's and a test run's) can share one chroot; ``<run>/asterisk`` links to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from lab.chroot import AsteriskChroot, Progress, cache_dir, ensure_chroot
from lab.system import LabError, ensure_programs, last_line, require_root
from svi_acd.asterisk.confgen.dialplan import DialplanOptions
from svi_acd.asterisk.confgen.files import AsteriskOptions, AsteriskPaths, generate, write_config
from svi_acd.config.model import Settings

LABS_DIR = "/srv/svi-acd-lab"  # inside the chroot: one folder per run folder
OWNER_FILE = "run-dir.txt"  # in each lab folder: the run folder it belongs to
BOOT_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
DEFAULT_AMI_USER = "svi-acd"
SERVICE_FILE = "service.env"  # read by `svi-acd serve --lab` (svi_acd.serve)


def default_run_dir() -> Path:
    configured = os.environ.get("SVI_ACD_LAB_RUN")
    return Path(configured) if configured else cache_dir() / "lab-run"


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class LabState:
    """What a running lab is, as saved in ``state.json``."""

    pid: int
    started_at: float
    boot_seconds: float
    asterisk_version: str
    chroot: str
    asterisk_conf: str  # inside the chroot
    sip_port: int
    ami_port: int
    ami_user: str
    agi_url: str
    agents: list[tuple[str, int]]
    support_exten: str
    menu_exten: str

    @classmethod
    def load(cls, path: Path) -> LabState | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["agents"] = [tuple(agent) for agent in data["agents"]]
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")


def _alive(pid: int, marker: str) -> bool:
    """True if ``pid`` runs and is our Asterisk (its command line names our config)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    zombie = status.rsplit(")", 1)[-1].split()[0] == "Z"
    return not zombie and marker in command


def _used_by_a_process(text: str) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                return True
        except OSError:
            continue
    return False


def prune_orphan_labs(chroot: AsteriskChroot, keep: str) -> None:
    """Remove lab folders whose run folder is gone (e.g. old test runs) and nobody uses."""
    labs = chroot.inside(LABS_DIR)
    for folder in labs.iterdir() if labs.is_dir() else ():
        try:
            run_dir = Path((folder / OWNER_FILE).read_text(encoding="utf-8").strip())
        except OSError:
            continue
        inside = f"{LABS_DIR}/{folder.name}/"
        if folder.name == keep or run_dir.exists() or _used_by_a_process(inside):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def port_taken(port: int, kind: int) -> bool:
    """Whether something holds ``port`` on 127.0.0.1 (TCP: listens)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            # Taken means someone listens: connections Asterisk closed at its last stop stay
            # in TIME_WAIT for a minute and must not keep the lab from starting again.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class Lab:
    """One lab: a chrooted Asterisk configured from ``settings``; start, stop, query."""

    def __init__(
        self,
        settings: Settings,
        run_dir: Path | None = None,
        *,
        cache: Path | None = None,
        sip_port: int = 5060,
        ami_port: int | None = None,
        agi_port: int | None = None,
        agent_count: int = 4,
        agent_base_port: int = 5071,
        static_members: bool = True,
        verbose: int = 0,
        dialplan: DialplanOptions | None = None,
    ) -> None:
        self.settings = settings
        self.run_dir = (run_dir or default_run_dir()).absolute()
        self.cache = cache
        slug = hashlib.sha256(str(self.run_dir).encode()).hexdigest()[:10]
        self.paths = AsteriskPaths(base=f"{LABS_DIR}/{slug}")
        self.sip_port = sip_port
        self.ami_port = ami_port or settings.service.ami.port
        self.agi_port = agi_port or settings.service.agi.port
        self.agent_count = agent_count
        self.agent_base_port = agent_base_port
        self.static_members = static_members
        self.verbose = verbose
        self.dialplan = dialplan or DialplanOptions()
        self._process: subprocess.Popen[bytes] | None = None

    # -- files -------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.run_dir / "state.json"

    @property
    def ami_env_file(self) -> Path:
        return self.run_dir / "ami.env"

    @property
    def service_file(self) -> Path:
        return self.run_dir / SERVICE_FILE

    @property
    def output_file(self) -> Path:
        return self.run_dir / "asterisk.out"

    @property
    def asterisk_dir(self) -> Path:
        """Asterisk's folder (etc, log, run…) seen from the host, through the run folder."""
        return self.run_dir / "asterisk"

    @property
    def queue_log(self) -> Path:
        return self.asterisk_dir / "log" / "queue_log"

    @property
    def sounds_dir(self) -> Path:
        """Where the service should write prompts for this lab (service.dossier_sons)."""
        return self.asterisk_dir / "sons"

    @property
    def messages_log(self) -> Path:
        return self.asterisk_dir / "log" / "messages.log"

    @property
    def agi_endpoint(self) -> tuple[str, int]:
        """Where the dialplan looks for the service (FastAGI)."""
        return self.settings.service.agi.host, self.agi_port

    def ami_credentials(self) -> tuple[str, str]:
        """(user, secret): $SVI_ACD_AMI_USER/SECRET, else the lab's own, made once and kept."""
        user = os.environ.get("SVI_ACD_AMI_USER")
        secret = os.environ.get("SVI_ACD_AMI_SECRET")
        if user and secret:
            return user, secret
        saved = self._read_ami_env()
        if saved:
            return saved
        self.run_dir.mkdir(parents=True, exist_ok=True)
        user, secret = DEFAULT_AMI_USER, secrets.token_hex(12)
        descriptor = os.open(self.ami_env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(f"SVI_ACD_AMI_USER={user}\nSVI_ACD_AMI_SECRET={secret}\n")
        return user, secret

    def _read_ami_env(self) -> tuple[str, str] | None:
        try:
            lines = self.ami_env_file.read_text(encoding="utf-8").splitlines()
        except OSError:
            return None
        values = dict(line.split("=", 1) for line in lines if "=" in line)
        user, secret = values.get("SVI_ACD_AMI_USER"), values.get("SVI_ACD_AMI_SECRET")
        return (user, secret) if user and secret else None

    def options(self) -> AsteriskOptions:
        user, secret = self.ami_credentials()
        return AsteriskOptions(
            paths=self.paths, ami_user=user, ami_secret=secret, sip_port=self.sip_port,
            ami_port=self.ami_port, agi_port=self.agi_port, agent_count=self.agent_count,
            agent_base_port=self.agent_base_port, static_members=self.static_members,
            verbose=self.verbose, dialplan=self.dialplan,
        )  # fmt: skip

    # -- lifecycle ---------------------------------------------------------------------------
    def status(self) -> LabState | None:
        """The running lab's state, or None (a stale state file is removed)."""
        state = LabState.load(self.state_file)
        if state is None:
            return None
        if not _alive(state.pid, state.asterisk_conf):
            self.state_file.unlink(missing_ok=True)
            self.service_file.unlink(missing_ok=True)
            return None
        return state

    def start(self, progress: Progress = _quiet) -> tuple[LabState, bool]:
        """Start the lab; returns (state, True) or (state, False) if it was already running."""
        running = self.status()
        if running:
            self._publish_for_service()
            return running, False
        require_root("démarrage du lab")
        ensure_programs([("sipp", "sip-tester")])
        chroot = ensure_chroot(self.cache, progress=progress)
        options = self.options()
        self._check_ports(options)
        self._write_files(chroot, options)
        state = self._launch(chroot, options)
        self._publish_for_service()
        progress(f"Asterisk prêt en {state.boot_seconds} s (pid {state.pid}).")
        return state, True

    def _publish_for_service(self) -> None:
        """``service.env``: the AMI credentials, prompt folders and queue_log of this lab."""
        user, secret = self.ami_credentials()
        lines = [
            f"SVI_ACD_AMI_USER={user}",
            f"SVI_ACD_AMI_SECRET={secret}",
            f"SVI_ACD_SOUNDS_DIR={self.sounds_dir}",
            f"SVI_ACD_ASTERISK_SOUNDS_DIR={self.paths.sounds}",
            f"SVI_ACD_QUEUE_LOG={self.queue_log}",
        ]
        self.service_file.unlink(missing_ok=True)
        descriptor = os.open(self.service_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")

    def _check_ports(self, options: AsteriskOptions) -> None:
        udp, tcp = socket.SOCK_DGRAM, socket.SOCK_STREAM
        wanted = [("SIP", options.sip_port, udp), ("AMI", options.ami_port_for(self.settings), tcp)]
        wanted += [(f"agent {agent.name}", agent.port, udp) for agent in options.agents]
        taken = [
            f"{what} {port}/{'udp' if kind == udp else 'tcp'}"
            for what, port, kind in wanted
            if port_taken(port, kind)
        ]
        if taken:
            raise LabError(
                f"port(s) déjà utilisé(s) sur 127.0.0.1 : {', '.join(taken)}. Arrêtez ce qui "
                "les occupe (un autre lab ? svi-acd lab down) ou choisissez d'autres ports."
            )

    def _write_files(self, chroot: AsteriskChroot, options: AsteriskOptions) -> None:
        prune_orphan_labs(chroot, keep=Path(self.paths.base).name)
        for inside in self.paths.all():
            chroot.inside(inside).mkdir(parents=True, exist_ok=True)
        owner = chroot.inside(self.paths.base) / OWNER_FILE
        owner.write_text(f"{self.run_dir}\n", encoding="utf-8")
        write_config(generate(self.settings, options), chroot.inside(self.paths.etc))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        link, target = self.asterisk_dir, chroot.inside(self.paths.base)
        if link.is_symlink() and link.readlink() != target:
            link.unlink()
        if not link.is_symlink():
            link.symlink_to(target)

    def _launch(self, chroot: AsteriskChroot, options: AsteriskOptions) -> LabState:
        command = chroot.command("asterisk", "-f", "-n", "-C", self.paths.asterisk_conf)
        started = time.monotonic()
        with open(self.output_file, "ab") as output:
            # A session of its own: the lab outlives `svi-acd lab up` and ignores its Ctrl-C.
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            self._wait_booted(chroot, options.ami_port_for(self.settings))
        except BaseException:
            self._terminate(self._process.pid)
            raise
        state = LabState(
            pid=self._process.pid,
            started_at=time.time(),
            boot_seconds=round(time.monotonic() - started, 2),
            asterisk_version=chroot.asterisk_version,
            chroot=str(chroot.root),
            asterisk_conf=self.paths.asterisk_conf,
            sip_port=options.sip_port,
            ami_port=options.ami_port_for(self.settings),
            ami_user=options.ami_user,
            agi_url=options.agi_url_for(self.settings),
            agents=[(agent.name, agent.port) for agent in options.agents],
            support_exten=options.dialplan.support_exten,
            menu_exten=options.dialplan.menu_exten,
        )
        state.save(self.state_file)
        return state

    def _wait_booted(self, chroot: AsteriskChroot, ami_port: int) -> None:
        assert self._process is not None
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        remote = chroot.command("asterisk", "-C", self.paths.asterisk_conf, "-rx",
                                "core waitfullybooted")  # fmt: skip
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LabError(
                    f"Asterisk s'est arrêté au démarrage (code {self._process.returncode}) : "
                    f"{self._output_tail()} — voir {self.output_file}"
                )
            ready = subprocess.run(remote, capture_output=True, timeout=BOOT_TIMEOUT_S)
            if ready.returncode == 0 and port_taken(ami_port, socket.SOCK_STREAM):
                return
            time.sleep(0.05)
        raise LabError(
            f"Asterisk n'a pas fini de démarrer en {BOOT_TIMEOUT_S:g} s ; voir {self.output_file}"
        )

    def _output_tail(self) -> str:
        try:
            return last_line(self.output_file.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return "aucune sortie"

    def stop(self) -> bool:
        """Stop the lab's Asterisk by PID; False if it was not running (idempotent)."""
        state = self.status()
        if state is None:
            return False
        self._terminate(state.pid)
        self.state_file.unlink(missing_ok=True)
        self.service_file.unlink(missing_ok=True)
        return True

    def _terminate(self, pid: int) -> None:
        marker = self.paths.asterisk_conf
        for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                if self._process is not None and self._process.pid == pid:
                    if self._process.poll() is not None:  # reaps our own child
                        return
                elif not _alive(pid, marker):
                    return
                time.sleep(0.05)

    # -- commands ----------------------------------------------------------------------------
    def rx_command(self, command: str) -> list[str]:
        state = self.status()
        if state is None:
            raise LabError("le lab n'est pas démarré (svi-acd lab up).")
        return ["chroot", state.chroot, "asterisk", "-C", state.asterisk_conf, "-rx", command]

    def rx(self, command: str, timeout_s: float = 10.0) -> str:
        """Run an Asterisk CLI command (``asterisk -rx``) and return its output."""
        result = subprocess.run(
            self.rx_command(command), capture_output=True, text=True, timeout=timeout_s
        )
        if result.returncode != 0:
            raise LabError(f"asterisk -rx « {command} » a échoué : {last_line(result.stderr)}")
        return result.stdout

    async def arx(self, command: str, timeout_s: float = 10.0) -> str:
        """``rx`` without blocking the event loop."""
        process = await asyncio.create_subprocess_exec(
            *self.rx_command(command), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        if process.returncode != 0:
            raise LabError(f"asterisk -rx « {command} » a échoué : {last_line(err.decode())}")
        return out.decode()

    async def astart(self, progress: Progress = _quiet) -> tuple[LabState, bool]:
        return await asyncio.to_thread(self.start, progress)

    async def astop(self) -> bool:
        return await asyncio.to_thread(self.stop)
