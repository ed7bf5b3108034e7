"""The optional zip of images that rows name by file name: read member by member, never extracted to disk.

Refused before reading anything: unsafe names (absolute, `..`, drive letters; such entries are ignored and
reported), more than MAX_FILES entries, and a declared uncompressed total over the limit (a zip bomb). While
reading, a member is cut off at the image size limit whatever its header claims.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings

MAX_FILES = 20_000
CHUNK = 256 * 1024


def max_image_bytes() -> int:
    return int(getattr(settings, "SHOPVIDEO_IMPORT_MAX_IMAGE_BYTES", 40 * 1024 * 1024))


def max_zip_uncompressed() -> int:
    return int(getattr(settings, "SHOPVIDEO_IMPORT_MAX_ZIP_UNCOMPRESSED", 2 * 1024**3))


def safe_member_name(name: str) -> str | None:
    """The normalised name inside the archive, or None when it could escape a folder or is not a plain name."""
    name = (name or "").strip()
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = name.split("/")
    if any(p in ("..", "") for p in parts[:-1]) or parts[-1] in ("", ".", ".."):
        return None
    normalised = posixpath.normpath(name)
    if normalised.startswith("../") or normalised == "..":
        return None
    return normalised


class ZipRefused(Exception):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class ZipIndex:
    names: set[str] = field(default_factory=set)
    unsafe: list[str] = field(default_factory=list)


def inspect_zip(fileobj: IO[bytes]) -> ZipIndex:
    """Index the archive's safe names; raises ZipRefused for an unreadable archive or a zip bomb."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ZipRefused("zip_unreadable") from exc
    infos = archive.infolist()
    if len(infos) > MAX_FILES:
        raise ZipRefused("zip_too_many_files", max=MAX_FILES)
    declared = sum(i.file_size for i in infos)
    if declared > max_zip_uncompressed():
        raise ZipRefused("zip_too_large", max_mb=max_zip_uncompressed() // (1024 * 1024))
    index = ZipIndex()
    for info in infos:
        if info.is_dir():
            continue
        safe = safe_member_name(info.filename)
        if safe is None:
            index.unsafe.append(info.filename[:200])
        else:
            index.names.add(safe)
    return index


class MemberTooLarge(Exception):
    pass


def read_member(fileobj: IO[bytes], name: str, *, limit: int | None = None) -> bytes:
    """The member's bytes, stopping as soon as they exceed `limit` (MemberTooLarge) — the header is not trusted."""
    limit = max_image_bytes() if limit is None else limit
    archive = zipfile.ZipFile(fileobj)
    info = next((i for i in archive.infolist() if safe_member_name(i.filename) == name), None)
    if info is None:
        raise KeyError(name)
    if info.file_size > limit:
        raise MemberTooLarge(name)
    buf = bytearray()
    with archive.open(info) as fh:
        while chunk := fh.read(CHUNK):
            buf += chunk
            if len(buf) > limit:
                raise MemberTooLarge(name)
    return bytes(buf)
