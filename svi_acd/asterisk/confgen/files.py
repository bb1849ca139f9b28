"""Asterisk's configuration files, generated from our settings (the lab runs exactly these).

``generate(settings, options)`` is a pure function returning ``{file name: text}``;
``write_config`` puts the files in place. The dialplan lives in ``dialplan.py``. What the
settings do not say (paths, ports, credentials, agents' phones) comes in ``AsteriskOptions``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from svi_acd.asterisk.confgen.dialplan import DialplanOptions, extensions_conf, support_agi_url
from svi_acd.asterisk.contract import AGENTS_CONTEXT, ANSWERED_ARG, CALLER_CONTEXT
from svi_acd.config.model import QueueSettings, Settings

MODULE_DIR = "/usr/lib/x86_64-linux-gnu/asterisk/modules"  # Debian's, inside the chroot
CALLER_ENDPOINT = CALLER_CONTEXT  # the callers' endpoint lands in the callers' context
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

# With autoload=no every module is listed; the comments say why each is needed.
MODULES: tuple[str, ...] = (
    "res_timing_timerfd",  # timing source for playback and bridges
    "res_rtp_asterisk",  # RTP, including RFC 4733/2833 DTMF
    "codec_ulaw", "codec_alaw", "codec_gsm", "codec_a_mu", "codec_resample",
    "format_gsm", "format_wav", "format_wav_gsm", "format_sln", "format_pcm",
    "res_pjproject", "res_sorcery_config", "res_sorcery_memory", "res_sorcery_astdb",
    "res_pjsip", "res_pjsip_pubsub", "res_pjsip_session", "chan_pjsip",
    "res_pjsip_sdp_rtp",
    "res_pjsip_endpoint_identifier_ip",  # the caller trunk is identified by address
    "res_pjsip_authenticator_digest",  # without it: a warning on every request
    "res_pjsip_caller_id",
    "res_pjsip_header_funcs",  # PJSIP_HEADER(): tests may pass data in SIP headers
    "res_pjsip_logger",  # `pjsip set logger on` when debugging
    "bridge_simple", "bridge_native_rtp", "bridge_holding", "bridge_builtin_features",
    "pbx_config",
    "res_speech",  # needed by res_agi
    "res_agi",
    "app_queue", "app_playback", "app_read", "app_verbose", "app_exec", "app_stack",
    "app_userevent", "app_echo", "app_sayunixtime",
    "app_dial",  # a callback: the placeholder's other half dials the caller back
    "app_voicemail",  # the « messagerie » overflow destination
    "func_timeout", "func_logic", "func_strings", "func_callerid", "func_channel",
    "func_global", "func_math", "func_cut",
)  # fmt: skip


QUIET_DEFAULTS = (
    "features.conf",
    "acl.conf",
    "udptl.conf",
    "pjproject.conf",
    "ccss.conf",
    "queuerules.conf",
)


@dataclass(frozen=True)
class AsteriskPaths:
    """Where Asterisk keeps its files (the lab's: inside its chroot)."""

    base: str
    module_dir: str = MODULE_DIR

    @property
    def etc(self) -> str:
        return f"{self.base}/etc"

    @property
    def log(self) -> str:
        return f"{self.base}/log"

    @property
    def run(self) -> str:
        return f"{self.base}/run"

    @property
    def spool(self) -> str:
        return f"{self.base}/spool"

    @property
    def lib(self) -> str:
        return f"{self.base}/lib"

    @property
    def cache(self) -> str:
        return f"{self.base}/cache"

    @property
    def sounds(self) -> str:
        """Prompts the service writes for this Asterisk (service.dossier_sons_asterisk)."""
        return f"{self.base}/sons"

    @property
    def asterisk_conf(self) -> str:
        return f"{self.etc}/asterisk.conf"

    def all(self) -> tuple[str, ...]:
        return (self.etc, self.log, self.run, self.spool, self.lib, self.cache, self.sounds)


@dataclass(frozen=True)
class AgentPhone:
    """An agent endpoint ``PJSIP/<name>`` that an SIPp UAS answers for at ``port``."""

    name: str
    port: int

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.name}"


