"""The prompt catalogue: configured prompt ids -> sound files Asterisk can play.

Texts are synthesised once into ``<dir>/<id>-<hash>.wav``: the name changes with the text, so
a new text is a new file, written to a temporary name then renamed (a caller never hears a
half-written file), and an unchanged text costs nothing at the next start. Asterisk may see
the folder under another path (a chroot, a container): ``asterisk_dir`` is that path.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from svi_acd.config.model import Settings
from svi_acd.prompts.tts import synthesise


@dataclass(frozen=True)
class SoundFolder:
    host_dir: Path  # where the service writes
    asterisk_dir: str  # the same folder as Asterisk sees it

    def sound_name(self, stem: str) -> str:
        return f"{self.asterisk_dir.rstrip('/')}/{stem}"


# Part of every file name: bump it when the audio pipeline changes, so old files are not reused.
AUDIO_FORMAT = "wav-8k-s16-v2"


def text_stem(prompt_id: str, text: str, voice: str) -> str:
    digest = hashlib.sha256(f"{AUDIO_FORMAT}\n{voice}\n{text}".encode()).hexdigest()[:12]
    return f"{prompt_id}-{digest}"


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class PromptCatalog:
    def __init__(self, folder: SoundFolder, sounds: dict[str, str]) -> None:
        self.folder = folder
        self._sounds = sounds

    def sound(self, prompt_id: str) -> str:
        return self._sounds[prompt_id]

    def __contains__(self, prompt_id: str) -> bool:
        return prompt_id in self._sounds

    @classmethod
    async def build(
        cls, settings: Settings, folder: SoundFolder, voice: str = "fr"
    ) -> PromptCatalog:
        """Synthesise every text prompt that has no file yet (in parallel, off the loop)."""
        await asyncio.to_thread(folder.host_dir.mkdir, parents=True, exist_ok=True)
        sounds: dict[str, str] = {}
        missing: dict[str, tuple[str, Path]] = {}
        for prompt_id, prompt in settings.prompts.items():
            if prompt.file:
                sounds[prompt_id] = prompt.file
                continue
            stem = text_stem(prompt_id, prompt.text, voice)
            sounds[prompt_id] = folder.sound_name(stem)
            path = folder.host_dir / f"{stem}.wav"
            if not await asyncio.to_thread(path.exists):
                missing[prompt_id] = (prompt.text, path)

        async def make(text: str, path: Path) -> None:
            await asyncio.to_thread(write_atomically, path, await synthesise(text, voice))

        await asyncio.gather(*(make(text, path) for text, path in missing.values()))
        return cls(folder, sounds)
