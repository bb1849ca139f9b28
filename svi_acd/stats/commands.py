"""``svi-acd stats …``: import the queue_log, reports, abandoned calls, monthly table, ITSM."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.cli_options import (
    add_config_option,
    add_db_option,
    database_url,
    run_on_database,
    settings_from,
)
from svi_acd.stats.abandoned import abandoned_calls, forget_caller_numbers
from svi_acd.stats.csv_imports import MAX_BYTES, parse_history_csv, parse_ticket_csv
from svi_acd.stats.export import Column, Table, report_table, to_csv, write_xlsx
from svi_acd.stats.itsm import (
    ItsmError,
    ItsmSettingsError,
    matrix42_source,
    store_tickets,
    sync_tickets,
)
from svi_acd.stats.journal import ImportResult, follow, import_queue_log
from svi_acd.stats.measures import Thresholds, definitions
from svi_acd.stats.monthly import MONTHLY_DEFINITIONS, monthly_table, store_history
from svi_acd.stats.outcome import PARIS
from svi_acd.stats.pause_report import PAUSE_KINDS, pause_report, pause_table
from svi_acd.stats.reports import REPORT_KINDS, Report, build_report
from svi_acd.stats.retention import forget_before
from svi_acd.stats.store import ImportConflict, count_calls, ensure_rollups

T = TypeVar("T")
FORMATS = ("json", "csv", "xlsx")


class InputError(ValueError):
    """Bad user input: printed in French, exit code 2."""


def register(subparsers: argparse._SubParsersAction, help_text: str) -> None:
    stats = subparsers.add_parser("stats", help=help_text)
    actions = stats.add_subparsers(dest="action", metavar="ACTION", required=True)
    _import_parsers(actions)
    _report_parsers(actions)
    _data_parsers(actions)


def _common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_config_option(parser)
    add_db_option(parser)
    return parser


def _import_parsers(actions: argparse._SubParsersAction) -> None:
    imp = _common(actions.add_parser("import", help="importer le queue_log d'Asterisk"))
    imp.add_argument("--queue-log", required=True, metavar="FICHIER")
    imp.add_argument(
        "--sans-rotation",
        action="store_true",
        help="ne pas lire les fichiers tournés (FICHIER.1, FICHIER.2.gz…)",
    )
    imp.add_argument("--json", action="store_true", help="résumé en JSON")
    imp.set_defaults(handler=import_command)
    fol = _common(actions.add_parser("follow", help="suivre le queue_log en continu"))
    fol.add_argument("--queue-log", required=True, metavar="FICHIER")
    fol.add_argument("--intervalle", type=float, default=1.0, metavar="S")
    fol.set_defaults(handler=follow_command)
    rebuild = _common(actions.add_parser("rebuild", help="recalculer les agrégats horaires"))
    rebuild.set_defaults(handler=rebuild_command)


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="json")
    parser.add_argument("--output", metavar="FICHIER", help="défaut : sortie standard")


def _report_parsers(actions: argparse._SubParsersAction) -> None:
    report = _common(actions.add_parser("report", help="rapport par période, file, agent…"))
    report.add_argument("--from", dest="start", required=True, metavar="AAAA-MM-JJ")
    report.add_argument("--to", dest="end", required=True, metavar="AAAA-MM-JJ")
    report.add_argument("--by", required=True, choices=REPORT_KINDS)
    _output_options(report)
    report.set_defaults(handler=report_command)
    pauses = _common(actions.add_parser("pauses", help="pauses des agents : motifs et durées"))
    pauses.add_argument("--from", dest="start", required=True, metavar="AAAA-MM-JJ")
    pauses.add_argument("--to", dest="end", required=True, metavar="AAAA-MM-JJ")
    pauses.add_argument(
        "--by",
        choices=PAUSE_KINDS,
        default="agent",
        help="agent (par agent et motif, défaut), reason (par motif) ou day (par jour et motif)",
    )
    _output_options(pauses)
    pauses.set_defaults(handler=pauses_command)
    abandoned = _common(actions.add_parser("abandoned", help="appels abandonnés à rappeler"))
    abandoned.add_argument("--from", dest="start", required=True, metavar="AAAA-MM-JJ")
    abandoned.add_argument("--to", dest="end", required=True, metavar="AAAA-MM-JJ")
    _output_options(abandoned)
    abandoned.set_defaults(handler=abandoned_command)
    monthly = _common(actions.add_parser("monthly", help="tableau mensuel avec historique"))
    monthly.add_argument("--from-month", metavar="AAAA-MM")
    monthly.add_argument("--to-month", metavar="AAAA-MM")
    _output_options(monthly)
    monthly.set_defaults(handler=monthly_command)


def _data_parsers(actions: argparse._SubParsersAction) -> None:
    history = _common(actions.add_parser("history", help="importer l'historique mensuel (CSV)"))
    history.add_argument("file", metavar="FICHIER")
    history.set_defaults(handler=history_command)
    tickets = actions.add_parser("tickets", help="tickets ouverts dans l'ITSM")
    ticket_actions = tickets.add_subparsers(dest="tickets_action", metavar="ACTION", required=True)
    imp = _common(ticket_actions.add_parser("import", help="importer un export CSV de tickets"))
    imp.add_argument("file", metavar="FICHIER")
    imp.set_defaults(handler=tickets_import_command)
    sync = _common(
        ticket_actions.add_parser(
            "sync",
            help="lire les tickets dans Matrix42 (adresse et nom de la variable du jeton : "
            "section itsm de la configuration ; sinon --url et $SVI_ACD_MATRIX42_TOKEN)",
        )
    )
    sync.add_argument("--from", dest="start", required=True, metavar="AAAA-MM-JJ")
    sync.add_argument("--to", dest="end", required=True, metavar="AAAA-MM-JJ")
    sync.add_argument(
        "--url",
        default=os.environ.get("SVI_ACD_MATRIX42_URL"),
        help="adresse de Matrix42 (défaut : $SVI_ACD_MATRIX42_URL, sinon itsm.url)",
    )
    sync.set_defaults(handler=tickets_sync_command)
    forget = _common(
        actions.add_parser(
            "forget-numbers", help="effacer les numéros d'appelants au-delà de la conservation"
        )
    )
    forget.add_argument(
        "--days", type=int, metavar="JOURS", help="défaut : conservation_numeros_jours"
    )
    forget.set_defaults(handler=forget_command)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} : date invalide « {text} » (format AAAA-MM-JJ)") from None


def _range(args: argparse.Namespace) -> tuple[date, date]:
    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    if start > end:
        raise InputError("--from doit précéder ou égaler --to")
    return start, end


def _thresholds(args: argparse.Namespace) -> Thresholds:
    statistics = settings_from(args).statistics
    return Thresholds(statistics.short_abandon_s, statistics.service_level_s)


def _run(args: argparse.Namespace, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    return run_on_database(database_url(args, settings_from(args)), work)


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except InputError as exc:
            print(f"Erreur : {exc}", file=sys.stderr)
            return 2
        except (ItsmError, ImportConflict) as exc:
            message = str(exc)
            if isinstance(exc, ImportConflict):
                message = f"un autre import de {exc} est en cours ; réessayez ensuite."
            print(f"Échec : {message}", file=sys.stderr)
            return 1

    return wrapper


def _emit(table: Table, document: dict[str, Any], args: argparse.Namespace) -> int:
    output = Path(args.output) if args.output else None
    if args.format == "xlsx":
        if output is None:
            raise InputError("le format xlsx demande --output FICHIER.xlsx")
        write_xlsx([table], output)
        print(f"Classeur écrit : {output}")
        return 0
    text = (
        json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
        if args.format == "json"
        else to_csv(table)
    )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8-sig" if args.format == "csv" else "utf-8")
    return 0


def _import_summary(result: ImportResult) -> list[str]:
    lines = []
    for item in result.files:
        text = f"{item.path} : {item.lines} ligne(s) lue(s), {item.events} évènement(s) d'appel"
        text += f", {item.calls} appel(s) mis à jour"
        if item.pauses:
            text += f", {item.pauses} pause(s) d'agent enregistrée(s)"
        if item.malformed_count:
            text += f", {item.malformed_count} ligne(s) mal formée(s)"
        if item.pending_bytes:
            text += ", dernière ligne incomplète laissée pour plus tard"
        if item.note:
            text += f" ({item.note})"
        lines.append(text)
        lines.extend(f"  {malformed}" for malformed in item.malformed[:50])
    return lines


@_guarded
def import_command(args: argparse.Namespace) -> int:
    path, thresholds = Path(args.queue_log), _thresholds(args)
    if not path.is_file():
        raise InputError(f"fichier introuvable : {path}")
    result = _run(
        args,
        lambda engine: import_queue_log(engine, path, thresholds, rotated=not args.sans_rotation),
    )
    if args.json:
        files = [{"path": f.path, "lines": f.lines, "events": f.events, "calls": f.calls,
                  "pauses": f.pauses,
                  "malformed": [{"line": m.line, "reason": m.reason} for m in f.malformed],
                  "malformed_count": f.malformed_count, "pending_bytes": f.pending_bytes}
                 for f in result.files]  # fmt: skip
        print(json.dumps({"files": files, "lines": result.lines}, ensure_ascii=False, indent=2))
    else:
        print("\n".join(_import_summary(result)))
    return 0


@_guarded
def follow_command(args: argparse.Namespace) -> int:
    path, thresholds = Path(args.queue_log), _thresholds(args)

    def report(result: ImportResult) -> None:
        print("\n".join(_import_summary(result)), flush=True)

    _run(args, lambda engine: follow(path, engine, thresholds, interval=args.intervalle,
                                     on_import=report))  # fmt: skip
    return 0


@_guarded
def rebuild_command(args: argparse.Namespace) -> int:
    thresholds = _thresholds(args)
    _run(args, lambda engine: ensure_rollups(engine, thresholds, force=True))
    print("Agrégats horaires recalculés.")
    return 0


@_guarded
def report_command(args: argparse.Namespace) -> int:
    start, end = _range(args)
    thresholds = _thresholds(args)
    url = database_url(args, settings_from(args))

    async def work(engine: AsyncEngine) -> tuple[Report, int | None]:
        report = await build_report(engine, args.by, start, end, thresholds)
        # An empty report must not pass for a quiet day: say which database was read.
        total = None if report.totals.get("received") else await count_calls(engine)
        return report, total

    report, total = run_on_database(url, work)
    if total is not None:
        print(empty_report_note(url, start, end, total), file=sys.stderr)
    return _emit(report_table(report), report.as_json(), args)


def empty_report_note(url: str, start: date, end: date, total: int) -> str:
    where = make_url(url).render_as_string(hide_password=True)
    if total == 0:
        return (
            f"Note : la base {where} est vide (aucun journal importé) ; importez le journal "
            "d'Asterisk avec « svi-acd stats import --queue-log FICHIER », ou indiquez la "
            "bonne base (--db, $SVI_ACD_DB_URL, $SVI_ACD_DATA)."
        )
    return (
        f"Note : aucun appel du {start:%d/%m/%Y} au {end:%d/%m/%Y} dans la base {where} "
        f"({total} appel(s) à d'autres dates)."
    )


@_guarded
def pauses_command(args: argparse.Namespace) -> int:
    start, end = _range(args)
    report = _run(args, lambda engine: pause_report(engine, start, end, args.by))
    return _emit(pause_table(report), report.as_json(), args)


ABANDONED_COLUMNS = [
    Column("time", "Heure de l'appel", "text"), Column("caller", "Numéro", "text"),
    Column("wait_seconds", "Attente (s)"), Column("queue", "File", "text"),
    Column("territory", "Territoire", "text"), Column("vip", "VIP / P0", "text"),
    Column("ticket", "Ticket", "text"), Column("callid", "Identifiant d'appel", "text"),
]  # fmt: skip


@_guarded
def abandoned_command(args: argparse.Namespace) -> int:
    start, end = _range(args)
    thresholds = _thresholds(args)
    calls = _run(args, lambda engine: abandoned_calls(engine, start, end, thresholds))
    rows = [call.as_json() for call in calls]
    meaning = {"abandoned": definitions(thresholds)["abandoned"]}
    table = Table("Abandons à rappeler", ABANDONED_COLUMNS, rows, None, meaning,
                  {"from": start.isoformat(), "to": end.isoformat()})  # fmt: skip
    return _emit(table, {"definitions": meaning, "rows": rows, "totals": {"abandoned": len(rows)}},
                 args)  # fmt: skip


MONTHLY_COLUMNS = [
    Column("month", "Mois", "text"), Column("presented", "Appels présentés"),
    Column("served", "Appels servis"), Column("tickets_opened", "Tickets ouverts"),
    Column("answer_rate", "Taux de décroché", "rate"),
    Column("calls_per_ticket", "Appels par ticket", "seconds"),
    Column("calls_source", "Source des appels", "text"),
    Column("tickets_source", "Source des tickets", "text"),
]  # fmt: skip


def _month(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    try:
        datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise InputError(f"{option} : mois invalide « {text} » (format AAAA-MM)") from None
    return text


@_guarded
def monthly_command(args: argparse.Namespace) -> int:
    first, last = _month(args.from_month, "--from-month"), _month(args.to_month, "--to-month")
    if first and last and first > last:
        raise InputError("--from-month doit précéder ou égaler --to-month")
    thresholds = _thresholds(args)
    months = _run(args, lambda engine: monthly_table(engine, first, last, thresholds))
    rows = [month.as_json() for month in months]
    totals = {name: sum(row[name] or 0 for row in rows)
              for name in ("presented", "served", "tickets_opened")}  # fmt: skip
    table = Table("Tableau mensuel", MONTHLY_COLUMNS, rows, None, MONTHLY_DEFINITIONS, {})
    document = {"definitions": MONTHLY_DEFINITIONS, "rows": rows, "totals": totals}
    return _emit(table, document, args)


def _read(path_text: str) -> bytes:
    path = Path(path_text)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"{path} dépasse {MAX_BYTES // 2**20} Mio")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"lecture de {path} impossible ({exc.strerror})") from None


def _refuse(errors: list[str]) -> int:
    print(f"Import refusé : {len(errors)} erreur(s), rien n'a été importé.", file=sys.stderr)
    for error in errors[:100]:
        print(f"  {error}", file=sys.stderr)
    return 2


@_guarded
def history_command(args: argparse.Namespace) -> int:
    parsed = parse_history_csv(_read(args.file))
    if parsed.errors:
        return _refuse(parsed.errors)
    _run(args, lambda engine: store_history(engine, parsed.items, Path(args.file).name))
    print(f"Historique importé : {len(parsed.items)} mois.")
    return 0


@_guarded
def tickets_import_command(args: argparse.Namespace) -> int:
    parsed = parse_ticket_csv(_read(args.file))
    if parsed.errors:
        return _refuse(parsed.errors)
    count = _run(args, lambda engine: store_tickets(engine, parsed.items, "csv"))
    print(f"Tickets importés : {count}.")
    return 0


@_guarded
def tickets_sync_command(args: argparse.Namespace) -> int:
    start, end = _range(args)
    try:
        source = matrix42_source(settings_from(args).itsm, args.url, os.environ)
    except ItsmSettingsError as exc:
        raise InputError(str(exc)) from None
    first = datetime.combine(start, time(0), PARIS)
    after = datetime.combine(end + timedelta(days=1), time(0), PARIS)
    count = _run(args, lambda engine: sync_tickets(engine, source, first, after, "matrix42"))
    print(f"Tickets lus dans Matrix42 : {count}.")
    return 0


@_guarded
def forget_command(args: argparse.Namespace) -> int:
    days = args.days or settings_from(args).privacy.caller_number_retention_days
    if days < 1:
        raise InputError("--days doit être au moins 1")
    before = forget_before(datetime.now(PARIS), days)
    count = _run(args, lambda engine: forget_caller_numbers(engine, before))
    print(f"Numéros effacés : {count} appel(s) antérieur(s) au {before:%d/%m/%Y}.")
    return 0
