"""Audio for crisis messages: French speech from a text, or a supervisor's recording checked
and converted to the 8 kHz mono WAV Asterisk plays.

A recording is refused with a French sentence, before anything is published, when it is not
audio, not one of the accepted formats, silent or too long. ffprobe and ffmpeg run as
asyncio subprocesses; temporary files are written and removed in worker threads: the event
loop never blocks.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from svi_acd.prompts.crisis_errors import CrisisError
from svi_acd.prompts.tts import SAMPLE_RATE, SpeechError, synthesise, wav_bytes

ACCEPTED = "WAV, MP3, OGG ou M4A"
# ffprobe format names of the accepted containers (m4a is reported as "mov,mp4,m4a,…").
_ACCEPTED_FORMATS = frozenset({"wav", "mp3", "ogg", "m4a", "mp4"})
MIN_DURATION_S = 0.3
BYTES_PER_SECOND = SAMPLE_RATE * 2


@dataclass(frozen=True)
class AudioLimits:
    max_bytes: int
    max_duration_s: float


@dataclass(frozen=True)
class Audio:
    """An Asterisk-ready WAV (8 kHz, mono, 16-bit) and its duration."""

    wav: bytes
    duration_s: float


def pcm_of(wav: bytes) -> bytes:
    with wave.open(io.BytesIO(wav), "rb") as reader:
        return reader.readframes(reader.getnframes())


def audio_of(wav: bytes) -> Audio:
    return Audio(wav, len(pcm_of(wav)) / BYTES_PER_SECOND)


def join(*parts: Audio, pause_s: float = 0.4) -> Audio:
    """One WAV: the parts in turn, with a short silence between them."""
    silence = b"\x00\x00" * int(SAMPLE_RATE * pause_s)
    pcm = silence.join(pcm_of(part.wav) for part in parts)
    return Audio(wav_bytes(pcm), len(pcm) / BYTES_PER_SECOND)


def _too_long(duration_s: float, limits: AudioLimits, what: str) -> CrisisError:
    return CrisisError(
        f"{what} dure {duration_s:.0f} s, le maximum est {limits.max_duration_s:.0f} s : "
        "raccourcissez-le.",
        "audio_refuse",
        duree_s=round(duration_s, 1),
    )


async def speak(text: str, limits: AudioLimits, voice: str = "fr") -> Audio:
    try:
        audio = audio_of(await synthesise(text, voice))
    except SpeechError as exc:
        raise CrisisError(f"synthèse vocale impossible : {exc}", "indisponible") from exc
    if audio.duration_s > limits.max_duration_s:
        raise _too_long(audio.duration_s, limits, "le message lu")
    return audio


async def _run(argv: list[str]) -> tuple[int, bytes, bytes]:
    if shutil.which(argv[0]) is None:
        raise CrisisError(
            f"{argv[0]} introuvable : installez le paquet Debian ffmpeg", "indisponible"
        )
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode or 0, out, err


def _not_audio(filename: str) -> CrisisError:
    return CrisisError(
        f"le fichier « {filename} » n'est pas un enregistrement audio lisible "
        f"(formats acceptés : {ACCEPTED}). Rien n'a été modifié.",
        "audio_refuse",
    )


async def _probe(path: Path, filename: str) -> float | None:
    """The container's duration (None when unknown); refuses what is not accepted audio."""
    code, out, _ = await _run(
        ["ffprobe", "-v", "error", "-show_entries", "format=format_name,duration:stream=codec_type",
         "-of", "json", str(path)]
    )  # fmt: skip
    if code != 0:
        raise _not_audio(filename)
    try:
        info = json.loads(out or b"{}")
    except ValueError as exc:
        raise _not_audio(filename) from exc
    formats = set(str(info.get("format", {}).get("format_name", "")).split(","))
    streams = [s.get("codec_type") for s in info.get("streams", [])]
    if "audio" not in streams:
        raise _not_audio(filename)
    if not formats & _ACCEPTED_FORMATS:
        raise CrisisError(
            f"format audio non accepté pour « {filename} » ({', '.join(sorted(formats))}) : "
            f"envoyez un fichier {ACCEPTED}. Rien n'a été modifié.",
            "audio_refuse",
        )
    try:
        return float(info["format"]["duration"])
    except (KeyError, TypeError, ValueError):
        return None


def _write_temporary(data: bytes) -> Path:
    with tempfile.NamedTemporaryFile(prefix="svi-crise-", suffix=".audio", delete=False) as f:
        f.write(data)
        return Path(f.name)


async def convert_recording(data: bytes, filename: str, limits: AudioLimits) -> Audio:
    """A supervisor's recording as an Asterisk-ready WAV, or a refusal in French."""
    if len(data) > limits.max_bytes:
        raise too_large(limits)
    if not data:
        raise _not_audio(filename)
    path = await asyncio.to_thread(_write_temporary, data)
    try:
        duration = await _probe(path, filename)
        if duration is not None and duration > limits.max_duration_s + 0.5:
            raise _too_long(duration, limits, "l'enregistrement")
        # -t bounds the work even when the container lies about its duration.
        code, pcm, _ = await _run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(path),
             "-t", str(limits.max_duration_s + 1), "-vn", "-ar", str(SAMPLE_RATE), "-ac", "1",
             "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"]
        )  # fmt: skip
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    if code != 0:
        raise _not_audio(filename)
    seconds = len(pcm) / BYTES_PER_SECOND
    if seconds > limits.max_duration_s + 0.5:
        raise _too_long(seconds, limits, "l'enregistrement")
    if seconds < MIN_DURATION_S:
        raise CrisisError(
            f"l'enregistrement « {filename} » est vide ou trop court ({seconds:.1f} s).",
            "audio_refuse",
        )
    return Audio(wav_bytes(pcm), seconds)


def too_large(limits: AudioLimits) -> CrisisError:
    megabytes = limits.max_bytes / 1_000_000
    return CrisisError(
        f"le fichier dépasse la taille maximale de {megabytes:g} Mo : envoyez un enregistrement "
        "plus court ou plus compressé (MP3, OGG). Rien n'a été modifié.",
        "trop_volumineux",
        max_octets=limits.max_bytes,
    )
