"""Read the YAML configuration into ``Settings`` and explain every mistake in French.

YAML 1.1 reads ``18:30`` as the integer 1110 (base 60) and ``non`` as false; the loader reads
clock times as text and only ``true``/``false``/``oui``/``non`` as booleans, so that what the
supervisor wrote is what gets validated.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from svi_acd.config.errors import ConfigError
from svi_acd.config.model import Settings

__all__ = ["ConfigError", "load_settings", "parse_settings"]

DEFAULT_CONFIG_NAME = "default.yaml"


# libyaml's parser when PyYAML has it (five times faster: every command reads the settings).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader without base-60 numbers and with French/English booleans only."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE|oui|Oui|OUI|non|Non|NON)$")
for _first in "tTfFoOnN":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:bool", _BOOL)
    )
_Loader.add_constructor(
    "tag:yaml.org,2002:bool",
    lambda loader, node: loader.construct_scalar(node).lower() in {"true", "oui"},  # type: ignore[arg-type]
)
_SEXAGESIMAL = re.compile(r"^[-+]?\d+(?::[0-5]?\d)+(?:\.\d*)?$")


def _is_clock_like(value: str) -> bool:
    return bool(_SEXAGESIMAL.match(value))


def _construct_number(loader: yaml.SafeLoader, node: yaml.ScalarNode, base: str) -> Any:
    text = loader.construct_scalar(node)
    if isinstance(text, str) and _is_clock_like(text):
        return text
    return getattr(yaml.SafeLoader, f"construct_yaml_{base}")(loader, node)


_Loader.add_constructor("tag:yaml.org,2002:int", lambda lo, no: _construct_number(lo, no, "int"))
_Loader.add_constructor(
    "tag:yaml.org,2002:float", lambda lo, no: _construct_number(lo, no, "float")
)


_FRENCH: dict[str, str] = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "string_type": "texte attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "bool_type": "oui ou non attendu",
    "bool_parsing": "oui ou non attendu",
    "dict_type": "section (clé: valeur) attendue",
    "list_type": "liste attendue",
    "tuple_type": "liste attendue",
    "model_type": "section (clé: valeur) attendue",
    "literal_error": "valeur non autorisée",
    "union_tag_invalid": "type de nœud inconnu",
    "union_tag_not_found": "le champ « type » manque",
    "greater_than": "valeur trop petite",
    "greater_than_equal": "valeur trop petite",
    "less_than": "valeur trop grande",
    "less_than_equal": "valeur trop grande",
    "string_too_short": "texte vide",
    "date_from_datetime_parsing": "date invalide (format AAAA-MM-JJ attendu)",
}


_NODE_TYPES = {
    "annonce", "menu", "saisie", "routage", "crise", "variable", "file", "fermeture", "raccrocher",
}  # fmt: skip


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "value_error":
        # Our own validators raise ValueError with a French sentence.
        message = str(error.get("ctx", {}).get("error", error["msg"]))
    elif kind in _FRENCH:
        message = _FRENCH[kind]
        if kind != "missing" and "input" in error and not isinstance(error["input"], dict):
            message += f" « {error['input']} »"
        if kind == "literal_error" and "expected" in error.get("ctx", {}):
            message += f" (valeurs : {error['ctx']['expected']})"
    else:
        # Custom errors (types.py) already carry a French message with the value.
        message = error["msg"]
    return message


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        # Drop the discriminator step pydantic inserts for tagged unions (svi.noeuds.x.menu.…).
        if len(loc) >= 4 and loc[0] == "svi" and loc[1] == "noeuds" and loc[3] in _NODE_TYPES:
            loc = loc[:3] + loc[4:]
        # "[key]" marks an error in a mapping key: the key itself is already in the path.
        path = ".".join(str(part) for part in loc if part != "[key]") or "(racine)"
        problems.append(f"{path}: {_describe(error)}")
    return problems


def parse_settings(data: Any, source: str = "configuration") -> Settings:
    if not isinstance(data, dict):
        raise ConfigError(source, ["le fichier doit contenir des sections (clé: valeur)"])
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _problems(exc)) from None
    references = settings.reference_errors()
    if references:
        raise ConfigError(source, [f"{path}: {message}" for path, message in references])
    return settings


def load_yaml_text(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"ligne {mark.line + 1}, colonne {mark.column + 1}" if mark else "fichier"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [f"{where}: YAML illisible ({problem})"]) from None


def default_config_text() -> str:
    return resources.files("svi_acd.config").joinpath(DEFAULT_CONFIG_NAME).read_text("utf-8")


def load_settings(path: str | Path | None = None) -> Settings:
    """The settings from ``path``, or the shipped defaults when ``path`` is None."""
    if path is None:
        return parse_settings(load_yaml_text(default_config_text(), DEFAULT_CONFIG_NAME))
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(str(file), ["fichier introuvable"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(file), [f"lecture impossible ({exc})"]) from None
    return parse_settings(load_yaml_text(text, str(file)), str(file))
