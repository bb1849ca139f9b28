"""« Supervision » (``/supervision``): the live wallboard, kept up to date by server-sent events.

Routes:

- ``GET /supervision``: the page, showing the board as it is at load time (readable without
  JavaScript: reload to refresh);
- ``GET /supervision/flux``: ``text/event-stream`` (``supervision.js`` reads it with
  ``EventSource`` and redraws the page in place);
- for ``supervision:ecriture`` only (the page shows the controls to those roles alone), plain
  forms with the CSRF field, each redirecting to ``/supervision?fait=…`` where a notice says
  what was done, or showing the page again with the ACD's refusal in French:
  ``POST /supervision/debordement/{nom}`` (``actif=oui|non``: « Rétablir » / « Couper » an
  overflow rule) and ``POST /supervision/agents/{interface}/pause|reprise|deconnexion``
  (``PJSIP/agent1``; ``motif`` for a pause, one of ``PAUSE_REASONS``).

The stream starts with ``retry: 5000`` then sends, each time the board changes::

    event: tableau
    id: 7
    data: {…one line of JSON, below…}

An ACD change wakes the stream at once (``AcdControl.wait_change``), so does a crisis change
(the live state's ``on_change``); every ``refresh_s`` seconds the board is also recomputed
(waiting times grow, the surge alert and today's figures move) and sent if it changed. When
nothing was sent for ``heartbeat_s`` seconds a comment line (``: battement``) keeps proxies
from closing the connection. On shutdown every stream ends; browsers reconnect by themselves.

The ``tableau`` JSON (the page is rendered from the same object)::

    {
      "genere_le": "2026-07-08T10:00:05+02:00",   # Paris time
      "heure": "10:00:05",
      "liaison": {"etat": "connectee" | "coupee" | "absente",  # AMI link of this instance
                  "libelle": "Liaison AMI connectée", "detail": "connecté depuis 09:58:00"},
      "attente": {"appels": 2, "vip": 1, "attente_max_s": 65.0, "attente_max": "1 min 05 s"},
      "agents": {"connectes": 3,
                 "etats": [{"etat": "libre", "libelle": "Libre", "icone": "fr-icon-check-line",
                            "nombre": 1}, …every AgentState, in a fixed order…]},
      "acd": {"ami_connectee": true, "files": [queue_json…], "agents": [agent_json…]} | null,
             # ``acd.board.snapshot_json`` (GET /api/acd's shape, numbers masked);
             # null: no ACD in this process (no AMI credentials)
      "jour": {"date": "2026-07-08", "presentes": 12, "servis": 10, "abandonnes": 1,
               "taux_decroche": 0.833 | null, "taux_abandon": 0.083 | null,
               "taux_decroche_texte": "83,3 %", "taux_abandon_texte": "8,3 %"} | null,
             # from the statistics database (presented, answered, abandoned as defined in
             # stats.measures), refreshed every ``stats_every_s``; null: no database
      "crise": [{"id": 3, "titre": "…", "mode": "dissuasion", "mode_libelle": "…",
                 "portee": "toute la ligne", "fin": "08/07/2026 18:00" | ""}],
             # messages callers hear now
      "afflux": {…SurgeStatus.as_json…, "libelle": "Afflux d'appels : …"} | null
             # null: no surge monitor in this process
    }
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from svi_acd.acd.board import AGENT_STATE_LABELS, AcdSnapshot, AgentState, snapshot_json
from svi_acd.acd.control import AcdError
from svi_acd.live.state import LiveState
from svi_acd.prompts.crisis_store import StoredMessage
from svi_acd.routing.crisis import CrisisSnapshot, message_status
from svi_acd.stats.measures import Thresholds
from svi_acd.stats.reports import build_report
from svi_acd.web.crisis_pages import MODE_LABELS, PARIS, paris_text
from svi_acd.web.keys import ACD, CRISIS, ENGINE, HEALTH, SETTINGS, SURGE
from svi_acd.web.pages import environment, render, sentence
from svi_acd.web.security import ACCOUNT, acting_user, requires

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

STATE_ICONS: dict[AgentState, str] = {
    "libre": "fr-icon-check-line",
    "sonnerie": "fr-icon-notification-3-line",
    "en_appel": "fr-icon-phone-fill",
    "post_appel": "fr-icon-edit-line",
    "pause": "fr-icon-pause-circle-line",
    "indisponible": "fr-icon-error-warning-line",
    "deconnecte": "fr-icon-logout-box-r-line",
}
LINK_LABELS = {
    "connectee": "Liaison AMI connectée",
    "coupee": "Liaison AMI coupée : chiffres du dernier état connu",
    "absente": "Pas de liaison AMI dans ce service : files et agents inconnus",
}


def duration_text(seconds: float) -> str:
    """« 42 s », « 1 min 05 s », « 1 h 02 min »."""
    total = int(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


environment.filters["duree"] = duration_text


def rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %".replace(".", ",")


def waiting_json(snapshot: AcdSnapshot | None) -> dict[str, Any]:
    queues = snapshot.queues if snapshot else ()
    longest = max((queue.longest_wait_s for queue in queues), default=0.0)
    return {
        "appels": sum(len(queue.waiting) for queue in queues),
        "vip": sum(queue.vip_waiting for queue in queues),
        "attente_max_s": round(longest, 1),
        "attente_max": duration_text(longest),
    }


def agents_json(snapshot: AcdSnapshot | None) -> dict[str, Any]:
    states = [state for _, state in snapshot.agents] if snapshot else []
    return {
        "connectes": sum(1 for state in states if state != "deconnecte"),
        "etats": [
            {"etat": state, "libelle": label, "icone": STATE_ICONS[state],
             "nombre": states.count(state)}
            for state, label in AGENT_STATE_LABELS.items()
        ],
    }  # fmt: skip


def link_json(snapshot: AcdSnapshot | None, health: dict[str, Any]) -> dict[str, Any]:
    state = "absente" if snapshot is None else "connectee" if snapshot.connected else "coupee"
    detail = health.get("ami")
    return {"etat": state, "libelle": LINK_LABELS[state],
            "detail": str(detail) if detail else None}  # fmt: skip


def crisis_json(messages: list[StoredMessage], at: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": message.id,
            "titre": message.content.label,
            "mode": message.content.mode,
            "mode_libelle": MODE_LABELS[message.content.mode],
            "portee": message.content.scope.describe(),
            "fin": paris_text(message.content.end),
        }
        for message in messages
        if message_status(message.routing(), at) == "diffuse"
    ]


def surge_label(status: dict[str, Any]) -> str:
    if not status["alerte"]:
        return "Pas d'afflux d'appels."
    text = (
        f"Afflux d'appels : {status['appels']} appels en {status['fenetre_s']} s "
        f"(seuil {status['seuil_appels']})."
    )
    if status.get("message_dissuasion"):
        text += " Le message de dissuasion automatique est diffusé."
    return text


class Wallboard:
    """What every wallboard stream of one application shares: the wake-up signals, the
    crisis messages (re-read when the live revision moves) and today's figures (cached)."""

    def __init__(
        self, refresh_s: float = 5.0, heartbeat_s: float = 15.0, stats_every_s: float = 30.0
    ) -> None:
        self.refresh_s = refresh_s
        self.heartbeat_s = heartbeat_s
        self.stats_every_s = stats_every_s
        self.closing = asyncio.Event()
        self._wake = asyncio.Event()
        self._listening: LiveState | None = None
        self._messages: tuple[int, list[StoredMessage]] | None = None
        self._today: tuple[float, dict[str, Any] | None] | None = None
        self._today_lock = asyncio.Lock()

    # -- signals ---------------------------------------------------------------------

    def _poke(self, _snapshot: CrisisSnapshot | None = None) -> None:
        self._wake.set()
        self._wake = asyncio.Event()

    def wake_event(self, app: web.Application) -> asyncio.Event:
        """The event set at the next crisis change (take it before reading the state)."""
        live = app[CRISIS].live
        if self._listening is not live:
            live.on_change(self._poke)
            self._listening = live
        return self._wake

    async def close(self, _app: web.Application | None = None) -> None:
        """End every stream (``on_shutdown``): the handlers return, responses finish."""
        self.closing.set()
        self._poke()

    async def wait(
        self, app: web.Application, version: int, wake: asyncio.Event, timeout_s: float
    ) -> int:
        """Until the ACD board moves past ``version``, a crisis change, shutdown or the
        timeout; the board version to wait from next."""
        waits: list[Awaitable[Any]] = [wake.wait(), self.closing.wait()]
        acd = app[ACD]
        board_wait: asyncio.Future[int] | None = None
        if acd is not None:
            board_wait = asyncio.ensure_future(acd.wait_change(version, timeout_s))
            waits.append(board_wait)
        tasks = [asyncio.ensure_future(waiting) for waiting in waits]
        try:
            await asyncio.wait(tasks, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)
        if board_wait is not None and board_wait.done() and not board_wait.cancelled():
            return board_wait.result()
        return version

    # -- the board -------------------------------------------------------------------

    async def state(self, app: web.Application) -> dict[str, Any]:
        crisis = app[CRISIS]
        now = crisis.clock()
        acd = app[ACD]
        snapshot = acd.snapshot() if acd is not None else None
        surge = app[SURGE]
        afflux = None
        if surge is not None:
            afflux = surge.status.as_json(surge.settings)
            afflux["libelle"] = surge_label(afflux)
        return {
            "genere_le": now.astimezone(PARIS).isoformat(timespec="seconds"),
            "heure": now.astimezone(PARIS).strftime("%H:%M:%S"),
            "liaison": link_json(snapshot, app[HEALTH]()),
            "attente": waiting_json(snapshot),
            "agents": agents_json(snapshot),
            "acd": snapshot_json(snapshot) if snapshot is not None else None,
            "jour": await self._figures_today(app, now),
            "crise": crisis_json(await self._crisis_messages(app), now),
            "afflux": afflux,
        }

    async def _crisis_messages(self, app: web.Application) -> list[StoredMessage]:
        crisis = app[CRISIS]
        revision = crisis.live.snapshot().revision
        if self._messages is None or self._messages[0] != revision:
            self._messages = (revision, await crisis.list_all())
        return self._messages[1]

    async def _figures_today(self, app: web.Application, now: datetime) -> dict[str, Any] | None:
        engine = app[ENGINE]
        if engine is None:
            return None
        async with self._today_lock:
            if self._today is not None and time.monotonic() - self._today[0] < self.stats_every_s:
                return self._today[1]
            day = now.astimezone(PARIS).date()
            statistics = app[SETTINGS].statistics
            thresholds = Thresholds(statistics.short_abandon_s, statistics.service_level_s)
            try:
                totals = (await build_report(engine, "day", day, day, thresholds)).totals
            except Exception:
                log.exception("chiffres du jour illisibles pour la supervision")
                return self._today[1] if self._today else None
            figures = {
                "date": day.isoformat(),
                "presentes": totals["presented"],
                "servis": totals["answered"],
                "abandonnes": totals["abandoned"],
                "taux_decroche": totals["answer_rate"],
                "taux_abandon": totals["abandon_rate"],
                "taux_decroche_texte": rate_text(totals["answer_rate"]),
                "taux_abandon_texte": rate_text(totals["abandon_rate"]),
            }
            self._today = (time.monotonic(), figures)
            return figures


