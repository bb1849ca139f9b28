"""The JSON schemas of the API's answers and errors, for the OpenAPI document.

Request schemas are not here: they come from the pydantic models the handlers validate with.
These describe what handlers answer (``message_json``, ``snapshot_json``, ``Report.as_json``…).
"""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


_FIGURES = {
    name: {"type": "integer", "minimum": 0}
    for name in ("presented", "answered", "abandoned", "short_abandoned", "timeout", "exit_empty",
                 "exit_key", "withdrawn", "in_queue", "queue_calls", "received", "closed",
                 "territory_closed", "deterred", "overflow", "callback", "queued", "other", "vip",
                 "transferred")
} | {
    "answer_rate": _nullable("number", minimum=0, maximum=1),
    "abandon_rate": _nullable("number", minimum=0, maximum=1),
    "service_level": _nullable("number", minimum=0, maximum=1),
    "asa_seconds": _nullable("number", minimum=0),
    "aht_seconds": _nullable("number", minimum=0),
    "max_wait_seconds": _nullable("integer", minimum=0),
    "ring_no_answer": {"type": "integer", "minimum": 0, "description": "par agent seulement"},
}  # fmt: skip
_DEFINITION = {
    "type": "object",
    "properties": {n: {"type": "string"} for n in ("label", "description", "numerator",
                                                    "denominator")},
    "required": ["label"],
}  # fmt: skip
_SCOPE = {
    "type": "object",
    "properties": {"type": {"enum": ["ligne", "branches", "territoires"]},
                   "valeurs": {"type": "array", "items": {"type": "string"}}},
}  # fmt: skip

_ACD_SCHEMAS: dict[str, Any] = {
    "Agent": {
        "type": "object",
        "properties": {
            "nom": {"type": "string"},
            "interface": {"type": "string", "examples": ["PJSIP/agent-a"]},
            "files": {"type": "array", "items": {"type": "string"}},
            "etat": {"type": "string", "description": "libre, en appel, pause, post-appel…"},
            "etat_libelle": {"type": "string"},
            "motif_pause": _nullable("string"),
            "depuis_s": _nullable("number"),
            "appels_pris": {"type": "integer"},
        },
        "required": ["interface", "etat"],
    },
    "File": {
        "type": "object",
        "properties": {
            "file": {"type": "string"},
            "nom": {"type": "string"},
            "en_attente": {"type": "integer"},
            "vip_en_attente": {"type": "integer"},
            "attente_max_s": {"type": "number"},
            "agents_connectes": {"type": "integer"},
            "agents_libres": {"type": "integer"},
            "agents_en_appel": {"type": "integer"},
            "appelants": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "uniqueid": {"type": "string"},
                        "position": {"type": "integer"},
                        "priorite": {"type": "integer"},
                        "vip": {"type": "boolean"},
                        "rappel": {"type": "boolean"},
                        "numero": {
                            "type": "string",
                            "description": "masqué sauf « numeros=complets »",
                        },
                        "attente_s": {"type": "number"},
                    },
                },
            },
        },
        "required": ["file", "en_attente"],
    },
    "EtatAcd": {
        "type": "object",
        "properties": {
            "ami_connectee": {"type": "boolean"},
            "files": {"type": "array", "items": _ref("File")},
            "agents": {"type": "array", "items": _ref("Agent")},
        },
        "required": ["ami_connectee"],
    },
    "ActionAgent": {
        "type": "object",
        "properties": {
            "agent": {"type": "string"},
            "action": {"enum": ["connexion", "deconnexion", "pause", "reprise"]},
            "par": {"type": "string", "description": "l'utilisateur, écrit au journal"},
        },
    },
    "PrioriteAppelant": {
        "type": "object",
        "properties": {"uniqueid": {"type": "string"}, "priorite": {"type": "integer"}},
    },
    "ReglesDebordement": {
        "type": "object",
        "properties": {"regles": {"type": "array", "items": {"type": "object"}}},
        "required": ["regles"],
    },
    "RegleDebordement": {
        "type": "object",
        "properties": {"nom": {"type": "string"}, "actif": {"type": "boolean"}},
    },
}

