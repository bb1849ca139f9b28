"""The newcomer's path: ``scripts/demo.sh``, then the commands it and the README print, typed
in a new shell (nothing inherited but PATH and HOME) from the checkout."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from datetime import date
from pathlib import Path

import pytest

from lab.runner import port_taken

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CLI = str(REPO / ".venv" / "bin" / "svi-acd")
# The demo's fixed ports (the README tells a softphone to use 5060, a browser 8080).
DEMO_PORTS = {"SIP": (5060, socket.SOCK_DGRAM), "AMI": (5038, socket.SOCK_STREAM),
              "AGI": (4573, socket.SOCK_STREAM), "web": (8080, socket.SOCK_STREAM)}  # fmt: skip


def new_shell(cwd: Path, command: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=clean, capture_output=True,
                          text=True, timeout=timeout_s)  # fmt: skip


def test_the_commands_printed_after_the_demo_work_in_a_new_shell(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("la démo installe des paquets et démarre le lab (root)")
    taken = [name for name, (port, kind) in DEMO_PORTS.items() if port_taken(port, kind)]
    if taken:
        pytest.skip(f"ports de la démo déjà pris ({', '.join(taken)}) : une démo tourne ?")
    # The checkout's own layout, in a folder of the test's: var/ holds the demo's data.
    data = tmp_path / "var"
    demo_env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"],
                "SVI_ACD_DATA": str(data), "SVI_ACD_LAB_RUN": str(tmp_path / "lab-run"),
                "DEMO_CLOCK": "2026-07-08T10:00"}  # fmt: skip
    demo = subprocess.run(["bash", "scripts/demo.sh"], cwd=REPO, env=demo_env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    try:
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        said = demo.stdout
        assert "Horloge du service : décalée, elle part de 2026-07-08T10:00" in said
        assert "sont servis (menu, file d'attente) jusqu'à 2026-07-08T18:30:00+02:00" in said
        assert "0140000001 : CONNECT par " in said
        token = (data / "demo-jeton.txt").read_text().strip()
        assert token and token not in said  # the token stays in its file
        assert (data / "svi-acd.env").stat().st_mode & 0o077 == 0

        ticket = new_shell(tmp_path, f'{CLI} lab call --digits "320261234#" --hold 20')
        assert ticket.returncode == 0 and "CONNECT par " in ticket.stdout, ticket
        martinique = new_shell(tmp_path, f'{CLI} lab call --caller "0696 20 12 34"')
        assert martinique.returncode == 0, martinique
        assert "hors de la fenêtre de son territoire" in martinique.stdout
        desk = new_shell(tmp_path, f"{CLI} acd etat")
        assert desk.returncode == 0 and "File support" in desk.stdout, desk
        queues = new_shell(tmp_path, f"{CLI} lab cli 'queue show'")
        assert queues.returncode == 0 and "support has" in queues.stdout, queues
        today = date.today().isoformat()
        report = new_shell(
            tmp_path, f"{CLI} stats report --from {today} --to {today} --by hour --format json"
        )
        assert report.returncode == 0 and "est vide" not in report.stderr, report
        assert json.loads(report.stdout)["totals"]["received"] >= 1
        bearer = f'"Authorization: Bearer $(cat {data}/demo-jeton.txt)"'
        api = new_shell(tmp_path, f"curl -sf -H {bearer} http://127.0.0.1:8080/api/etat")
        assert api.returncode == 0 and json.loads(api.stdout)["ami"].startswith("connecté"), api
    finally:
        stop = subprocess.run(["bash", "scripts/demo.sh", "stop"], cwd=REPO, env=demo_env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert stop.returncode == 0 and "Lab arrêté." in stop.stdout, stop
    assert (data / "service.log").exists()
