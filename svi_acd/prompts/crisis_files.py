"""Crisis message sound files: one new file per version, published atomically, old ones pruned.

A version's file is ``crise/crise-<id>-v<version>-<digest>.wav`` in the sound folder: a new
name for every version, written under a temporary name then renamed, so a caller never hears
a half-written file and a call already playing the previous version finishes it. The newest
``kept_versions`` files of each message stay on disk (the current one always does); a
supervisor's converted recording is kept apart (``crise/enregistrements/``) so that the
message can be rendered again when its mode changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

from svi_acd.prompts.catalog import SoundFolder, write_atomically
from svi_acd.prompts.crisis_errors import CrisisError

SUBDIR = "crise"
RECORDINGS = f"{SUBDIR}/enregistrements"
_VERSION_FILE = re.compile(r"^crise-(?P<id>\d+)-v(?P<version>\d+)-[0-9a-f]+\.wav$")
_STEM = re.compile(r"^crise/(?:enregistrements/)?[a-z0-9-]+$")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:10]


class CrisisSoundFiles:
    def __init__(self, folder: SoundFolder, kept_versions: int) -> None:
        self.folder = folder
        self.kept_versions = kept_versions

    def path(self, stem: str) -> Path:
        if not _STEM.match(stem):
            raise CrisisError(f"nom de fichier son invalide « {stem} »", "introuvable")
        return self.folder.host_dir / f"{stem}.wav"

    def sound_name(self, stem: str) -> str:
        """The name Asterisk plays (its view of the folder, no extension)."""
        return self.folder.sound_name(stem)

    async def _write(self, stem: str, wav: bytes) -> str:
        path = self.path(stem)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(write_atomically, path, wav)
        return stem

    async def publish(self, message_id: int, version: int, wav: bytes) -> str:
        """Write a version's audio under its own new name; returns the stem to play."""
        return await self._write(f"{SUBDIR}/crise-{message_id}-v{version}-{_digest(wav)}", wav)

    async def keep_recording(self, wav: bytes) -> str:
        return await self._write(f"{RECORDINGS}/enregistrement-{_digest(wav)}", wav)

    async def read(self, stem: str) -> bytes:
        try:
            return await asyncio.to_thread(self.path(stem).read_bytes)
        except FileNotFoundError as exc:
            raise CrisisError(
                "ce fichier son n'est plus conservé (seules les dernières versions le sont)",
                "introuvable",
            ) from exc

    def _versions(self, message_id: int) -> list[tuple[int, Path]]:
        folder = self.folder.host_dir / SUBDIR
        found = []
        for path in folder.glob(f"crise-{message_id}-v*.wav"):
            match = _VERSION_FILE.match(path.name)
            if match and int(match["id"]) == message_id:
                found.append((int(match["version"]), path))
        return sorted(found, reverse=True)

    def _prune(self, message_id: int, current: str) -> list[str]:
        keep = {self.path(current)}
        removed = []
        for index, (_, path) in enumerate(self._versions(message_id)):
            if index < self.kept_versions or path in keep:
                continue
            path.unlink(missing_ok=True)
            removed.append(path.name)
        return removed

    async def prune(self, message_id: int, current: str) -> list[str]:
        """Remove all but the newest versions (never ``current``); returns the removed names."""
        return await asyncio.to_thread(self._prune, message_id, current)

    async def versions_on_disk(self, message_id: int) -> list[int]:
        found = await asyncio.to_thread(self._versions, message_id)
        return [version for version, _ in found]