SCHEMAS: dict[str, Any] = {
    "Erreur": {
        "type": "object",
        "description": "Toute erreur de l'API ; d'autres clés de détail peuvent s'ajouter.",
        "properties": {
            "erreur": {"type": "string", "description": "phrase en français qui dit quoi faire"},
            "champs": {
                "type": "array",
                "description": "requête invalide : une erreur par champ",
                "items": {
                    "type": "object",
                    "required": ["champ", "erreur"],
                    "properties": {"champ": {"type": "string"}, "erreur": {"type": "string"}},
                },
            },
        },
        "required": ["erreur"],
    },
    "MessageCrise": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "titre": _nullable("string"),
            "source": {"type": "string", "description": "texte (synthèse) ou enregistrement"},
            "texte": _nullable("string"),
            "fichier_origine": _nullable("string"),
            "mode": {"enum": ["information", "dissuasion"]},
            "portee": _SCOPE,
            "debut": _nullable("string", format="date-time"),
            "fin": _nullable("string", format="date-time"),
            "rappel_portail": {"type": "boolean"},
            "incident": _nullable("string"),
            "duree_s": _nullable("number"),
            "actif": {"type": "boolean"},
            "statut": {"type": "string"},
            "statut_libelle": {"type": "string"},
            "version": {"type": "integer"},
            "origine": {"type": "string"},
            "cree_le": {"type": "string", "format": "date-time"},
            "cree_par": {"type": "string"},
            "modifie_le": _nullable("string", format="date-time"),
            "modifie_par": _nullable("string"),
        },
        "required": ["id", "mode", "portee", "actif", "statut", "version"],
    },
    "ListeMessages": {
        "type": "object",
        "properties": {
            "messages": {"type": "array", "items": _ref("MessageCrise")},
            "revision": {"type": "integer"},
        },
        "required": ["messages", "revision"],
    },
    "UnMessage": {
        "type": "object",
        "properties": {"message": _ref("MessageCrise")},
        "required": ["message"],
    },
    "ChangementMessage": {
        "type": "object",
        "properties": {
            "message": _ref("MessageCrise"),
            "modifie": {"type": "boolean", "description": "faux si rien n'a changé"},
            "propagation": {"enum": ["immediate", "differee"]},
            "revision": {"type": "integer"},
        },
        "required": ["message", "modifie", "propagation", "revision"],
    },
    "Journal": {
        "type": "object",
        "properties": {
            "evenements": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "date": {"type": "string", "format": "date-time"},
                        "utilisateur": {"type": "string"},
                        "action": {"type": "string"},
                        "message": _nullable("integer"),
                        "version": _nullable("integer"),
                        "detail": _nullable("string"),
                    },
                },
            }
        },
        "required": ["evenements"],
    },
    "JournalEvenements": {
        "type": "object",
        "properties": {
            "evenements": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "Les lignes des messages de crise portent en plus les "
                    "champs du schéma Journal (message, version, titre, texte…).",
                    "properties": {
                        "domaine": {"enum": ["crise", "annuaire", "comptes", "acd"]},
                        "id": {"type": "integer", "description": "numéro dans son domaine"},
                        "date": {"type": "string", "format": "date-time"},
                        "utilisateur": {"type": "string"},
                        "action": {"type": "string"},
                        "objet": {"type": "string"},
                        "detail": _nullable("string"),
                    },
                    "required": ["domaine", "id", "date", "utilisateur", "action", "objet"],
                },
            }
        },
        "required": ["evenements"],
    },
    "Ecoute": {
        "type": "object",
        "properties": {
            "revision": {"type": "integer"},
            "messages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "mode": {"type": "string"},
                        "version": {"type": "integer"},
                        "portee": _SCOPE,
                    },
                },
            },
        },
    },
    "Afflux": {
        "type": "object",
        "properties": {
            "alerte": {"type": "boolean"},
            "appels": {"type": "integer"},
            "appels_par_minute": {"type": "number"},
            "fenetre_s": {"type": "integer"},
            "seuil_appels": {"type": "integer"},
            "depuis": _nullable("string", format="date-time"),
            "verifie_le": _nullable("string", format="date-time"),
            "dissuasion_auto": {"type": "boolean"},
            "message_dissuasion": _nullable("integer"),
            "erreur_dissuasion": _nullable("string"),
        },
    },
    "Rapport": {
        "type": "object",
        "description": "Le contrat JSON de « svi-acd stats report --format json ».",
        "properties": {
            "definitions": {"type": "object", "additionalProperties": _DEFINITION},
            "parameters": {
                "type": "object",
                "properties": {
                    "by": {"type": "string"},
                    "from": {"type": "string", "format": "date"},
                    "to": {"type": "string", "format": "date"},
                    "timezone": {"type": "string"},
                    "period_rule": {"type": "string"},
                    "short_abandon_s": {"type": "integer"},
                    "service_level_s": {"type": "integer"},
                },
            },
            "rows": {"type": "array", "items": _ref("LigneRapport")},
            "totals": {"type": "object", "properties": _FIGURES},
        },
        "required": ["definitions", "rows", "totals"],
    },
    "LigneRapport": {
        "type": "object",
        "description": "Une ligne : sa clé (period, queue, agent, territory, priority, branch, "
        "ticket et parent_ticket selon « par ») puis les chiffres ; taux entre 0 et 1, null "
        "quand le dénominateur vaut 0.",
        "properties": {
            "period": {"type": "string"},
            "queue": _nullable("string"),
            "agent": _nullable("string"),
            "territory": _nullable("string"),
            "priority": _nullable("string"),
            "branch": _nullable("string"),
            "ticket": {"type": "string"},
            "parent_ticket": _nullable("string"),
            **_FIGURES,
        },
        "required": [
            "presented",
            "answered",
            "abandoned",
            "short_abandoned",
            "timeout",
            "answer_rate",
            "abandon_rate",
            "service_level",
            "asa_seconds",
        ],
    },
    "TableauMensuel": {
        "type": "object",
        "description": "Le contrat JSON de « svi-acd stats monthly --format json ».",
        "properties": {
            "definitions": {"type": "object", "additionalProperties": _DEFINITION},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        "presented": _nullable("integer"),
                        "served": _nullable("integer"),
                        "tickets_opened": _nullable("integer"),
                        "answer_rate": _nullable("number"),
                        "calls_per_ticket": _nullable("number"),
                        "calls_source": {"enum": ["journal", "historique", None]},
                        "tickets_source": {"enum": ["itsm", "historique", None]},
                    },
                    "required": ["month", "presented", "served", "tickets_opened"],
                },
            },
            "totals": {
                "type": "object",
                "properties": {
                    n: {"type": "integer"} for n in ("presented", "served", "tickets_opened")
                },
            },
        },
        "required": ["definitions", "rows", "totals"],
    },
    "FormulaireMessage": {
        "type": "object",
        "description": "Les champs du corps JSON, à plat (« portee » : le type, « valeurs » : "
        "les valeurs séparées par des virgules), et l'enregistrement dans « fichier ».",
        "properties": {
            "fichier": {
                "type": "string",
                "contentMediaType": "application/octet-stream",
                "description": "enregistrement (WAV, MP3, OGG…), taille limitée",
            },
            "texte": {"type": "string"},
            "titre": {"type": "string"},
            "mode": {"enum": ["information", "dissuasion"]},
            "portee": {"enum": ["ligne", "branches", "territoires"]},
            "valeurs": {"type": "string"},
            "debut": {"type": "string", "format": "date-time"},
            "fin": {"type": "string", "format": "date-time"},
            "incident": {"type": "string"},
            "actif": {"enum": ["oui", "non"]},
            "rappel_portail": {"enum": ["oui", "non"]},
            "version": {"type": "integer"},
        },
    },
    "DocumentOpenAPI": {"type": "object", "description": "Ce document."},
    **_ACD_SCHEMAS,
}
