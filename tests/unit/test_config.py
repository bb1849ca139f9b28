"""The configuration file: shipped defaults, and French errors that name the path and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from svi_acd.cli import main
from svi_acd.config.loader import ConfigError, default_config_text, load_settings
from svi_acd.config.model import TERRITORY_CODES
from svi_acd.config.types import format_clock


def test_shipped_defaults_reproduce_the_specification() -> None:
    settings = load_settings()
    assert settings.desk.timezone == "Europe/Paris"
    assert {day: settings.desk.hours[day] for day in range(5)} == {
        day: ((8 * 3600, 18 * 3600 + 1800),) for day in range(5)
    }
    assert 5 not in settings.desk.hours and 6 not in settings.desk.hours
    assert set(settings.territories) == set(TERRITORY_CODES)
    assert {code: format_clock(t.opening) for code, t in settings.territories.items()} == {
        code: "08:00" for code in TERRITORY_CODES
    }
    assert settings.territories["NC"].closing == 20 * 3600
    assert all(t.closing is None for code, t in settings.territories.items() if code != "NC")
    assert settings.statistics.short_abandon_s == 5
    assert settings.statistics.service_level_s == 30
    assert settings.flow.entry in settings.flow.nodes
    assert settings.default_queue in settings.queues


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "svi.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = default_config_text()
    assert old in text, old
    return write(tmp_path, text.replace(old, new, 1))


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return caught.value.problems


MQ_OPENING = '    feries: "972"\n    ouverture: 08:00'


def test_bad_territory_hour_names_path_and_value(tmp_path: Path) -> None:
    path = broken(tmp_path, MQ_OPENING, MQ_OPENING.replace("08:00", "25:00"))
    assert problems_of(path) == ["territoires.MQ.ouverture: heure invalide « 25:00 »"]


def test_config_check_exits_2_with_the_french_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = broken(tmp_path, MQ_OPENING, MQ_OPENING.replace("08:00", "25:00"))
    assert main(["config", "check", str(path)]) == 2
    assert "territoires.MQ.ouverture: heure invalide « 25:00 »" in capsys.readouterr().err


def test_config_check_accepts_the_shipped_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 0
    assert "Configuration valide" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    lundi: 08:00-18:30", "    lundi: 18:30-08:00",
         "guichet.horaires.lundi: plage horaire vide ou inversée « 18:30-08:00 »"),
        ("    lundi: 08:00-18:30", "    lundy: 08:00-18:30",
         "guichet.horaires.lundy: jour de la semaine invalide (lundi … dimanche) « lundy »"),
        ("    fuseau: America/Martinique", "    fuseau: America/Fort-de-France",
         "territoires.MQ.fuseau: fuseau horaire inconnu (nom IANA attendu, ex. Europe/Paris) "
         "« America/Fort-de-France »"),
        ("    feries: \"973\"", "    feries: GF", "territoires.GF.feries: calendrier de jours"),
        ("    fermeture: 20:00", "    fermeture: 07:00",
         "territoires.NC: la fermeture doit être après l'ouverture"),
        ("  seuil_abandon_court_s: 5", "  seuil_abandon_court_s: -1",
         "statistiques.seuil_abandon_court_s: valeur trop petite « -1 »"),
        ("  seuil_abandon_court_s: 5", "  seuil_abandon_cour_s: 5",
         "statistiques.seuil_abandon_cour_s: champ inconnu « 5 »"),
        ("        \"4\": branche_telephonie", "        \"4\": branche_inexistante",
         "svi.noeuds.accueil.choix.4: nœud inconnu « branche_inexistante »"),
        ("      annonce: saisie_ticket", "      annonce: annonce_absente",
         "svi.noeuds.suivi.annonce: annonce inconnue « annonce_absente »"),
        ("  entree: routage", "  entree: nulle_part", "svi.entree: nœud inconnu « nulle_part »"),
        ("      type: menu", "      type: menuu", "svi.noeuds.accueil: type de nœud inconnu"),
        ("file_par_defaut: support", "file_par_defaut: aucune",
         "file_par_defaut: file inconnue « aucune »"),
        ("  GF:\n", "  PF:\n", "territoires: territoire inconnu « PF »"),
        ("    delai_sonnerie_s: 15", "    delai_sonnerie_s: quinze",
         "files.support.delai_sonnerie_s: nombre entier attendu « quinze »"),
    ],
)  # fmt: skip
def test_mistakes_are_explained_in_french(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    problems = problems_of(broken(tmp_path, old, new))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, "guichet:\n  fuseau: [Europe/Paris\n"))
    assert problems[0].startswith("ligne ")
    assert "YAML illisible" in problems[0]


def test_missing_file_and_non_mapping_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "absent.yaml") == ["fichier introuvable"]
    assert problems_of(write(tmp_path, "- une liste\n")) == [
        "le fichier doit contenir des sections (clé: valeur)"
    ]


def test_clock_times_are_not_read_as_base_60_numbers(tmp_path: Path) -> None:
    # YAML 1.1 would read 18:30 as 1110; the loader keeps it as the time the user wrote.
    settings = load_settings(
        broken(tmp_path, "    lundi: 08:00-18:30", "    lundi: [08:00-12:00, 13:30-18:30]")
    )
    assert settings.desk.hours[0] == ((8 * 3600, 12 * 3600), (13 * 3600 + 1800, 18 * 3600 + 1800))


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(Exception, match="frozen"):
        settings.default_queue = "autre"  # type: ignore[misc]