@dataclass(frozen=True)
class AsteriskOptions:
    """What the settings do not say: paths, ports, credentials and the agents' phones."""

    paths: AsteriskPaths
    ami_user: str
    ami_secret: str
    sip_port: int = 5060
    ami_port: int | None = None  # None: settings.service.ami.port
    agi_host: str | None = None  # None: settings.service.agi
    agi_port: int | None = None
    agent_count: int = 4
    agent_base_port: int = 5071
    static_members: bool = True  # False: members are added over AMI (QueueAdd)
    rtp_ports: tuple[int, int] = (10000, 19998)
    verbose: int = 0
    dialplan: DialplanOptions = field(default_factory=DialplanOptions)

    @property
    def agents(self) -> tuple[AgentPhone, ...]:
        return tuple(
            AgentPhone(f"agent{number}", self.agent_base_port + number - 1)
            for number in range(1, self.agent_count + 1)
        )

    def ami_port_for(self, settings: Settings) -> int:
        return self.ami_port or settings.service.ami.port

    def agi_url_for(self, settings: Settings) -> str:
        host = self.agi_host or settings.service.agi.host
        port = self.agi_port or settings.service.agi.port
        # ?repondu: the support number answers before AGI(), and the service can start the
        # flow from the first header lines (see ivr.fastagi).
        return support_agi_url(settings, f"agi://{host}:{port}/svi?{ANSWERED_ARG}")


def generate(settings: Settings, options: AsteriskOptions) -> dict[str, str]:
    """Every configuration file of the lab's Asterisk, from the settings."""
    for name in settings.queues:
        if not _SAFE_NAME.match(name):
            raise ValueError(
                f"nom de file « {name} » inutilisable par Asterisk (lettres, chiffres, - et _)"
            )
    return {
        "asterisk.conf": asterisk_conf(options),
        "modules.conf": modules_conf(),
        "logger.conf": logger_conf(options.verbose),
        "manager.conf": manager_conf(settings, options),
        "pjsip.conf": pjsip_conf(options),
        "queues.conf": queues_conf(settings, options),
        "voicemail.conf": voicemail_conf(settings),
        "extensions.conf": extensions_conf(
            settings, options.dialplan, agi_url=options.agi_url_for(settings)
        ),
        "rtp.conf": rtp_conf(options),
        "indications.conf": INDICATIONS_CONF,
        "cdr.conf": "[general]\nenable = no\n",
        "cel.conf": "[general]\nenable = no\n",
        # Defaults are right; the files only keep "unable to load" errors out of the log.
        **{name: "; defaults\n" for name in QUIET_DEFAULTS},
    }


def write_config(files: dict[str, str], directory: Path) -> None:
    """Write each file atomically (a reload never reads half a file)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        temporary = directory / f".{name}.tmp"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, directory / name)


def asterisk_conf(options: AsteriskOptions) -> str:
    paths = options.paths
    # `[directories](!)` as in the sample would be a template, silently ignored.
    return f"""[directories]
astcachedir => {paths.cache}
astetcdir => {paths.etc}
astmoddir => {paths.module_dir}
astvarlibdir => /var/lib/asterisk
astdbdir => {paths.lib}
astkeydir => /var/lib/asterisk
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => {paths.spool}
astrundir => {paths.run}
astlogdir => {paths.log}
astsbindir => /usr/sbin

[options]
verbose = {options.verbose}
debug = 0
defaultlanguage = fr
documentation_language = en_US
hideconnect = yes
"""


def modules_conf() -> str:
    lines = ["[modules]", "autoload = no", *(f"load => {name}.so" for name in MODULES)]
    return "\n".join(lines) + "\n"


def logger_conf(verbose: int = 0) -> str:
    # queue_log is the statistics journal; messages.log keeps warnings (and, when asked,
    # verbose traces: they cost CPU under load).
    levels = "notice,warning,error" + (",verbose" if verbose else "")
    return f"""[general]
dateformat = %F %T.%3q
queue_log = yes
queue_log_to_file = yes
queue_log_name = queue_log
queue_log_realtime_use_gmt = no

[logfiles]
messages.log => {levels}
"""


def manager_conf(settings: Settings, options: AsteriskOptions) -> str:
    return f"""[general]
enabled = yes
bindaddr = 127.0.0.1
port = {options.ami_port_for(settings)}
webenabled = no
displayconnects = no
; Event timestamps let the service measure Asterisk-to-service latency.
timestampevents = yes

