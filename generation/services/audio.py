"""Music tracks for ads: upload (checked before anything is stored) and delete."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from generation.models import AudioTrack
from generation.pipeline import audio
from generation.services.errors import AudioRejected
from generation.services.products import _clean_filename
from generation.services.storage import _delete_files

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from shop_video.merchants.models import Organization

# The stored file's extension follows what the file is (ffmpeg's demuxer), never the name it was sent with.
_EXTENSIONS = {"mp3": "mp3", "wav": "wav", "mov,mp4,m4a,3gp,3g2,mj2": "m4a", "aac": "aac", "ogg": "ogg"}


def _limits() -> tuple[float, int]:
    return float(settings.SHOPVIDEO_AUDIO_MAX_SECONDS), int(settings.SHOPVIDEO_AUDIO_MAX_BYTES)


def _rejected(exc: audio.AudioInvalid) -> AudioRejected:
    return AudioRejected(exc.message, exc.code, fields={"file": [exc.message]}, params=exc.params)


def upload_audio(*, organization: Organization, upload: UploadedFile, filename: str = "") -> AudioTrack:
    """Probe the upload, then store it with its row; a file that is not usable music leaves nothing behind."""
    max_seconds, max_bytes = _limits()
    name = _clean_filename(filename or getattr(upload, "name", "") or "music")
    if (getattr(upload, "size", None) or 0) > max_bytes:  # refused before a byte is copied
        raise _rejected(
            audio.AudioInvalid(
                _("The file is larger than %(limit)d MB.") % {"limit": max_bytes // (1024 * 1024)},
                "audio_too_large",
                params={"max_bytes": max_bytes},
            )
        )
    with tempfile.TemporaryDirectory(prefix="audio-") as folder:
        # PyAV reads a path: Django spools big uploads to disk already, small ones stay in memory.
        path = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else None
        if path is None:
            path = os.path.join(folder, "upload")
            upload.seek(0)
            with open(path, "wb") as out:
                shutil.copyfileobj(upload, out, 1024 * 1024)
        try:
            info = audio.probe_track(path, max_seconds=max_seconds, max_bytes=max_bytes)
        except audio.AudioInvalid as exc:
            raise _rejected(exc) from exc
        stem = os.path.splitext(name)[0] or "music"
        track = AudioTrack(
            organization=organization,
            name=stem[:200],
            seconds=info.seconds,
            sample_rate=info.sample_rate,
            codec=info.codec,
            bytes=os.path.getsize(path),
        )
        stored: list[str] = []
        try:
            with open(path, "rb") as data:
                track.file.save(f"music.{_EXTENSIONS.get(info.format, 'audio')}", File(data), save=False)
            stored.append(track.file.name)
            with transaction.atomic():
                track.save()
        except BaseException:
            _delete_files(stored)
            raise
    return track


def delete_audio(*, track: AudioTrack) -> None:
    """Remove the track's row, then its file once the removal is committed."""
    with transaction.atomic():
        name = track.file.name
        AudioTrack.objects.filter(pk=track.pk).delete()
        transaction.on_commit(lambda: _delete_files([name]))