WALLBOARD = web.AppKey("wallboard", Wallboard)


def install(app: web.Application) -> None:
    """Routes, the shared ``Wallboard`` and the shutdown hook that ends the streams."""
    app[WALLBOARD] = Wallboard()
    app.on_shutdown.append(app[WALLBOARD].close)
    app.add_routes(routes)


def _event(state: dict[str, Any], event_id: int) -> bytes:
    data = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
    return f"event: tableau\nid: {event_id}\ndata: {data}\n\n".encode()


@routes.get("/supervision")
@requires("supervision:lecture")
async def wallboard_page(request: web.Request) -> web.Response:
    state = await request.app[WALLBOARD].state(request.app)
    return await _page(request, state)


async def _page(
    request: web.Request, state: dict[str, Any] | None = None, *, error: str | None = None,
    status: int = 200,
) -> web.Response:  # fmt: skip
    """The wallboard; with the controls when the user may act, and the notice or the error
    of the last action."""
    state = state or await request.app[WALLBOARD].state(request.app)
    account = request.get(ACCOUNT)
    controls = account is not None and account.may("supervision:ecriture")
    acd = request.app[ACD]
    rules = [rule_view(rule) for rule in acd.overflow_rules()] if acd and controls else []
    return await render(
        request, "supervision.html", status=status, tableau=state, flux="/supervision/flux",
        commandes=controls, regles=rules, motifs=PAUSE_REASONS, erreur=error,
        fait=notice(request.query, rules, state) if controls and error is None else None,
    )  # fmt: skip


