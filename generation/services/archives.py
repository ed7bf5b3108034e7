"""Video archives: many videos as one zip, streamed from storage in chunks."""

from __future__ import annotations

import posixpath
import tempfile
import zipfile
from collections.abc import Iterable
from typing import IO

from generation.downloads import download_name
from generation.models import Video


def write_zip(videos: Iterable[Video]) -> IO[bytes]:
    """The videos in a zip written to a temporary file, copied in chunks: never all videos in memory.

    MP4s do not compress further, so entries are stored. The returned file is positioned at 0 and deletes
    itself when closed (FileResponse closes it after streaming).
    """
    out = tempfile.TemporaryFile(suffix=".zip")  # noqa: SIM115 — handed to the response, which closes it
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            seen: set[str] = set()
            for video in videos:
                # The name the video downloads under on its own: one naming scheme for the merchant.
                name = download_name(video)
                if name in seen:
                    stem, ext = posixpath.splitext(name)
                    name = f"{stem}-{video.pk}{ext}"
                seen.add(name)
                with video.file.open("rb") as src, archive.open(name, "w", force_zip64=True) as dst:
                    while chunk := src.read(1024 * 1024):
                        dst.write(chunk)
        out.seek(0)
        return out
    except BaseException:
        out.close()
        raise
