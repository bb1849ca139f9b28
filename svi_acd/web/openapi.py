"""The OpenAPI 3.1 description of the JSON API, served (public) at ``GET /api/openapi.json``.

The document is built from the application's router: every route under ``/api/`` that is
registered appears, with the description written for it in ``openapi_operations``, its query
and body schemas generated from the same pydantic models the handlers validate with, the
permission its handler declares (``@requires``) and the JSON error schema. A route without a
description is left out here and makes ``tests/web/test_openapi.py`` fail: document it there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from svi_acd.web.auth import CSRF_HEADER, SESSION_COOKIE
from svi_acd.web.openapi_operations import OPERATIONS, Doc
from svi_acd.web.openapi_schemas import SCHEMAS
from svi_acd.web.schemas import json_response
from svi_acd.web.security import handler_is_public, handler_permission, public

routes = web.RouteTableDef()

API_PREFIX = "/api/"
REF = "#/components/schemas/{model}"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ERROR_TEXTS = {
    400: "Requête illisible (JSON mal formé…).",
    401: "Non authentifié : ni session ni jeton d'API valide.",
    403: "Authentifié, mais le rôle ne donne pas la permission demandée, ou jeton CSRF absent.",
    404: "Introuvable.",
    409: "Conflit : la ressource a changé entre-temps (version).",
    413: "Requête trop volumineuse.",
    415: "Type de contenu non pris en charge.",
    422: "Requête invalide : le détail par champ est dans « champs ».",
    500: "Erreur interne, journalisée.",
    503: "Service indisponible (base de données, lien AMI ou processus absent).",
}


@dataclass(frozen=True, slots=True)
class ApiRoute:
    method: str
    path: str  # OpenAPI form: /api/crise/messages/{id}
    route: web.AbstractRoute

    @property
    def handler(self) -> Any:
        return self.route.handler


def api_routes(app: web.Application) -> Iterator[ApiRoute]:
    """Every route of the app under ``/api/`` (HEAD, added with each GET, left out)."""
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in ("HEAD", "*"):
            continue
        path = resource.canonical
        if path.startswith(API_PREFIX):
            yield ApiRoute(route.method, path, route)


def _path_parameters(item: ApiRoute, doc: Doc) -> list[dict[str, Any]]:
    info = item.route.resource.get_info() if item.route.resource else {}
    pattern = info.get("pattern")
    regex = pattern.pattern if pattern is not None else ""
    described = doc.path or {}
    parameters = []
    for name in re.findall(r"{(\w+)}", item.path):
        numeric = f"(?P<{name}>\\d+)" in regex
        given = described.get(name, {})
        schema = {"type": "integer", "minimum": 1} if numeric else {"type": "string"}
        parameters.append({
            "name": name, "in": "path", "required": True,
            "description": given.get("description", "identifiant" if name == "id" else name),
            "schema": given.get("schema", schema),
        })  # fmt: skip
    return parameters


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    parameters = []
    for name, field_schema in schema.get("properties", {}).items():
        description = field_schema.pop("description", None) or field_schema.get("title", name)
        field_schema.pop("title", None)
        parameters.append({"name": name, "in": "query", "required": name in required,
                           "description": description, "schema": field_schema})  # fmt: skip
    return parameters


def _error(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_TEXTS[status],
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Erreur")}}},
    }


def _security(item: ApiRoute) -> list[dict[str, list[str]]]:
    if handler_is_public(item.handler):
        return []
    if item.method in READ_METHODS:
        return [{"session": []}, {"jeton": []}]
    return [{"session": [], "csrf": []}, {"jeton": []}]


def _request_body(doc: Doc) -> dict[str, Any] | None:
    content: dict[str, Any] = {}
    refs = [{"$ref": REF.format(model=model.__name__)} for model in doc.body_models]
    if refs:
        content["application/json"] = {"schema": refs[0] if len(refs) == 1 else {"oneOf": refs}}
    if doc.form:
        content["multipart/form-data"] = {"schema": {"$ref": REF.format(model="FormulaireMessage")}}
    if not content:
        return None
    return {"required": doc.body_required, "content": content}


def _success(doc: Doc) -> dict[str, Any]:
    if doc.media != "application/json":
        schema = {"type": "string", "contentMediaType": doc.media}
        return {"description": doc.result_text, "content": {doc.media: {"schema": schema}}}
    schema = {"$ref": REF.format(model=doc.result)} if doc.result else {"type": "object"}
    return {"description": doc.result_text, "content": {"application/json": {"schema": schema}}}


def operation(item: ApiRoute, doc: Doc) -> dict[str, Any]:
    security = _security(item)
    permission = handler_permission(item.handler)
    description = doc.description
    if permission:
        description += f"\n\nPermission requise : `{permission}`."
    parameters = _path_parameters(item, doc)
    if doc.query is not None:
        parameters += _query_parameters(doc.query)
    statuses = set(doc.errors) | {500}
    if security:
        statuses |= {401, 403}
    if parameters or doc.body_models or doc.form:
        statuses.add(422)
    if "{" in item.path:
        statuses.add(404)
    found: dict[str, Any] = {
        "operationId": item.handler.__name__,
        "summary": doc.summary,
        "description": description,
        "tags": [doc.tag],
        "security": security,
        "responses": {str(doc.status): _success(doc)}
        | {str(status): _error(status) for status in sorted(statuses)},
    }
    if permission:
        found["x-permission"] = permission
    if parameters:
        found["parameters"] = parameters
    if body := _request_body(doc):
        found["requestBody"] = body
    return found


def _model_schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    if not models:
        return {}
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    return dict(top.get("$defs", {}))


def build_document(app: web.Application) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    models: list[type[BaseModel]] = []
    operation_ids: set[str] = set()
    for item in api_routes(app):
        doc = OPERATIONS.get((item.method, item.path))
        if doc is None:
            continue
        entry = operation(item, doc)
        # Two handlers may share a name in different modules: keep operation ids unique.
        if entry["operationId"] in operation_ids:
            entry["operationId"] += "_" + item.handler.__module__.rsplit(".", 1)[-1]
        operation_ids.add(entry["operationId"])
        paths.setdefault(item.path, {})[item.method.lower()] = entry
        models += [m for m in (*doc.body_models, doc.query) if m is not None and m not in models]
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Numéro unique – API du centre de services",
            "version": "1",
            "description": (
                "API JSON du service : messages de crise, supervision, ACD et statistiques. "
                'Toutes les erreurs sont en JSON : `{"erreur": "phrase en français"}`, '
                "avec le détail par champ dans `champs` pour une requête invalide. "
                "Authentification : le cookie de session d'un navigateur connecté (avec "
                f"l'en-tête `{CSRF_HEADER}` pour toute requête qui modifie), ou un jeton "
                "d'API personnel (`Authorization: Bearer …`, créé par `svi-acd user token`)."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {**SCHEMAS, **_model_schemas(models)},
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "Session d'un navigateur connecté (page /connexion).",
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": CSRF_HEADER,
                    "description": "Jeton CSRF de la session, exigé avec le cookie pour "
                    "POST, PUT, PATCH et DELETE.",
                },
                "jeton": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Jeton d'API personnel (svi-acd user token).",
                },
            },
        },
    }
    return document


@routes.get("/api/openapi.json")
@public
async def openapi_document(request: web.Request) -> web.Response:
    return json_response(build_document(request.app))
