"""``svi-acd route``: what happens if this number calls at that moment?"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from svi_acd.cli_options import (
    add_config_option,
    add_db_option,
    database_url,
    run_on_database,
    settings_from,
)
from svi_acd.directory.store import load_directory
from svi_acd.french import long_moment
from svi_acd.routing.decision import REASON_LABELS, Decision, Router


def register(subparsers: argparse._SubParsersAction, help_text: str) -> None:
    route = subparsers.add_parser("route", help=help_text)
    route.add_argument("--caller", required=True, metavar="NUMERO", help="numéro présenté")
    route.add_argument(
        "--at",
        metavar="ISO8601",
        help="instant de l'appel, ex. 2026-07-08T14:00:00+02:00 (sans fuseau : heure de Paris ; "
        "défaut : maintenant)",
    )
    route.add_argument("--json", action="store_true", help="sortie JSON")
    add_config_option(route)
    add_db_option(route)
    route.set_defaults(handler=route_command)


def parse_instant(text: str | None, zone: ZoneInfo) -> datetime:
    if text is None:
        return datetime.now(zone)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"instant invalide « {text} » (format ISO 8601 attendu)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def decision_json(decision: Decision, router: Router) -> dict[str, Any]:
    entry = decision.status.entry
    territory = router.settings.territories.get(decision.territory or "")  # type: ignore[call-overload]
    territory_name = territory.name if territory else None
    if decision.territory == "FR":
        territory_name = "Métropole"
    return {
        "caller": decision.caller.e164,
        "caller_raw": decision.caller.raw,
        "territory": decision.territory,
        "territory_name": territory_name,
        "at": decision.at.astimezone(router.desk.zone).isoformat(),
        "open": decision.open,
        "reason": decision.reason,
        "reason_text": REASON_LABELS[decision.reason],
        "holiday": decision.holiday,
        "vip": decision.vip,
        "priority": decision.priority,
        "directory": None
        if entry is None
        else {"name": entry.name, "entity": entry.entity, "site": entry.site, "level": entry.level},
        "open_until": _iso(
            until.astimezone(router.desk.zone)
            if (until := router.open_until(decision.territory, decision.at))
            else None
        ),
        "next_open": _iso(decision.next_open),
        "next_open_local": _iso(decision.next_open_local),
    }


def _human(data: dict[str, Any]) -> str:
    who = data["caller"] or f"numéro inexploitable « {data['caller_raw']} »"
    where = data["territory_name"] or data["territory"]
    if data["caller"] is None:
        where = "numéro inconnu, traité comme la métropole"
    lines = [f"Appelant : {who} (territoire : {where})"]
    if data["directory"]:
        d = data["directory"]
        lines.append(f"Annuaire : {d['level']} {d['name']} ({d['entity']}, {d['site']})")
    state = "SERVI" if data["open"] else "NON SERVI"
    lines.append(f"Décision : {state} — {data['reason_text']}")
    if data["holiday"]:
        lines.append(f"Jour : {data['holiday']}")
    if data["priority"]:
        lines.append(f"Priorité : {data['priority']}")
    if data["open_until"]:
        closes = long_moment(datetime.fromisoformat(data["open_until"]))
        lines.append(f"Servi jusqu'à : {closes} (heure de Paris)")
    if data["next_open"]:
        paris = long_moment(datetime.fromisoformat(data["next_open"]))
        local = long_moment(datetime.fromisoformat(data["next_open_local"]))
        lines.append(f"Prochaine ouverture : {paris} (heure de Paris)")
        if local != paris:
            lines.append(f"                      {local} (heure locale de l'appelant)")
    return "\n".join(lines)


def route_command(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    router = Router(settings)
    try:
        at = parse_instant(args.at, router.desk.zone)
    except ValueError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    directory = run_on_database(database_url(args, settings), load_directory)
    data = decision_json(router.decide(args.caller, at, directory), router)
    print(json.dumps(data, ensure_ascii=False) if args.json else _human(data))
    return 0