@routes.get("/supervision/flux")
@requires("supervision:lecture")
async def wallboard_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.content_type = "text/event-stream"
    response.charset = "utf-8"
    try:
        await response.prepare(request)
        await response.write(b"retry: 5000\n\n")
        await _follow(request.app, response)
    except ConnectionError:
        log.debug("flux de supervision fermé par le navigateur")
    except Exception:  # the headers are sent: end the stream, the browser reconnects
        log.exception("flux de supervision interrompu")
    return response


async def _follow(app: web.Application, response: web.StreamResponse) -> None:
    """Send the board each time it changes, a heartbeat when quiet, until shutdown."""
    board = app[WALLBOARD]
    loop = asyncio.get_running_loop()
    sent: dict[str, Any] | None = None
    event_id, version, last_write = 0, -1, loop.time()
    while not board.closing.is_set():
        wake = board.wake_event(app)
        state = await board.state(app)
        content = {key: value for key, value in state.items() if key not in ("genere_le", "heure")}
        if content != sent:
            event_id += 1
            await response.write(_event(state, event_id))
            sent, last_write = content, loop.time()
        elif loop.time() - last_write >= board.heartbeat_s:
            await response.write(b": battement\n\n")
            last_write = loop.time()
        timeout = min(board.refresh_s, board.heartbeat_s)
        version = await board.wait(app, version, wake, timeout)


