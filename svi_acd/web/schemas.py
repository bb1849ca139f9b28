"""Reading requests into validated models, with French errors field by field."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)

_MESSAGES = {
    "missing": "champ obligatoire",
    "extra_forbidden": "champ inconnu",
    "literal_error": "valeur non permise",
    "enum": "valeur non permise",
    "string_type": "texte attendu",
    "string_too_long": "texte trop long",
    "string_too_short": "texte trop court",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "bool_parsing": "oui ou non attendu",
    "bool_type": "oui ou non attendu",
    "list_type": "liste attendue",
    "model_type": "objet attendu",
    "dict_type": "objet attendu",
    "datetime_parsing": "date invalide (ISO 8601, ex. 2026-07-08T10:00:00+02:00)",
    "datetime_from_date_parsing": "date invalide (ISO 8601, ex. 2026-07-08T10:00:00+02:00)",
    "datetime_type": "date invalide (ISO 8601, ex. 2026-07-08T10:00:00+02:00)",
    "timezone_aware": "la date doit porter son fuseau horaire (ex. +02:00 ou Z)",
}


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON in UTF-8 as it reads (« réseau », not « r\\u00e9seau »)."""
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


class RequestError(Exception):
    """A request the API cannot take as it is (status 400, 413, 415 or 422)."""

    def __init__(self, message: str, status: int = 422, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details


def french_errors(error: ValidationError) -> list[dict[str, str]]:
    found = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "requête"
        text = _MESSAGES.get(item["type"], "valeur invalide")
        if item["type"] == "literal_error":
            expected = (item.get("ctx") or {}).get("expected")
            if expected:
                text = f"{text} (attendu : {expected.replace(' or ', ' ou ')})"
        elif item["type"] == "value_error":
            text = str((item.get("ctx") or {}).get("error", text))
        found.append({"champ": field, "erreur": text})
    return found


def validated(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = french_errors(exc)
        summary = "; ".join(f"{e['champ']} : {e['erreur']}" for e in errors)
        raise RequestError(f"requête invalide — {summary}", 422, champs=errors) from exc


async def read_json(request: web.Request, model: type[Model]) -> Model:
    if request.content_type != "application/json":
        raise RequestError("envoyez un corps JSON (Content-Type: application/json).", 415)
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(f"JSON illisible : {exc}", 400) from exc
    return validated(model, data)


def query(request: web.Request, model: type[Model]) -> Model:
    return validated(model, {key: value for key, value in request.query.items() if value != ""})
