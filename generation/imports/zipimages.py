"""The optional zip of images that rows name by file name: read member by member, never extracted to disk.

Refused before reading anything: unsafe names (absolute, `..`, drive letters; such entries are ignored and
reported), more than MAX_FILES entries, and a declared uncompressed total over the limit (a zip bomb). While
reading, a member is cut off at the image size limit whatever its header claims, and a member that cannot be
read back (damaged, encrypted) is an error of that image alone (MemberUnreadable), never of the whole import.
"""

from __future__ import annotations

import lzma
import posixpath
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import unquote, urlsplit

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


def fix_name(img: dict) -> str:
    """The file name a fix zip must use for one image of a row: the image_file value as written (a path inside
    the archive), or the last path segment of the image URL (percent-decoded, without the query)."""
    value = str(img.get("value") or "")
    if img.get("kind") == "url":
        try:
            return unquote(urlsplit(value).path.rsplit("/", 1)[-1])
        except ValueError:
            return ""
    return value.strip()


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


class MemberUnreadable(Exception):
    """A member that cannot be read back: `.code` is image_zip_corrupt (its data does not match its record: a bad
    CRC-32, a stream that ends early or inflates past its declared size, a broken header) or
    image_zip_unsupported (encrypted, or a compression method Python cannot read)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# What zipfile and its decompressors raise for a damaged member (zlib.error and lzma.LZMAError are not OSError).
_DAMAGED = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError)
_UNSUPPORTED = (NotImplementedError, RuntimeError)  # an unknown compression method; a password is required


class ImageArchive:
    """The import's zip, opened once for a whole processing run (the central directory is read once, not once
    per image); raises ZipRefused("zip_unreadable") when it cannot be opened."""

    def __init__(self, fileobj: IO[bytes]):
        try:
            self.archive = zipfile.ZipFile(fileobj)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise ZipRefused("zip_unreadable") from exc
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in self.archive.infolist():
            safe = None if info.is_dir() else safe_member_name(info.filename)
            if safe is not None:
                self.members.setdefault(safe, info)

    def find(self, name: str) -> str | None:
        """The member for `name`: the same path, else the one member whose own file name is `name` whatever
        folder it is in (a zipped folder); case-insensitive when only that matches. None when absent or ambiguous."""
        safe = safe_member_name(name)
        if safe is None:
            return None
        if safe in self.members:
            return safe
        base = safe.rsplit("/", 1)[-1]
        for fold in (str, str.casefold):
            found = [m for m in self.members if fold(m.rsplit("/", 1)[-1]) == fold(base)]
            if len(found) == 1:
                return found[0]
            if found:
                return None
        return None

    def read(self, name: str, *, limit: int | None = None) -> bytes:
        """The member's bytes. zipfile stops at the declared size whatever the stream inflates to and then checks
        the CRC-32, so memory is bounded by the declared size, which must be within `limit` (MemberTooLarge); the
        read is cut off at `limit` too. KeyError for a name not in the archive, MemberUnreadable for a damaged
        or unsupported member."""
        limit = max_image_bytes() if limit is None else limit
        info = self.members[name]
        if info.file_size > limit:
            raise MemberTooLarge(name)
        buf = bytearray()
        try:
            with self.archive.open(info) as fh:
                while chunk := fh.read(CHUNK):
                    buf += chunk
                    if len(buf) > limit:
                        raise MemberTooLarge(name)
        except _UNSUPPORTED as exc:
            raise MemberUnreadable("image_zip_unsupported") from exc
        except _DAMAGED as exc:
            raise MemberUnreadable("image_zip_corrupt") from exc
        return bytes(buf)
