"""The OpenAPI document: public, valid OpenAPI 3.1, and describing every route under /api/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from svi_acd.config.model import Settings
from svi_acd.web.openapi import api_routes, build_document
from svi_acd.web.openapi_operations import OPERATIONS
from tests.web.stats_app import StatsClient, stats_client

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
async def client(settings: Settings, tmp_path: Path) -> AsyncIterator[StatsClient]:
    async with stats_client(settings, tmp_path, with_data=False) as test_client:
        yield test_client


@pytest.fixture
async def document(client: StatsClient) -> dict:
    response = await client.client.get("/api/openapi.json")  # no token, no session
    assert response.status == 200
    return await response.json()


def operations(document: dict) -> dict[tuple[str, str], dict]:
    return {(method.upper(), path): item[method]
            for path, item in document["paths"].items()
            for method in METHODS if method in item}  # fmt: skip


async def test_every_api_route_of_the_app_is_documented(
    client: StatsClient, document: dict
) -> None:
    routes = {(r.method, r.path) for r in api_routes(client.client.app)}
    missing = routes - set(operations(document))
    assert not missing, (
        f"routes sans description OpenAPI : {sorted(missing)} ; décrivez-les dans "
        "svi_acd/web/openapi_operations.py"
    )
    assert {("GET", "/api/statistiques"), ("GET", "/api/statistiques/mensuel"),
            ("GET", "/api/openapi.json"), ("POST", "/api/crise/messages")} <= routes  # fmt: skip


async def test_no_description_is_left_for_a_route_that_is_gone(client: StatsClient) -> None:
    routes = {(r.method, r.path) for r in api_routes(client.client.app)}
    stale = set(OPERATIONS) - routes
    assert not stale, f"descriptions sans route : {sorted(stale)}"


async def test_the_document_is_valid_openapi_3_1(document: dict) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


async def test_both_ways_of_authenticating_are_described(document: dict) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"] == {"type": "apiKey", "in": "cookie", "name": "svi_acd_session",
                                  "description": schemes["session"]["description"]}  # fmt: skip
    assert (schemes["csrf"]["in"], schemes["csrf"]["name"]) == ("header", "X-CSRF-Token")
    assert (schemes["jeton"]["type"], schemes["jeton"]["scheme"]) == ("http", "bearer")
    found = operations(document)
    assert found[("GET", "/api/statistiques")]["security"] == [{"session": []}, {"jeton": []}]
    assert found[("POST", "/api/crise/messages")]["security"] == [
        {"session": [], "csrf": []}, {"jeton": []}]  # fmt: skip
    assert found[("GET", "/api/openapi.json")]["security"] == []  # public


async def test_each_operation_says_in_french_what_it_does_and_how_it_fails(
    document: dict,
) -> None:
    error = {"$ref": "#/components/schemas/Erreur"}
    for (method, path), operation in operations(document).items():
        assert operation["summary"] and operation["description"], (method, path)
        responses = operation["responses"]
        assert responses["500"]["content"]["application/json"]["schema"] == error
        if operation["security"]:
            assert {"401", "403"} <= set(responses), (method, path)
            assert "Permission requise" in operation["description"], (method, path)
    assert document["components"]["schemas"]["Erreur"]["required"] == ["erreur"]


async def test_query_parameters_and_bodies_come_from_the_handlers_models(document: dict) -> None:
    found = operations(document)
    report = found[("GET", "/api/statistiques")]
    parameters = {p["name"]: p for p in report["parameters"]}
    assert set(parameters) == {"du", "au", "par"} and all(
        p["required"] for p in parameters.values()
    )
    assert {"hour", "day", "week", "month", "queue", "agent", "territory", "ticket"} <= set(
        parameters["par"]["schema"]["enum"])  # fmt: skip
    assert report["x-permission"] == "statistiques:lecture"
    assert report["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Rapport"}  # fmt: skip
    create = found[("POST", "/api/crise/messages")]
    content = create["requestBody"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/MessageIn"}
    assert "multipart/form-data" in content
    assert "201" in create["responses"]
    message = found[("GET", "/api/crise/messages/{id}")]
    assert message["parameters"][0] == {
        "name": "id", "in": "path", "required": True, "description": "identifiant",
        "schema": {"type": "integer", "minimum": 1}}  # fmt: skip
    assert "MessageIn" in document["components"]["schemas"]


async def test_the_document_reflects_the_app_it_is_served_by(client: StatsClient) -> None:
    assert build_document(client.client.app) == await (
        await client.client.get("/api/openapi.json")).json()  # fmt: skip
