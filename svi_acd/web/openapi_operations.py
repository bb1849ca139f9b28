"""What each route of the JSON API does, in French, for the OpenAPI document (``openapi.py``).

One ``Doc`` per (method, path) as the router shows the path (``{id}``, without its pattern).
Query and body schemas come from the pydantic models the handlers validate with; the answers'
schemas are named from ``openapi_schemas.SCHEMAS``. Add a route to the API, describe it here:
the test of the OpenAPI document fails for any route under ``/api/`` that is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from svi_acd.web import acd_api, crisis_api, event_journal, stats_api


@dataclass(frozen=True, slots=True)
class Doc:
    summary: str
    description: str
    tag: str
    result_text: str = "Réussite."
    result: str | None = None  # name of a schema in SCHEMAS, None: any JSON object
    status: int = 200
    media: str = "application/json"
    query: type[BaseModel] | None = None
    body: type[BaseModel] | tuple[type[BaseModel], ...] | None = None  # a tuple: one of them
    body_required: bool = True
    form: bool = False  # also accepts multipart/form-data with a recording
    errors: tuple[int, ...] = ()
    path: dict[str, dict[str, Any]] | None = None  # path parameters: description, schema

    @property
    def body_models(self) -> tuple[type[BaseModel], ...]:
        if self.body is None:
            return ()
        return self.body if isinstance(self.body, tuple) else (self.body,)


class NumbersQuery(BaseModel):
    """``?numeros=complets`` (the ACD API masks caller numbers otherwise)."""

    model_config = ConfigDict(extra="forbid")
    numeros: Literal["complets"] | None = Field(
        None,
        description="« complets » : numéros des appelants en entier (permission "
        "supervision:ecriture) ; sinon seuls les 4 derniers chiffres sont montrés",
    )


CRISIS, SUPERVISION, ACD, STATISTICS, DOCUMENTATION = (
    "Messages de crise", "Supervision", "ACD : agents, files, débordement", "Statistiques",
    "Documentation")  # fmt: skip


_WAV = "audio/wav"
_MESSAGE_CHANGE = "Le message et ce que le changement a fait (propagation aux appels)."

OPERATIONS: dict[tuple[str, str], Doc] = {
    ("GET", "/api/crise/messages"): Doc(
        "Lister les messages de crise",
        "Tous les messages, actifs ou non, avec leur statut à cet instant (diffusé, programmé, "
        "expiré, inactif) et la révision de l'état partagé.",
        CRISIS, "Les messages.", "ListeMessages"),
    ("POST", "/api/crise/messages"): Doc(
        "Créer un message de crise",
        "Texte (synthétisé en français) ou enregistrement (multipart, champ « fichier »), mode "
        "information (puis menu) ou dissuasion (puis raccroché), portée (ligne, branches ou "
        "territoires), début et fin facultatifs. « actif » le diffuse tout de suite. La "
        "réponse porte l'adresse du message dans l'en-tête Location.",
        CRISIS, _MESSAGE_CHANGE, "ChangementMessage", status=201,
        body=crisis_api.MessageIn, form=True, errors=(400, 413, 415)),
    ("GET", "/api/crise/messages/{id}"): Doc(
        "Lire un message de crise", "Un message et son statut à cet instant.",
        CRISIS, "Le message.", "UnMessage"),
    ("PATCH", "/api/crise/messages/{id}"): Doc(
        "Modifier un message de crise",
        "Seuls les champs envoyés changent. « version » (facultatif) refuse la modification "
        "si le message a changé entre-temps (409). Un message diffusé est mis à jour pour les "
        "appels suivants.",
        CRISIS, _MESSAGE_CHANGE, "ChangementMessage",
        body=crisis_api.MessagePatch, form=True, errors=(400, 409, 413, 415)),
    ("POST", "/api/crise/messages/{id}/activer"): Doc(
        "Activer un message de crise",
        "Le message est diffusé (dans sa fenêtre de début et de fin, s'il en a une).",
        CRISIS, _MESSAGE_CHANGE, "ChangementMessage", errors=(409,)),
    ("POST", "/api/crise/messages/{id}/desactiver"): Doc(
        "Désactiver un message de crise", "Le message n'est plus diffusé ; il reste enregistré.",
        CRISIS, _MESSAGE_CHANGE, "ChangementMessage"),
    ("GET", "/api/crise/messages/{id}/audio"): Doc(
        "Écouter un message de crise",
        "Le son que les appelants entendent (WAV, 8 kHz), ou celui d'une version précédente.",
        CRISIS, "Le son du message.", media=_WAV, query=crisis_api.AudioQuery),
    ("POST", "/api/crise/apercu"): Doc(
        "Écouter un texte avant de le publier",
        "Synthétise le texte comme il serait diffusé (avec le rappel du portail si demandé), "
        "sans rien enregistrer.",
        CRISIS, "Le son synthétisé.", media=_WAV, body=crisis_api.PreviewIn,
        errors=(400, 415)),
    ("GET", "/api/crise/journal"): Doc(
        "Journal des évènements",
        "Les créations, modifications, activations et suppressions, avec l'utilisateur, du "
        "plus récent au plus ancien ; filtres facultatifs.",
        CRISIS, "Les évènements.", "Journal", query=crisis_api.JournalQuery),
    ("GET", "/api/journal"): Doc(
        "Journal des évènements, tous domaines",
        "Les changements des messages de crise, de l'annuaire VIP, des comptes et des agents "
        "et files (connexion, pause, priorité, débordement), avec l'utilisateur, du plus récent "
        "au plus ancien. Chaque domaine demande sa permission de lecture : crise:lecture "
        "(messages de crise), annuaire:lecture (annuaire VIP), supervision:lecture (agents et "
        "files), comptes:gestion (comptes) ; sans « domaine », seuls les domaines permis sont "
        "lus, et demander un domaine non permis est refusé (403). Jamais de mot de passe, de "
        "jeton ni de numéro d'appelant complet.",
        CRISIS, "Les évènements.", "JournalEvenements", query=event_journal.EventQuery),
    ("GET", "/api/crise/ecoute"): Doc(
        "Ce qu'un appelant entend maintenant",
        "Les messages qu'entendrait à cet instant (ou à « instant ») un appelant de ce "
        "territoire passant par cette branche du menu.",
        CRISIS, "Les messages entendus, dans l'ordre.", "Ecoute",
        query=crisis_api.HearingQuery),
    ("GET", "/api/afflux"): Doc(
        "Alerte d'afflux d'appels",
        "Appels arrivés dans la fenêtre glissante, seuil, alerte en cours et dissuasion "
        "automatique éventuelle.",
        SUPERVISION, "L'état de la détection d'afflux.", "Afflux", errors=(404,)),
    ("GET", "/api/etat"): Doc(
        "État du service",
        "Santé des composants du processus (état partagé, lien AMI, import des "
        "statistiques…).",
        SUPERVISION, "L'état de chaque composant.", None),
    ("GET", "/api/acd"): Doc(
        "État de l'ACD",
        "Tout en une réponse (la source du tableau de supervision) : files avec leurs "
        "appelants en attente, agents avec leur état, liaison AMI.",
        ACD, "L'état des files et des agents.", "EtatAcd", query=NumbersQuery, errors=(503,)),
    ("GET", "/api/agents"): Doc(
        "Agents et leur état",
        "Chaque agent : files, état (libre, en appel, en pause avec son motif, post-appel), "
        "depuis combien de temps, appels pris.",
        ACD, "Les agents.", "EtatAcd", errors=(503,)),
    ("GET", "/api/files"): Doc(
        "Files d'attente et appelants",
        "Chaque file : appelants en attente (position, priorité, VIP, attente), attente "
        "maximale, agents connectés, libres et en appel.",
        ACD, "Les files.", "EtatAcd", query=NumbersQuery, errors=(503,)),
    ("POST", "/api/agents/{interface}/{action}"): Doc(
        "Agir sur un agent",
        "Connecter un agent à des files (« connexion », corps facultatif : files et nom), "
        "le déconnecter (« deconnexion »), le mettre en pause avec un motif (« pause ») ou "
        "lever sa pause (« reprise »). L'action est écrite au journal avec l'utilisateur.",
        ACD, "L'action faite.", "ActionAgent",
        body=(acd_api.LoginIn, acd_api.PauseIn), body_required=False, errors=(400, 409, 415, 503),
        path={"interface": {"description": "interface de l'agent, barre oblique comprise "
                                           "(ex. PJSIP/agent-a)", "schema": {"type": "string"}},
              "action": {"description": "ce qu'il faut faire",
                         "schema": {"enum": ["connexion", "deconnexion", "pause", "reprise"]}}}),
    ("PATCH", "/api/files/{file}/appelants/{uniqueid}"): Doc(
        "Changer la priorité d'un appelant en attente",
        "L'appelant (uniqueid d'Asterisk) passe à la priorité donnée dans sa file ; plus "
        "elle est haute, plus tôt il est servi.",
        ACD, "La nouvelle priorité.", "PrioriteAppelant", body=acd_api.PriorityIn,
        errors=(400, 409, 415, 503),
        path={"file": {"description": "nom de la file"},
              "uniqueid": {"description": "identifiant Asterisk de l'appel"}}),
    ("GET", "/api/debordement"): Doc(
        "Règles de débordement",
        "Les règles de la configuration (conditions et destination) et si chacune est active.",
        ACD, "Les règles.", "ReglesDebordement", errors=(503,)),
    ("PATCH", "/api/debordement/{nom}"): Doc(
        "Activer ou désactiver une règle de débordement",
        "La règle nommée s'applique (actif : vrai) ou non aux appels suivants ; le "
        "changement est écrit au journal.",
        ACD, "La règle et son état.", "RegleDebordement", body=acd_api.SwitchIn,
        errors=(400, 409, 415, 503), path={"nom": {"description": "nom de la règle"}}),
    ("GET", "/api/statistiques"): Doc(
        "Rapport statistique",
        "Exactement le JSON de « svi-acd stats report » : chiffres par heure, jour, semaine "
        "ISO, mois, file, agent, territoire, VIP, branche du menu, ticket ou ticket parent, "
        "pour les appels dont le premier évènement est entre « du » et « au » inclus (dates "
        "de Paris), avec les définitions publiées (numérateur et dénominateur de chaque taux).",
        STATISTICS, "Le rapport.", "Rapport", query=stats_api.ReportQuery, errors=(503,)),
    ("GET", "/api/statistiques/mensuel"): Doc(
        "Tableau mensuel",
        "Exactement le JSON de « svi-acd stats monthly » : appels présentés, appels servis et "
        "tickets ouverts par mois, avec l'historique importé et la source de chaque chiffre.",
        STATISTICS, "Le tableau mensuel.", "TableauMensuel", query=stats_api.MonthlyQuery,
        errors=(503,)),
    ("GET", "/api/openapi.json"): Doc(
        "Description OpenAPI de l'API",
        "Ce document (OpenAPI 3.1), public : toutes les routes de l'API, leurs paramètres, "
        "corps, réponses, erreurs et permissions.",
        DOCUMENTATION, "Le document OpenAPI.", "DocumentOpenAPI"),
}  # fmt: skip
