"""The settings object: one YAML file (French keys) validated into frozen pydantic models.

Attribute names are English (code), aliases are the French keys users write in the file.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from svi_acd.config.flow import FlowSettings
from svi_acd.config.types import (
    ClockTime,
    Day,
    EndClockTime,
    Ranges,
    Subdivision,
    Weekday,
    ZoneName,
)

TerritoryCode = Literal["GF", "MQ", "GP", "RE", "YT", "PM", "NC"]
TERRITORY_CODES: tuple[str, ...] = ("GF", "MQ", "GP", "RE", "YT", "PM", "NC")
WORKING_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class DayException(_Section):
    """An exceptional day: closed (no range) or open with its own ranges, whatever the calendar."""

    ranges: Ranges = Field((), alias="horaires")
    label: str | None = Field(None, alias="motif")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: object) -> object:
        # `2026-12-26: fermé` or `2026-12-24: 08:00-12:00` are accepted as short forms.
        if isinstance(value, (str, list)) or value is None:
            return {"horaires": value}
        return value


class DeskSettings(_Section):
    timezone: ZoneName = Field("Europe/Paris", alias="fuseau")
    hours: dict[Weekday, Ranges] = Field(alias="horaires")
    holidays: Subdivision = Field(None, alias="feries")
    exceptions: dict[Day, DayException] = Field(default_factory=dict, alias="exceptions")


class TerritorySettings(_Section):
    name: str = Field(alias="nom")
    timezone: ZoneName = Field(alias="fuseau")
    holidays: Subdivision = Field(alias="feries")
    opening: ClockTime = Field(8 * 3600, alias="ouverture")
    closing: EndClockTime | None = Field(None, alias="fermeture")
    days: tuple[Weekday, ...] = Field(WORKING_DAYS, alias="jours", validate_default=True)
    exceptions: dict[Day, DayException] = Field(default_factory=dict, alias="exceptions")

    @model_validator(mode="after")
    def _closing_after_opening(self) -> TerritorySettings:
        if self.closing is not None and self.closing <= self.opening:
            raise ValueError("la fermeture doit être après l'ouverture")
        return self


class PromptSettings(_Section):
    text: str = Field(alias="texte", min_length=1)
    file: str | None = Field(None, alias="fichier")


class QueueSettings(_Section):
    name: str = Field(alias="nom")
    strategy: Literal["rrmemory", "leastrecent", "fewestcalls", "random", "ringall", "linear"] = (
        Field("rrmemory", alias="strategie")
    )
    announce_position: bool = Field(True, alias="annonce_position")
    announce_frequency_s: int = Field(60, alias="frequence_annonce_s", ge=0)
    announce_holdtime: bool = Field(True, alias="annonce_temps_attente")
    wrapup_s: int = Field(30, alias="temps_post_appel_s", ge=0)
    ring_timeout_s: int = Field(15, alias="delai_sonnerie_s", ge=1)
    max_unanswered_before_pause: int = Field(2, alias="pause_auto_apres_non_reponses", ge=0)


class OverflowDestination(_Section):
    type: Literal["file", "message", "rappel", "messagerie"]
    queue: str | None = Field(None, alias="file")
    prompt: str | None = Field(None, alias="annonce")
    mailbox: str | None = Field(None, alias="boite")

    @model_validator(mode="after")
    def _needs_target(self) -> OverflowDestination:
        if self.type == "file" and not self.queue:
            raise ValueError("une destination « file » doit nommer la file")
        if self.type == "message" and not self.prompt:
            raise ValueError("une destination « message » doit nommer l'annonce")
        if self.type == "messagerie" and not self.mailbox:
            raise ValueError("une destination « messagerie » doit nommer la boîte")
        return self


class OverflowRule(_Section):
    name: str = Field(alias="nom")
    queue: str = Field(alias="file")
    condition: Literal[
        "attente_max_s", "longueur_max", "aucun_agent", "aucun_agent_libre", "appels_par_agent"
    ]
    threshold: float = Field(0, alias="seuil", ge=0)
    destination: OverflowDestination
    enabled: bool = Field(True, alias="actif")


class CallbackSettings(_Section):
    """How a caller who asked to be called back is dialled when their turn comes."""

    # Asterisk dial string; {numero} is the caller's number as it reached the line.
    dial: str = Field("PJSIP/{numero}@operateur", alias="canal", min_length=1)
    ring_s: int = Field(30, alias="delai_sonnerie_s", ge=5, le=300)
    prompt: str = Field("rappel_enregistre", alias="annonce")
    # A place kept for a callback lapses after this time (the desk closed, nobody took it).
    max_wait_s: int = Field(4 * 3600, alias="attente_max_s", ge=60)

    @field_validator("dial")
    @classmethod
    def _has_number(cls, value: str) -> str:
        if "{numero}" not in value:
            raise ValueError("le canal de rappel doit contenir {numero}")
        return value


class SurgeSettings(_Section):
    window_s: int = Field(300, alias="fenetre_s", ge=10)
    threshold_calls: int = Field(60, alias="seuil_appels", ge=1)
    auto_deterrence: bool = Field(False, alias="dissuasion_auto")
    deterrence_text: str = Field(alias="texte_dissuasion", min_length=1)


class CrisisSettings(_Section):
    max_text_chars: int = Field(1000, alias="texte_max_caracteres", ge=10)
    max_upload_mb: float = Field(10, alias="fichier_max_mo", gt=0)
    max_duration_s: int = Field(180, alias="duree_max_s", ge=1)
    kept_versions: int = Field(20, alias="versions_conservees", ge=1)
    portal: str = Field(alias="portail")
    surge: SurgeSettings = Field(alias="afflux")
    # How often each instance re-reads the crisis state from the database (safety net).
    refresh_s: float = Field(5.0, alias="relecture_s", gt=0, le=3600)


class VipSettings(_Section):
    skip_menu: bool = Field(True, alias="passer_menu")
    queue_priority: int = Field(10, alias="priorite_file", ge=1)

    def priority_for(self, listed: bool) -> int:
        """The queue priority of a caller: VIP or P0 today, the configured one; else 0."""
        return self.queue_priority if listed else 0


class StatisticsSettings(_Section):
    short_abandon_s: int = Field(5, alias="seuil_abandon_court_s", ge=0)
    service_level_s: int = Field(30, alias="seuil_niveau_service_s", ge=1)
    # Asterisk's queue_log, imported continuously by the service (None: import by command).
    queue_log: str | None = Field(None, alias="journal_asterisk")


class PrivacySettings(_Section):
    caller_number_retention_days: int = Field(365, alias="conservation_numeros_jours", ge=1)


class ItsmSettings(_Section):
    """The ITSM that tickets opened per month are read from (``svi-acd stats tickets sync``).

    The API token is never written here: ``token_env`` names the environment variable that
    holds it. Column and data-definition names differ between Matrix42 installations.
    """

    type: Literal["matrix42"] = "matrix42"
    url: str = Field(alias="url")
    token_env: str = Field("SVI_ACD_MATRIX42_TOKEN", alias="jeton_env")
    data_definition: str = Field("SPSActivityClassBase", alias="definition_donnees", min_length=1)
    number_column: str = Field("TicketNumber", alias="colonne_numero", min_length=1)
    created_column: str = Field("CreatedDate", alias="colonne_creation", min_length=1)
    parent_column: str | None = Field(None, alias="colonne_parent")
    page_size: int = Field(500, alias="taille_page", ge=1, le=10_000)
    timeout_s: float = Field(30, alias="delai_s", gt=0, le=600)

    @model_validator(mode="before")
    @classmethod
    def _no_token_in_the_file(cls, value: object) -> object:
        if isinstance(value, dict) and {"jeton", "token"} & set(value):
            raise ValueError(
                "le jeton d'API ne s'écrit pas dans la configuration : mettez-le dans une "
                "variable d'environnement et nommez-la dans jeton_env"
            )
        return value

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError(f"adresse web attendue (http:// ou https://) « {value[:80]} »")
        return value

    @field_validator("token_env")
    @classmethod
    def _variable_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(  # the value is not repeated: it may be the token itself
                "nom de variable d'environnement attendu (lettres, chiffres, _ ; ex. "
                "SVI_ACD_MATRIX42_TOKEN), pas le jeton lui-même"
            )
        return value


class Endpoint(_Section):
    host: str = Field("127.0.0.1", alias="hote")
    port: int = Field(alias="port", ge=1, le=65535)


class ServiceSettings(_Section):
    # fastagi: Asterisk connects to the service for each call (default, fastest);
    # asyncagi: the service drives calls over its AMI connection (when Asterisk cannot reach it).
    agi_runtime: Literal["fastagi", "asyncagi"] = Field("fastagi", alias="moteur_agi")
    database_url: str | None = Field(None, alias="base_de_donnees")
    redis_url: str | None = Field(None, alias="redis")
    agi: Endpoint = Field(Endpoint(port=4573), alias="agi")
    ami: Endpoint = Field(Endpoint(port=5038), alias="ami")
    web: Endpoint = Field(Endpoint(port=8080), alias="web")
    # Where synthesised prompts are written, and the same folder as Asterisk sees it
    # (different when Asterisk runs in a chroot or a container). None: the data folder.
    sounds_dir: str | None = Field(None, alias="dossier_sons")
    asterisk_sounds_dir: str | None = Field(None, alias="dossier_sons_asterisk")


class Settings(_Section):
    desk: DeskSettings = Field(alias="guichet")
    territories: dict[TerritoryCode, TerritorySettings] = Field(alias="territoires")
    prompts: dict[str, PromptSettings] = Field(alias="annonces")
    flow: FlowSettings = Field(alias="svi")
    queues: dict[str, QueueSettings] = Field(alias="files")
    default_queue: str = Field(alias="file_par_defaut")
    overflow: tuple[OverflowRule, ...] = Field((), alias="debordement")
    callback: CallbackSettings = Field(CallbackSettings(), alias="rappel")
    crisis: CrisisSettings = Field(alias="crise")
    vip: VipSettings = Field(VipSettings(), alias="vip")
    statistics: StatisticsSettings = Field(StatisticsSettings(), alias="statistiques")
    privacy: PrivacySettings = Field(PrivacySettings(), alias="donnees_personnelles")
    itsm: ItsmSettings | None = Field(None, alias="itsm")  # None: no ITSM configured
    service: ServiceSettings = Field(ServiceSettings(), alias="service")

    @field_validator("territories", mode="before")
    @classmethod
    def _known_codes(cls, value: object) -> object:
        if isinstance(value, dict):
            for code in value:
                if code not in TERRITORY_CODES:
                    raise ValueError(
                        f"territoire inconnu « {code} » (valeurs : {', '.join(TERRITORY_CODES)})"
                    )
        return value

    def reference_errors(self) -> list[tuple[str, str]]:
        """Names that point nowhere (node, prompt, queue), as (path, French message) pairs."""
        errors: list[tuple[str, str]] = []
        if self.flow.entry not in self.flow.nodes:
            errors.append(("svi.entree", f"nœud inconnu « {self.flow.entry} »"))
        for name, node in self.flow.nodes.items():
            for key, target in node.targets().items():
                if target not in self.flow.nodes:
                    errors.append((f"svi.noeuds.{name}.{key}", f"nœud inconnu « {target} »"))
            for key, prompt in node.prompts().items():
                if prompt not in self.prompts:
                    errors.append((f"svi.noeuds.{name}.{key}", f"annonce inconnue « {prompt} »"))
            queue = getattr(node, "queue", None)
            if node.type == "file" and queue not in self.queues:
                errors.append((f"svi.noeuds.{name}.file", f"file inconnue « {queue} »"))
        if self.default_queue not in self.queues:
            errors.append(("file_par_defaut", f"file inconnue « {self.default_queue} »"))
        mailboxes = any(rule.destination.type == "messagerie" for rule in self.overflow)
        if mailboxes and "messagerie" not in self.prompts:
            errors.append(
                ("annonces", "l'annonce « messagerie » manque (débordement vers messagerie)")
            )
        if self.callback.prompt not in self.prompts:
            errors.append(("rappel.annonce", f"annonce inconnue « {self.callback.prompt} »"))
        names = [rule.name for rule in self.overflow]
        for name in sorted({name for name in names if names.count(name) > 1}):
            errors.append(("debordement", f"nom de règle en double « {name} »"))
        for index, rule in enumerate(self.overflow):
            if rule.queue not in self.queues:
                errors.append((f"debordement.{index}.file", f"file inconnue « {rule.queue} »"))
            target = rule.destination
            if target.queue and target.queue not in self.queues:
                errors.append(
                    (f"debordement.{index}.destination.file", f"file inconnue « {target.queue} »")
                )
            if target.prompt and target.prompt not in self.prompts:
                errors.append(
                    (
                        f"debordement.{index}.destination.annonce",
                        f"annonce inconnue « {target.prompt} »",
                    )
                )
        return errors
