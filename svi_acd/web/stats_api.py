"""JSON API of the statistics: the command line's report and monthly table, over HTTP.

``GET /api/statistiques?du=AAAA-MM-JJ&au=AAAA-MM-JJ&par=day`` answers exactly what
``svi-acd stats report --from … --to … --by day --format json`` prints
(``{"definitions", "parameters", "rows", "totals"}``); ``GET /api/statistiques/mensuel``
what ``svi-acd stats monthly --format json`` prints. Errors are ``{"erreur": "…"}``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncEngine

from svi_acd.stats.measures import Thresholds
from svi_acd.stats.monthly import MONTHLY_DEFINITIONS, MonthRow, monthly_table
from svi_acd.stats.reports import REPORT_KINDS, build_report
from svi_acd.web.keys import ENGINE, SETTINGS
from svi_acd.web.schemas import RequestError, json_response, query
from svi_acd.web.security import requires

routes = web.RouteTableDef()

ReportKind = Literal[REPORT_KINDS]  # type: ignore[valid-type]
MONTHLY_SUMS = ("presented", "served", "tickets_opened")
NO_DATABASE = "statistiques indisponibles : ce service n'a pas de base de données."


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportQuery(_Model):
    du: date = Field(description="premier jour inclus (AAAA-MM-JJ, heure de Paris)")
    au: date = Field(description="dernier jour inclus (AAAA-MM-JJ, heure de Paris)")
    par: ReportKind = Field(description="regroupement des lignes")  # type: ignore[valid-type]

    @field_validator("du", "au", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> date:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"date invalide « {str(value)[:40]} » (format AAAA-MM-JJ)") from None

    @model_validator(mode="after")
    def _ordered(self) -> ReportQuery:
        if self.du > self.au:
            raise ValueError("« du » doit précéder ou égaler « au »")
        return self


class MonthlyQuery(_Model):
    du: str | None = Field(None, description="premier mois (AAAA-MM) ; défaut : le plus ancien")
    au: str | None = Field(None, description="dernier mois (AAAA-MM) ; défaut : le plus récent")

    @field_validator("du", "au")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.strptime(value, "%Y-%m")
            except ValueError:
                raise ValueError(f"mois invalide « {value[:40]} » (format AAAA-MM)") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> MonthlyQuery:
        if self.du and self.au and self.du > self.au:
            raise ValueError("« du » doit précéder ou égaler « au »")
        return self


def _engine(request: web.Request) -> AsyncEngine:
    engine = request.app[ENGINE]
    if engine is None:
        raise RequestError(NO_DATABASE, 503)
    return engine


def _thresholds(request: web.Request) -> Thresholds:
    statistics = request.app[SETTINGS].statistics
    return Thresholds(statistics.short_abandon_s, statistics.service_level_s)


def monthly_document(months: list[MonthRow]) -> dict[str, Any]:
    """The monthly table as ``svi-acd stats monthly --format json`` writes it."""
    rows = [month.as_json() for month in months]
    totals = {name: sum(row[name] or 0 for row in rows) for name in MONTHLY_SUMS}
    return {"definitions": MONTHLY_DEFINITIONS, "rows": rows, "totals": totals}


@routes.get("/api/statistiques")
@requires("statistiques:lecture")
async def report(request: web.Request) -> web.Response:
    asked = query(request, ReportQuery)
    engine = _engine(request)
    built = await build_report(engine, asked.par, asked.du, asked.au, _thresholds(request))
    return json_response(built.as_json())


@routes.get("/api/statistiques/mensuel")
@requires("statistiques:lecture")
async def monthly(request: web.Request) -> web.Response:
    asked = query(request, MonthlyQuery)
    months = await monthly_table(_engine(request), asked.du, asked.au, _thresholds(request))
    return json_response(monthly_document(months))
