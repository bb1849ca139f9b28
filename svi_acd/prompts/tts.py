"""French speech from text, as 8 kHz mono 16-bit WAV that Asterisk plays as is.

espeak-ng (voice ``fr``, offline) speaks, ffmpeg resamples: Asterisk refuses a 22 kHz WAV with
"frequency mismatch". Both run as subprocesses awaited by asyncio: the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import wave

SAMPLE_RATE = 8000


class SpeechError(Exception):
    """Synthesis or conversion failed; the message says what to install or fix."""


async def _run(argv: list[str], stdin: bytes | None, what: str) -> bytes:
    if shutil.which(argv[0]) is None:
        raise SpeechError(f"{argv[0]} introuvable : installez le paquet Debian {argv[0]}")
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin)
    if process.returncode != 0:
        detail = err.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        raise SpeechError(f"{what} a échoué ({detail[0]})")
    return out


def wav_bytes(pcm: bytes) -> bytes:
    """A plain 44-byte-header WAV around 8 kHz mono 16-bit samples."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    return buffer.getvalue()


async def to_asterisk_wav(audio: bytes, max_duration_s: float | None = None) -> bytes:
    """Any audio ffmpeg understands -> 8 kHz mono PCM WAV (optionally cut to a duration).

    ffmpeg writes raw samples and Python writes the header: a WAV that ffmpeg streams to a pipe
    has no sizes (it cannot seek back) and Asterisk's format_wav refuses it.
    """
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", "pipe:0"]
    if max_duration_s is not None:
        argv += ["-t", str(max_duration_s)]
    argv += ["-ar", str(SAMPLE_RATE), "-ac", "1", "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"]
    return wav_bytes(await _run(argv, audio, "la conversion audio (ffmpeg)"))


async def synthesise(text: str, voice: str = "fr", words_per_minute: int = 160) -> bytes:
    """French speech for ``text`` as an Asterisk-ready WAV."""
    if not text.strip():
        raise SpeechError("texte vide : rien à dire")
    # The text goes through stdin, never the command line: no option injection, no length cap.
    raw = await _run(
        ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "--stdin", "--stdout"],
        text.encode("utf-8"),
        "la synthèse vocale (espeak-ng)",
    )
    return await to_asterisk_wav(raw)
