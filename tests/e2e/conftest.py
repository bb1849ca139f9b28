"""End-to-end fixtures: a real Asterisk (chrooted, 127.0.0.1) and SIPp callers and agents.

The lab is started once per test session on free ports (never the developer's lab) and stopped
at the end. The first run builds the Debian sid chroot (about a minute, cached afterwards).
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from lab.runner import Lab, LabState
from lab.sipp import SippProcess, agents_answering
from svi_acd.config.model import OverflowRule, Settings
from tests.e2e.calls import OPEN, SHORT_TEXTS, SettableClock

AGENT_COUNT = 2
MAILBOX = "100"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: real calls through a real Asterisk (root, Debian)")


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_block(count: int, start: int = 5100, end: int = 6000) -> int:
    """The first of ``count`` consecutive free UDP ports, below Asterisk's RTP range."""
    for first in range(start, end - count):
        sockets: list[socket.socket] = []
        try:
            for port in range(first, first + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"pas de {count} ports UDP consécutifs libres entre {start} et {end}")


@pytest.fixture(scope="session")
def lab_settings(settings: Settings) -> Settings:
    """The shipped settings, with no wrap-up time so that each agent can take call after call,
    and a voicemail box (a rule switched off) that a test's own rule can send callers to."""
    queues = {
        name: queue.model_copy(update={"wrapup_s": 0}) for name, queue in settings.queues.items()
    }
    mailbox = OverflowRule.model_validate(
        {"nom": "messagerie du lab", "file": settings.default_queue, "condition": "aucun_agent",
         "actif": False, "destination": {"type": "messagerie", "boite": MAILBOX}}
    )  # fmt: skip
    return settings.model_copy(update={"queues": queues, "overflow": (*settings.overflow, mailbox)})


@pytest.fixture(scope="session")
def lab(lab_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("le lab Asterisk (chroot) demande root")
    lab = Lab(
        lab_settings,
        tmp_path_factory.mktemp("lab"),
        sip_port=free_udp_port(),
        ami_port=free_tcp_port(),
        agi_port=free_tcp_port(),  # nobody listens there unless a test says so
        agent_count=AGENT_COUNT,
        agent_base_port=free_udp_block(AGENT_COUNT),
    )
    lab.start(progress=print)
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="session")
def lab_state(lab: Lab) -> LabState:
    state = lab.status()
    assert state is not None, "le lab devrait tourner"
    return state


@pytest.fixture
async def agents(lab_state: LabState, tmp_path: Path) -> AsyncIterator[list[SippProcess]]:
    """SIPp phones for every lab agent: they answer after 1 s and hang up after 1 s of talk."""
    async with agents_answering(lab_state.agents, tmp_path / "agents", 1.0, 1.0) as phones:
        yield phones


@pytest.fixture(scope="session")
def flow_settings(lab_settings: Settings, lab: Lab) -> Settings:
    data = lab_settings.model_dump(by_alias=True)
    for prompt_id, text in SHORT_TEXTS.items():
        data["annonces"][prompt_id]["texte"] = text
    data["svi"]["noeuds"]["accueil"]["delai_s"] = 2
    data["svi"]["noeuds"]["suivi"]["delai_s"] = 3
    host, port = lab.agi_endpoint
    data["service"]["agi"] = {"hote": host, "port": port}
    data["service"]["web"] = {"hote": "127.0.0.1", "port": free_tcp_port()}
    data["service"]["dossier_sons"] = str(lab.sounds_dir)
    data["service"]["dossier_sons_asterisk"] = lab.paths.sounds
    return Settings.model_validate(data)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(OPEN)
