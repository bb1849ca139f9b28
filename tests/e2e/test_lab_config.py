"""The lab's Asterisk configuration comes from our settings (pure functions, no Asterisk)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from lab.commands import caller_numbers, describe_call
from lab.queue_log import call_ids_for_caller, caller_reached, parse_line
from lab.system import LabError, _main_archive_uris
from svi_acd.asterisk.confgen.files import AsteriskOptions, AsteriskPaths, generate
from svi_acd.config.model import Settings


def options(**changes: object) -> AsteriskOptions:
    base = AsteriskOptions(paths=AsteriskPaths("/srv/lab"), ami_user="svi", ami_secret="s3cret")
    return replace(base, **changes)  # type: ignore[arg-type]


def with_second_queue(settings: Settings) -> Settings:
    telephony = settings.queues["support"].model_copy(
        update={"name": "Téléphonie", "strategy": "leastrecent", "ring_timeout_s": 20}
    )
    return settings.model_copy(update={"queues": {**settings.queues, "telephonie": telephony}})


def test_every_configured_queue_becomes_an_asterisk_queue_with_its_settings(
    settings: Settings,
) -> None:
    queues = generate(with_second_queue(settings), options(agent_count=3))["queues.conf"]
    assert re.findall(r"^\[(\w+)\]$", queues, flags=re.MULTILINE) == [
        "general", "support", "telephonie",
    ]  # fmt: skip
    telephony = queues.split("[telephonie]")[1]
    assert "strategy = leastrecent" in telephony and "timeout = 20" in telephony
    assert "ringinuse = no" in telephony and "autofill = yes" in telephony
    assert telephony.count("member => PJSIP/agent") == 3


def test_dynamic_members_leave_queues_empty_for_the_service(settings: Settings) -> None:
    queues = generate(settings, options(static_members=False))["queues.conf"]
    assert "member =>" not in queues


def test_support_number_falls_back_to_the_default_queue_unless_the_flow_is_done(
    settings: Settings,
) -> None:
    dialplan = generate(settings, options())["extensions.conf"]
    assert "SVI_AGI_URL = agi://127.0.0.1:4573/svi" in dialplan
    assert f"SVI_DEFAULT_QUEUE = {settings.default_queue}" in dialplan
    support = dialplan.split("exten => 3000,1,")[1].split("\n\n")[0]
    assert "Set(SVI_FLOW_DONE=)" in support
    assert "TIMEOUT(absolute)=${SVI_FLOW_GUARD_S}" in support
    assert support.index("AGI(${SVI_AGI_URL},repondu)") < support.index('"${SVI_FLOW_DONE}" = "1"')
    assert "Goto(svi-secours,s,1)" in support
    fallback = dialplan.split("[svi-secours]")[1].split("\n\n")[0]
    assert "Playback(${SVI_FALLBACK_SOUND})" in fallback
    assert fallback.index("Playback") < fallback.index("Set(SVI_QUEUE=${SVI_DEFAULT_QUEUE})")
    assert fallback.rstrip().endswith("Goto(svi-file,s,1)")
    assert "exten => T,1,Goto(svi-secours,s,1)" in dialplan


def test_every_path_that_queues_a_caller_follows_a_withdrawal(settings: Settings) -> None:
    """The ACD withdraws only callers waiting in svi-file; every Queue() of a caller is there
    (the callback placeholder's is the only other one, and the ACD never moves it)."""
    dialplan = generate(settings, options())["extensions.conf"]
    contexts = {part.split("]")[0]: part for part in dialplan.split("\n[")[1:]}
    queueing = sorted(name for name, text in contexts.items() if "Queue(" in text)
    assert queueing == ["svi-file", "svi-rappel"]
    queue = contexts["svi-file"]
    assert queue.index("Queue(${SVI_QUEUE})") < queue.index(
        '"${QUEUESTATUS}" = "WITHDRAW"]?svi-debordement,${QUEUE_WITHDRAW_INFO},1'
    )
    for name in ("svi-secours", "svi-suite", "menu-plan", "svi-debordement"):
        assert "Goto(svi-file,s,1)" in contexts[name], name
    # A destination the dialplan does not know puts the caller back in the queue.
    assert "exten => i,1,Playback(${SVI_FALLBACK_SOUND})" in contexts["svi-debordement"]


def test_pure_dialplan_menu_offers_the_configured_digits(settings: Settings) -> None:
    menu = generate(settings, options())["extensions.conf"].split("[menu-plan]")[1]
    for digit in ("1", "2", "3", "4"):
        assert f"exten => {digit},1," in menu
    assert "WaitExten(5)" in menu


def test_ami_and_sip_listen_on_loopback_only(settings: Settings) -> None:
    files = generate(settings, options(sip_port=5999))
    manager = files["manager.conf"]
    assert "bindaddr = 127.0.0.1" in manager
    assert f"port = {settings.service.ami.port}" in manager
    assert "[svi]\nsecret = s3cret" in manager and "timestampevents = yes" in manager
    assert "bind = 127.0.0.1:5999" in files["pjsip.conf"]
    assert "contact = sip:agent2@127.0.0.1:5072" in files["pjsip.conf"]


def test_asterisk_conf_is_not_the_samples_ignored_template(settings: Settings) -> None:
    files = generate(settings, options())
    assert files["asterisk.conf"].startswith("[directories]\n")
    assert "astlogdir => /srv/lab/log" in files["asterisk.conf"]
    modules = files["modules.conf"]
    assert "autoload = no" in modules
    for needed in ("res_agi", "res_speech", "chan_pjsip", "res_pjsip_session", "app_queue"):
        assert f"load => {needed}.so" in modules
    assert "queue_log = yes" in files["logger.conf"]


def test_queue_names_asterisk_cannot_use_are_refused(settings: Settings) -> None:
    odd = settings.model_copy(update={"queues": {"file support": settings.queues["support"]}})
    with pytest.raises(ValueError, match="file support"):
        generate(odd, options())


def test_mirror_is_read_from_apt_sources() -> None:
    deb822 = "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n"
    assert _main_archive_uris(deb822) == ["http://mirror.example/debian"]
    one_line = "deb [arch=amd64] http://deb.example/debian bookworm main\n"
    assert _main_archive_uris(one_line) == ["http://deb.example/debian"]
    assert _main_archive_uris("URIs: http://deb.example/debian-security\n") == []


def test_scripted_callers_count_up_from_the_first_number() -> None:
    assert caller_numbers("0612345698", 3) == ["0612345698", "0612345699", "0612345700"]


def test_queue_log_lines_link_a_caller_to_its_call() -> None:
    lines = [
        "1795461391|1795461389.4|support|NONE|ENTERQUEUE||0612345678|1",
        "1795461392|1795461389.4|support|agent3|CONNECT|1|1795461391.5|1",
        "not a queue_log line",
    ]
    entries = [entry for line in lines if (entry := parse_line(line))]
    assert call_ids_for_caller(entries, "0612345678") == ["1795461389.4"]
    assert caller_reached(entries, "0612345678", "CONNECT")
    assert not caller_reached(entries, "0699999999", "CONNECT")


@pytest.mark.parametrize("garbage", ["", "abc", "06 12 ab", "+", "1"])
def test_caller_numbers_that_cannot_be_dialled_are_refused_in_french(garbage: str) -> None:
    with pytest.raises(LabError, match="numéro d'appelant invalide"):
        caller_numbers(garbage, 1)


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        (["SVI_CALL|FR|", "SVI_BRANCH|incident"], "raccroché dans le SVI"),
        (["SVI_CALL|FR|", "SVI_CLOSED|desk_hours|"], "centre fermé"),
        (["SVI_CALL|MQ|", "SVI_TERRITORY_CLOSED|territory_hours|MQ"], "hors de la fenêtre"),
        (["SVI_CALL|FR|", "SVI_DETERRED|42"], "dissuadé"),
        (["SVI_CALL|FR|", "SVI_OVERFLOW|tous occupés|message:sature"],
         "débordé à l'entrée vers message:sature"),
        (["SVI_CALL|FR|", "ENTERQUEUE||0140000001|1", "SVI_OVERFLOW|long|message:sature",
          "WITHDRAW|1|1|12|message"], "retiré de la file par le débordement vers message:sature"),
        (["ENTERQUEUE||0140000001|1", "ABANDON|1|1|12"], "ABANDON (file support)"),
        ([], "raccroché avant le SVI"),
    ],
)  # fmt: skip
def test_each_calls_outcome_is_told_from_its_own_lines(lines: list[str], said: str) -> None:
    entries = [
        entry
        for number, text in enumerate(lines)
        if (entry := parse_line(f"{1795461391 + number}|1.1|support|NONE|{text}"))
    ]
    told = describe_call("1.1", entries)
    assert told.startswith(said) and told.endswith("(appel 1.1)")
