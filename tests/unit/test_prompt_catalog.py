"""Configured prompts become 8 kHz mono WAV files once, named after their text."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from svi_acd.config.model import Settings
from svi_acd.prompts.catalog import PromptCatalog, SoundFolder
from svi_acd.prompts.tts import SpeechError, synthesise


async def test_every_prompt_is_synthesised_at_8khz_mono(settings: Settings, tmp_path: Path) -> None:
    catalog = await PromptCatalog.build(settings, SoundFolder(tmp_path, "/asterisk/sons"))
    for prompt_id in settings.prompts:
        name = catalog.sound(prompt_id)
        assert name.startswith(f"/asterisk/sons/{prompt_id}-")
        with wave.open(str(tmp_path / (name.rsplit("/", 1)[1] + ".wav"))) as audio:
            assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (
                8000,
                1,
                2,
            )
            assert audio.getnframes() > 8000 * 0.3  # at least some speech
    assert not list(tmp_path.glob(".*.tmp"))


async def test_a_second_build_reuses_the_files_and_a_new_text_gets_a_new_file(
    settings: Settings, tmp_path: Path
) -> None:
    folder = SoundFolder(tmp_path, str(tmp_path))
    first = await PromptCatalog.build(settings, folder)
    stamps = {path.name: path.stat().st_mtime_ns for path in tmp_path.iterdir()}
    again = await PromptCatalog.build(settings, folder)
    assert {path.name: path.stat().st_mtime_ns for path in tmp_path.iterdir()} == stamps
    data = settings.model_dump(by_alias=True)
    data["annonces"]["accueil"]["texte"] = "Bonjour, nouveau menu."
    changed = await PromptCatalog.build(Settings.model_validate(data), folder)
    assert changed.sound("accueil") != first.sound("accueil") == again.sound("accueil")
    assert changed.sound("ferme") == first.sound("ferme")


async def test_empty_text_is_refused_in_french() -> None:
    with pytest.raises(SpeechError, match="texte vide"):
        await synthesise("   ")
