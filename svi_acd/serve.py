"""``svi-acd serve``: run the service until interrupted (SIGINT/SIGTERM stop it cleanly)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from svi_acd import logs
from svi_acd.asterisk.link import AmiCredentials
from svi_acd.cli_options import add_config_option, add_db_option, database_url, settings_from
from svi_acd.clock import shifted_clock, system_clock
from svi_acd.config.environment import read_env_file
from svi_acd.prompts.catalog import SoundFolder
from svi_acd.routing.commands import parse_instant
from svi_acd.service import ServiceError, ServiceOptions, start_service

ASYNCAGI_READY_S = 10.0
# What a running lab publishes for a service (``svi-acd lab up`` writes it, ``down`` removes
# it): the product knows the lab by this file only.
LAB_SERVICE_FILE = "service.env"


def lab_service_file() -> Path:
    """The lab's ``service.env``, in its run folder ($SVI_ACD_LAB_RUN, else the cache's)."""
    run = os.environ.get("SVI_ACD_LAB_RUN")
    if run:
        return Path(run) / LAB_SERVICE_FILE
    cache = os.environ.get("SVI_ACD_LAB_CACHE") or Path.home() / ".cache" / "svi-acd"
    return Path(cache) / "lab-run" / LAB_SERVICE_FILE


def serve_the_lab(options: ServiceOptions) -> str | None:
    """Point ``options`` at the running lab; an error message when there is none."""
    path = lab_service_file()
    try:
        lab = read_env_file(path)
        sounds, asterisk_sounds = lab["SVI_ACD_SOUNDS_DIR"], lab["SVI_ACD_ASTERISK_SOUNDS_DIR"]
        queue_log = lab["SVI_ACD_QUEUE_LOG"]
    except (OSError, KeyError):
        return f"le lab ne tourne pas ({path} absent) ; lancez d'abord « svi-acd lab up »."
    options.sound_folder = SoundFolder(Path(sounds), asterisk_sounds)
    options.queue_log = queue_log
    # Credentials set in the environment win, as for any service.
    options.ami_credentials = AmiCredentials.from_env() or AmiCredentials.from_env(lab)
    return None


def register(subparsers: argparse._SubParsersAction, help_text: str) -> None:
    serve = subparsers.add_parser("serve", help=help_text)
    add_config_option(serve)
    add_db_option(serve)
    serve.add_argument("--agi-port", type=int, help="port FastAGI (défaut : configuration)")
    serve.add_argument(
        "--web-port",
        type=int,
        help="port de l'API web (défaut : configuration service.web ; 0 : un port libre ; "
        "-1 : pas d'API web)",
    )
    serve.add_argument(
        "--clock",
        metavar="ISO8601",
        help="faire partir l'horloge du service de cet instant (essais, répétitions)",
    )
    serve.add_argument(
        "--lab",
        action="store_true",
        help="servir le lab local (svi-acd lab up) : ses sons et ses identifiants AMI",
    )
    serve.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    serve.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    logs.configure(args.log_level)
    clock = system_clock
    if args.clock:
        try:
            clock = shifted_clock(parse_instant(args.clock, ZoneInfo(settings.desk.timezone)))
        except ValueError as exc:
            print(f"Erreur : {exc}", file=sys.stderr)
            return 2
    options = ServiceOptions(
        database_url(args, settings), clock=clock, agi_port=args.agi_port, web_port=args.web_port
    )
    if args.lab and (problem := serve_the_lab(options)):
        print(f"Erreur : {problem}", file=sys.stderr)
        return 1

    async def run() -> int:
        try:
            service = await start_service(settings, options)
        except ServiceError as exc:
            print(f"Erreur : {exc}", file=sys.stderr)
            return 1
        if service.async_agi is not None:
            # "Ready" means the heartbeat is set: from then on the dialplan hands calls over.
            with contextlib.suppress(TimeoutError):
                await service.async_agi.wait_ready(ASYNCAGI_READY_S)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        print(f"Service prêt : {service.describe()}", file=sys.stderr, flush=True)
        await stopping.wait()
        await service.stop()
        return 0

    return asyncio.run(run())
