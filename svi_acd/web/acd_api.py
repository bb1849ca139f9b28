"""JSON API of the ACD: agents, queues and their callers, overflow rules.

``GET /api/acd`` is the whole picture in one answer (the wallboard's source);
``/api/agents``, ``/api/files`` and ``/api/debordement`` are its parts, with the actions a
supervisor takes on them. Caller numbers are masked unless the caller holds
``supervision:ecriture`` and asks ``?numeros=complets``.
"""

from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from svi_acd.acd.board import agent_json, queue_json, snapshot_json
from svi_acd.acd.control import AcdControl, AcdError
from svi_acd.web.keys import ACD
from svi_acd.web.schemas import RequestError, json_response, read_json
from svi_acd.web.security import acting_user, requires

routes = web.RouteTableDef()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_Model):
    files: list[str] = Field(default_factory=list, max_length=20)
    nom: str | None = Field(None, max_length=80)


class PauseIn(_Model):
    motif: str = Field(min_length=1, max_length=40)


class PriorityIn(_Model):
    priorite: int = Field(ge=0, le=100)


class SwitchIn(_Model):
    actif: bool


def _acd(request: web.Request) -> AcdControl:
    acd = request.app[ACD]
    if acd is None:
        raise RequestError(
            "ACD indisponible : le service n'a pas de liaison AMI (SVI_ACD_AMI_USER / "
            "SVI_ACD_AMI_SECRET).",
            503,
        )
    return acd


def _full_numbers(request: web.Request) -> bool:
    return request.query.get("numeros") == "complets"


async def _carry_out(action: Awaitable[None]) -> None:
    try:
        await action
    except AcdError as exc:
        raise RequestError(exc.message, exc.status) from exc


@routes.get("/api/acd")
@requires("supervision:lecture")
async def acd_state(request: web.Request) -> web.Response:
    return json_response(snapshot_json(_acd(request).snapshot(), _full_numbers(request)))


@routes.get("/api/agents")
@requires("supervision:lecture")
async def agents(request: web.Request) -> web.Response:
    snapshot = _acd(request).snapshot()
    return json_response(
        {"ami_connectee": snapshot.connected,
         "agents": [agent_json(agent, state, snapshot.at) for agent, state in snapshot.agents]}
    )  # fmt: skip


@routes.get("/api/files")
@requires("supervision:lecture")
async def queues(request: web.Request) -> web.Response:
    snapshot = _acd(request).snapshot()
    full = _full_numbers(request)
    return json_response(
        {"ami_connectee": snapshot.connected,
         "files": [queue_json(queue, snapshot.at, full) for queue in snapshot.queues]}
    )  # fmt: skip


@routes.post("/api/agents/{interface:[A-Za-z]+/[^/]+}/{action}")
@requires("supervision:ecriture")
async def agent_action(request: web.Request) -> web.Response:
    acd = _acd(request)
    interface = request.match_info["interface"]
    action = request.match_info["action"]
    actor = acting_user(request)
    if action == "connexion":
        body = await read_json(request, LoginIn) if request.can_read_body else LoginIn()
        await _carry_out(acd.login(interface, actor, body.files, body.nom))
    elif action == "deconnexion":
        await _carry_out(acd.logout(interface, actor))
    elif action == "pause":
        pause = await read_json(request, PauseIn)
        await _carry_out(acd.pause(interface, pause.motif, actor))
    elif action == "reprise":
        await _carry_out(acd.unpause(interface, actor))
    else:
        raise RequestError(
            f"action inconnue « {action[:40]} » (connexion, deconnexion, pause, reprise)", 404
        )
    return json_response({"agent": interface, "action": action, "par": actor})


@routes.patch("/api/files/{file}/appelants/{uniqueid}")
@requires("supervision:ecriture")
async def caller_priority(request: web.Request) -> web.Response:
    body = await read_json(request, PriorityIn)
    uniqueid = request.match_info["uniqueid"]
    await _carry_out(_acd(request).change_priority(uniqueid, body.priorite, acting_user(request)))
    return json_response({"uniqueid": uniqueid, "priorite": body.priorite})


@routes.get("/api/debordement")
@requires("supervision:lecture")
async def overflow_rules(request: web.Request) -> web.Response:
    return json_response({"regles": _acd(request).overflow_rules()})


@routes.patch("/api/debordement/{nom}")
@requires("supervision:ecriture")
async def switch_rule(request: web.Request) -> web.Response:
    body = await read_json(request, SwitchIn)
    name = request.match_info["nom"]
    await _carry_out(_acd(request).switch_overflow_rule(name, body.actif, acting_user(request)))
    return json_response({"nom": name, "actif": body.actif})
