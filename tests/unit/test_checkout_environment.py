"""The file the demo leaves in ``var/`` so that commands typed later find its data and AMI."""

from __future__ import annotations

from pathlib import Path

from svi_acd.config.environment import find_env_file, load_env_file, read_env_file


def write_env(folder: Path, text: str) -> Path:
    (folder / "var").mkdir(parents=True, exist_ok=True)
    path = folder / "var" / "svi-acd.env"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_command_run_anywhere_in_the_checkout_finds_the_file(tmp_path: Path) -> None:
    path = write_env(tmp_path, "SVI_ACD_DATA=/srv/demo\n")
    inner = tmp_path / "svi_acd" / "stats"
    inner.mkdir(parents=True)
    assert find_env_file(inner) == path
    assert find_env_file(tmp_path.parent / "ailleurs") is None


def test_only_svi_acd_variables_are_taken_and_quotes_are_removed(tmp_path: Path) -> None:
    path = write_env(
        tmp_path,
        "# écrit par scripts/demo.sh\n"
        "SVI_ACD_DATA='/srv/demo var'\n"
        'export SVI_ACD_AMI_USER="svi"\n'
        "PATH=/tmp/evil\n"
        "SVI_ACD_AMI_SECRET=abc=def\n"
        "n'importe quoi\n",
    )
    assert read_env_file(path) == {
        "SVI_ACD_DATA": "/srv/demo var",
        "SVI_ACD_AMI_USER": "svi",
        "SVI_ACD_AMI_SECRET": "abc=def",
    }


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    write_env(tmp_path, "SVI_ACD_DATA=/srv/demo\nSVI_ACD_AMI_USER=svi\n")
    environ = {"SVI_ACD_DATA": "/mine"}
    assert load_env_file(environ, cwd=tmp_path) == tmp_path / "var" / "svi-acd.env"
    assert environ == {"SVI_ACD_DATA": "/mine", "SVI_ACD_AMI_USER": "svi"}


def test_svi_acd_env_names_another_file_or_turns_the_lookup_off(tmp_path: Path) -> None:
    write_env(tmp_path, "SVI_ACD_DATA=/srv/demo\n")
    other = tmp_path / "autre.env"
    other.write_text("SVI_ACD_DATA=/srv/autre\n", encoding="utf-8")
    named = {"SVI_ACD_ENV": str(other)}
    assert load_env_file(named, cwd=tmp_path) == other and named["SVI_ACD_DATA"] == "/srv/autre"
    off = {"SVI_ACD_ENV": ""}
    assert load_env_file(off, cwd=tmp_path) is None and "SVI_ACD_DATA" not in off
