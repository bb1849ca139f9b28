"""Crisis audio: recordings accepted and converted, or refused in French; files published
atomically under a new name per version, old versions pruned but never the current one."""

from __future__ import annotations

import subprocess
import wave
from io import BytesIO
from pathlib import Path

import pytest

from svi_acd.prompts.catalog import SoundFolder
from svi_acd.prompts.crisis_audio import AudioLimits, convert_recording, join, speak
from svi_acd.prompts.crisis_errors import CrisisError
from svi_acd.prompts.crisis_files import CrisisSoundFiles

LIMITS = AudioLimits(max_bytes=2_000_000, max_duration_s=5)


def tone(path: Path, seconds: float, *codec: str) -> bytes:
    """A 440 Hz tone in whatever container ``path``'s suffix says."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency=440:duration={seconds}:sample_rate=44100", *codec, str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("enregistrements")
    return {
        "wav": tone(folder / "a.wav", 2),
        "mp3": tone(folder / "a.mp3", 2),
        "ogg": tone(folder / "a.ogg", 2),
        "m4a": tone(folder / "a.m4a", 2, "-c:a", "aac"),
        "long.mp3": tone(folder / "long.mp3", 8),
        "video.mkv": tone(folder / "v.mkv", 2, "-c:a", "flac"),
    }


def properties(wav: bytes) -> tuple[int, int, int]:
    with wave.open(BytesIO(wav)) as reader:
        return reader.getframerate(), reader.getnchannels(), reader.getsampwidth()


@pytest.mark.parametrize("kind", ["wav", "mp3", "ogg", "m4a"])
async def test_accepted_recordings_become_8_khz_mono_16_bit(
    recordings: dict[str, bytes], kind: str
) -> None:
    audio = await convert_recording(recordings[kind], f"message.{kind}", LIMITS)
    assert properties(audio.wav) == (8000, 1, 2)
    assert audio.duration_s == pytest.approx(2.0, abs=0.1)


async def test_a_text_file_is_refused_as_not_audio() -> None:
    with pytest.raises(CrisisError) as refused:
        await convert_recording(b"Ceci n'est pas un son.\n" * 20, "message.mp3", LIMITS)
    assert refused.value.kind == "audio_refuse"
    assert "n'est pas un enregistrement audio" in refused.value.message
    assert "Rien n'a été modifié" in refused.value.message


async def test_an_empty_upload_is_refused() -> None:
    with pytest.raises(CrisisError) as refused:
        await convert_recording(b"", "vide.wav", LIMITS)
    assert refused.value.kind == "audio_refuse"


async def test_a_recording_longer_than_allowed_is_refused_with_its_duration(
    recordings: dict[str, bytes],
) -> None:
    with pytest.raises(CrisisError) as refused:
        await convert_recording(recordings["long.mp3"], "long.mp3", LIMITS)
    assert refused.value.kind == "audio_refuse"
    assert "dure 8 s, le maximum est 5 s" in refused.value.message


async def test_an_oversized_recording_is_refused_before_conversion(
    recordings: dict[str, bytes],
) -> None:
    small = AudioLimits(max_bytes=1000, max_duration_s=5)
    with pytest.raises(CrisisError) as refused:
        await convert_recording(recordings["wav"], "a.wav", small)
    assert refused.value.kind == "trop_volumineux"
    assert "taille maximale" in refused.value.message


async def test_audio_in_another_container_is_refused_with_the_accepted_formats(
    recordings: dict[str, bytes],
) -> None:
    with pytest.raises(CrisisError) as refused:
        await convert_recording(recordings["video.mkv"], "a.mkv", LIMITS)
    assert "WAV, MP3, OGG ou M4A" in refused.value.message


async def test_speech_too_long_for_the_limit_is_refused() -> None:
    with pytest.raises(CrisisError) as refused:
        await speak("Bonjour. " * 30, AudioLimits(1_000_000, 3))
    assert "le message lu dure" in refused.value.message


async def test_joined_audio_lasts_the_sum_plus_the_pause(recordings: dict[str, bytes]) -> None:
    part = await convert_recording(recordings["wav"], "a.wav", LIMITS)
    both = join(part, part, pause_s=0.5)
    assert both.duration_s == pytest.approx(4.5, abs=0.01)


def sounds(tmp_path: Path, kept: int = 3) -> CrisisSoundFiles:
    return CrisisSoundFiles(SoundFolder(tmp_path / "sons", "/asterisk/sons"), kept)


async def test_each_version_is_a_new_file_and_its_sound_name_is_asterisk_s_view(
    tmp_path: Path,
) -> None:
    files = sounds(tmp_path)
    first = await files.publish(12, 1, b"RIFF-v1")
    second = await files.publish(12, 2, b"RIFF-v2")
    assert first != second
    assert first.startswith("crise/crise-12-v1-") and second.startswith("crise/crise-12-v2-")
    assert await files.read(first) == b"RIFF-v1"
    assert files.sound_name(second) == f"/asterisk/sons/{second}"
    # Written under a temporary name then renamed: nothing else is left in the folder.
    assert sorted(p.name for p in (tmp_path / "sons" / "crise").iterdir()) == sorted(
        [Path(first).name + ".wav", Path(second).name + ".wav"]
    )


async def test_only_the_newest_versions_are_kept_and_never_the_current_one_removed(
    tmp_path: Path,
) -> None:
    files = sounds(tmp_path, kept=3)
    stems = [await files.publish(7, version, f"v{version}".encode()) for version in range(1, 7)]
    await files.publish(8, 1, b"another message")
    removed = await files.prune(7, current=stems[-1])
    assert len(removed) == 3
    assert await files.versions_on_disk(7) == [6, 5, 4]
    assert await files.versions_on_disk(8) == [1]
    # A current version older than the kept ones (a rollback) is kept too.
    await files.prune(7, current=stems[3])
    assert 4 in await files.versions_on_disk(7)


async def test_a_pruned_version_reads_as_no_longer_kept(tmp_path: Path) -> None:
    files = sounds(tmp_path, kept=1)
    old = await files.publish(3, 1, b"v1")
    await files.publish(3, 2, b"v2")
    await files.prune(3, current="crise/none")
    with pytest.raises(CrisisError) as missing:
        await files.read(old)
    assert missing.value.kind == "introuvable"


def test_a_stem_outside_the_crisis_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CrisisError):
        sounds(tmp_path).path("../../etc/passwd")