# -- the supervisor's actions ------------------------------------------------------------

PAUSE_REASONS = ("ticket", "pause", "formation", "réunion", "absence")
ACD_MISSING = (
    "ACD indisponible : le service n'a pas de liaison AMI (SVI_ACD_AMI_USER / "
    "SVI_ACD_AMI_SECRET). Rien n'a été modifié."
)
DESTINATIONS = {"file": "vers la file", "message": "message", "rappel": "rappel",
                "messagerie": "messagerie vocale"}  # fmt: skip


def _number(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else f"{number:g}".replace(".", ",")


def condition_text(condition: object, threshold: object) -> str:
    """An overflow condition and its threshold in words."""
    seconds = float(threshold)  # type: ignore[arg-type]
    grace = f", après {duration_text(seconds)} d'attente" if seconds > 0 else ""
    if condition == "aucun_agent":
        return "aucun agent connecté" + grace
    if condition == "aucun_agent_libre":
        return "aucun agent libre" + grace
    if condition == "attente_max_s":
        return f"attente de {duration_text(seconds)} ou plus"
    if condition == "longueur_max":
        return f"plus de {_number(threshold)} appelants en attente"
    if condition == "appels_par_agent":
        return f"plus de {_number(threshold)} appelants par agent disponible"
    return f"{condition} (seuil {_number(threshold)})"


def rule_view(rule: dict[str, object]) -> dict[str, object]:
    name = str(rule["nom"])
    destination = DESTINATIONS.get(str(rule["destination"]), str(rule["destination"]))
    target = rule.get("cible")
    if target and rule["destination"] == "message":
        destination += f" « {target} » puis raccroché"
    elif target:
        destination += f" {target}"
    return {
        "nom": name,
        "file": rule["file"],
        "condition": condition_text(rule["condition"], rule["seuil"]),
        "destination": destination,
        "actif": bool(rule["actif"]),
        "action": f"/supervision/debordement/{quote(name, safe='')}",
    }


def agent_action_url(interface: str, action: str) -> str:
    return f"/supervision/agents/{quote(interface, safe='/')}/{action}"


environment.globals["agent_action_url"] = agent_action_url


def notice(query: Any, rules: list[dict[str, object]], state: dict[str, Any]) -> str | None:
    """What the last action did, from the redirect's query: shown only for a rule or an agent
    the page knows (a crafted link cannot make up a name)."""
    done = query.get("fait", "")
    if done in ("regle_coupee", "regle_retablie"):
        name = query.get("regle", "")
        if not any(rule["nom"] == name for rule in rules):
            return None
        if done == "regle_coupee":
            return f"Règle de débordement « {name} » coupée : elle ne s'applique plus."
        return f"Règle de débordement « {name} » rétablie : elle s'applique de nouveau."
    agents = {a["interface"]: a["nom"] for a in (state["acd"] or {}).get("agents", [])}
    name = agents.get(query.get("agent", ""))
    if name is None:
        return None
    if done == "pause" and query.get("motif") in PAUSE_REASONS:
        return f"{name} est mis en pause (motif : {query['motif']})."
    if done == "reprise":
        return f"{name} reprend : fin de la pause."
    if done == "deconnexion":
        return f"{name} est déconnecté de ses files."
    return None


def _back(**query: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/supervision?{urlencode(query)}")


async def _refused(request: web.Request, message: str, status: int) -> web.Response:
    text = sentence(message)
    return await _page(request, error=text if text.endswith(".") else text + ".", status=status)


@routes.post("/supervision/debordement/{nom}")
@requires("supervision:ecriture")
async def switch_rule(request: web.Request) -> web.Response:
    name = request.match_info["nom"]
    choice = (await request.post()).get("actif")
    acd = request.app[ACD]
    if choice not in ("oui", "non"):
        return await _refused(request, "choix invalide : « Couper » ou « Rétablir »", 422)
    if acd is None:
        return await _refused(request, ACD_MISSING, 503)
    try:
        await acd.switch_overflow_rule(name, choice == "oui", acting_user(request))
    except AcdError as exc:
        return await _refused(request, exc.message, exc.status)
    raise _back(fait="regle_retablie" if choice == "oui" else "regle_coupee", regle=name)


@routes.post(r"/supervision/agents/{interface:[A-Za-z]+/[^/]+}/{action:pause|reprise|deconnexion}")
@requires("supervision:ecriture")
async def agent_action(request: web.Request) -> web.Response:
    interface = request.match_info["interface"]
    action = request.match_info["action"]
    acd = request.app[ACD]
    actor = acting_user(request)
    reason = (await request.post()).get("motif", "")
    if action == "pause" and reason not in PAUSE_REASONS:
        return await _refused(
            request, "motif de pause inconnu : ticket, pause, formation, réunion ou absence", 422
        )
    if acd is None:
        return await _refused(request, ACD_MISSING, 503)
    try:
        if action == "pause":
            await acd.pause(interface, str(reason), actor)
        elif action == "reprise":
            await acd.unpause(interface, actor)
        else:
            await acd.logout(interface, actor)
    except AcdError as exc:
        return await _refused(request, exc.message, exc.status)
    if action == "pause":
        raise _back(fait=action, agent=interface, motif=str(reason))
    raise _back(fait=action, agent=interface)