[{options.ami_user}]
secret = {options.ami_secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = system,call,log,agent,user,config,dtmf,reporting,dialplan,agi
write = system,call,agent,user,config,command,reporting,originate,agi
writetimeout = 1000
"""


def pjsip_conf(options: AsteriskOptions) -> str:
    sections = [
        f"""[global]
type = global
user_agent = svi-acd-lab
endpoint_identifier_order = ip

[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:{options.sip_port}

; SIPp callers: identified by address, no authentication.
[{CALLER_ENDPOINT}]
type = endpoint
transport = transport-udp
context = {CALLER_ENDPOINT}
disallow = all
allow = ulaw,alaw,gsm
dtmf_mode = rfc4733
language = fr
direct_media = no
rtp_symmetric = yes

[{CALLER_ENDPOINT}]
type = identify
endpoint = {CALLER_ENDPOINT}
match = 127.0.0.1
"""
    ]
    for agent in options.agents:
        # A static contact: the SIPp UAS for this agent listens there, nothing registers.
        sections.append(
            f"""[{agent.name}]
type = aor
contact = sip:{agent.name}@127.0.0.1:{agent.port}
qualify_frequency = 0

[{agent.name}]
type = endpoint
transport = transport-udp
context = {AGENTS_CONTEXT}
aors = {agent.name}
disallow = all
allow = ulaw,alaw
dtmf_mode = rfc4733
language = fr
direct_media = no
"""
        )
    return "\n".join(sections)


def _queue_section(name: str, queue: QueueSettings, settings: Settings) -> list[str]:
    return [
        f"[{name}]",
        f"; {queue.name}",
        f"strategy = {queue.strategy}",
        f"timeout = {queue.ring_timeout_s}",
        "retry = 1",
        f"wrapuptime = {queue.wrapup_s}",
        # Asterisk's autopause acts on the first miss; the service pauses after N misses.
        "autopause = no",
        "ringinuse = no",
        "autofill = yes",
        "leavewhenempty = no",
        f"announce-position = {'yes' if queue.announce_position else 'no'}",
        f"announce-frequency = {queue.announce_frequency_s}",
        f"announce-holdtime = {'yes' if queue.announce_holdtime else 'no'}",
        "announce-round-seconds = 30",
        "min-announce-frequency = 15",
        f"servicelevel = {settings.statistics.service_level_s}",
        "setinterfacevar = yes",
        "setqueueentryvar = yes",
        "timeoutpriority = app",
    ]


def queues_conf(settings: Settings, options: AsteriskOptions) -> str:
    lines = ["[general]", "persistentmembers = no", "autofill = yes", "shared_lastcall = yes",
             "log_membername_as_agent = yes", ""]  # fmt: skip
    for name, queue in settings.queues.items():
        lines += _queue_section(name, queue, settings)
        if options.static_members:
            lines += [f"member => {agent.interface},0,{agent.name}" for agent in options.agents]
        lines.append("")
    return "\n".join(lines)


def voicemail_conf(settings: Settings) -> str:
    """A box for each mailbox an overflow rule names (messages stay inside the lab)."""
    boxes = sorted({rule.destination.mailbox for rule in settings.overflow
                    if rule.destination.mailbox})  # fmt: skip
    # maxsilence = 0: a lab caller (SIPp) may be silent; its message is kept all the same.
    lines = ["[general]", "format = wav", "maxmsg = 100", "maxsecs = 180", "minsecs = 1",
             "maxsilence = 0", "attach = no", "", "[default]"]  # fmt: skip
    lines += [f"{box} => 0000,Boîte du centre de services {box}" for box in boxes]
    return "\n".join(lines) + "\n"


def rtp_conf(options: AsteriskOptions) -> str:
    start, end = options.rtp_ports
    # strictrtp would drop the first packets (and so the first DTMF) while it learns the peer.
    return f"[general]\nrtpstart = {start}\nrtpend = {end}\nstrictrtp = no\n"


INDICATIONS_CONF = """[general]
country = fr

[fr]
description = France
ringcadence = 1500,3500
dial = 440
busy = 440/500,0/500
ring = 440/1500,0/3500
congestion = 440/250,0/250
callwaiting = 440/300,0/10000
dialrecall = !350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440
record = 1400/500,0/15000
info = !950/330,!1400/330,!1800/330
"""
