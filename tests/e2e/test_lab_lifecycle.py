"""Starting and stopping labs: idempotent, by PID, with clear messages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lab.runner import Lab, LabState
from lab.system import LabError
from svi_acd.cli import main
from svi_acd.config.environment import read_env_file
from svi_acd.config.model import Settings
from svi_acd.serve import serve_the_lab
from svi_acd.service import ServiceOptions
from tests.e2e.conftest import free_tcp_port, free_udp_block, free_udp_port

pytestmark = pytest.mark.e2e


def test_status_of_a_lab_never_started_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lab", "--run-dir", str(tmp_path), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["running"] is False


def test_status_command_reports_the_running_lab(
    lab: Lab, lab_state: LabState, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lab", "--run-dir", str(lab.run_dir), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["running"] is True and status["pid"] == lab_state.pid
    assert main(["lab", "--run-dir", str(lab.run_dir), "status"]) == 0
    assert f"pid {lab_state.pid}" in capsys.readouterr().out


def test_a_running_lab_publishes_what_a_service_needs_and_serve_lab_reads_it(
    lab: Lab, lab_state: LabState, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = read_env_file(lab.service_file)
    assert lab.service_file.stat().st_mode & 0o077 == 0  # it holds the AMI secret
    assert published["SVI_ACD_QUEUE_LOG"] == str(lab.queue_log)
    assert published["SVI_ACD_ASTERISK_SOUNDS_DIR"] == lab.paths.sounds
    monkeypatch.setenv("SVI_ACD_LAB_RUN", str(lab.run_dir))
    for name in ("SVI_ACD_AMI_USER", "SVI_ACD_AMI_SECRET"):
        monkeypatch.delenv(name, raising=False)
    options = ServiceOptions("sqlite://")
    assert serve_the_lab(options) is None
    assert options.queue_log == str(lab.queue_log)
    assert options.sound_folder is not None
    assert options.sound_folder.host_dir == lab.sounds_dir
    assert options.ami_credentials is not None
    assert (options.ami_credentials.username, options.ami_credentials.secret) == tuple(
        lab.ami_credentials()
    )


def test_serve_lab_without_a_running_lab_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SVI_ACD_LAB_RUN", str(tmp_path))
    problem = serve_the_lab(ServiceOptions("sqlite://"))
    assert problem is not None and "svi-acd lab up" in problem


def test_a_second_lab_on_taken_ports_is_refused_in_french(
    lab: Lab, lab_state: LabState, lab_settings: Settings, tmp_path: Path
) -> None:
    clash = Lab(lab_settings, tmp_path, sip_port=lab_state.sip_port, ami_port=lab_state.ami_port)
    with pytest.raises(LabError, match="port\\(s\\) déjà utilisé\\(s\\)"):
        clash.start()


def test_down_stops_asterisk_by_pid_and_is_idempotent(
    lab: Lab, lab_settings: Settings, tmp_path: Path
) -> None:
    second = Lab(
        lab_settings, tmp_path, sip_port=free_udp_port(), ami_port=free_tcp_port(),
        agi_port=free_tcp_port(), agent_count=1, agent_base_port=free_udp_block(1),
    )  # fmt: skip
    state, started = second.start()
    assert started and Path(f"/proc/{state.pid}").exists()
    try:
        assert second.rx("core show uptime").startswith("System uptime")
    finally:
        assert second.stop() is True
    assert not Path(f"/proc/{state.pid}").exists() or _is_zombie(state.pid)
    assert second.stop() is False and second.status() is None
    assert not second.service_file.exists()  # a stopped lab publishes nothing


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture(autouse=True)
def _root_only() -> None:
    if os.geteuid() != 0:
        pytest.skip("le lab Asterisk (chroot) demande root")
