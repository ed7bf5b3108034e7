"""What we store of an accepted photo: the image's own bytes, nothing a polyglot smuggles around them.

A file can be a valid JPEG or PNG and, at the same time, carry HTML, script or a zip archive after the image's end
or in a comment (polyglots). Pillow decodes such a file happily, so the stored bytes are cut down losslessly
(pixels, colour profile and EXIF orientation untouched): everything after the image's end marker (JPEG EOI, PNG
IEND, the RIFF size of WebP, the last ISO-BMFF box of HEIC) goes, and so do free-text containers (JPEG COM
segments, PNG tEXt/zTXt/iTXt chunks). Re-encoding would do the same for PNG but lose quality for JPEG.

A structure we cannot walk is returned unchanged: Pillow has already decoded it, and it is served only as an
image with `nosniff`.
"""

from __future__ import annotations

import struct

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_JPEG_COMMENT = 0xFE


def _jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        return data
    out = bytearray(b"\xff\xd8")
    pos, size = 2, len(data)
    while pos < size:
        if data[pos] != 0xFF:
            return data  # not a marker where one must be: leave the file as Pillow read it
        while pos < size and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= size:
            return data
        marker = data[pos]
        start = pos - 1
        pos += 1
        if marker == 0xD9:  # EOI: the image ends here
            out += b"\xff\xd9"
            return bytes(out)
        if marker in _JPEG_STANDALONE:
            out += data[start:pos]
            continue
        if pos + 2 > size:
            return data
        length = int.from_bytes(data[pos : pos + 2], "big")
        end = pos + length
        if length < 2 or end > size:
            return data
        if marker != _JPEG_COMMENT:
            out += data[start:end]
        pos = end
        if marker == 0xDA:  # SOS: entropy-coded data up to the next marker (FF00 is a stuffed byte, FFD0–D7 restarts)
            scan = pos
            while True:
                scan = data.find(b"\xff", scan)
                if scan < 0 or scan + 1 >= size:
                    return data
                nxt = data[scan + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    scan += 1 if nxt == 0xFF else 2
                    continue
                break
            out += data[pos:scan]
            pos = scan
    return data


def _png(data: bytes) -> bytes:
    if not data.startswith(_PNG_MAGIC):
        return data
    out = bytearray(_PNG_MAGIC)
    pos, size = len(_PNG_MAGIC), len(data)
    while pos + 12 <= size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > size:
            return data
        if kind not in _PNG_TEXT_CHUNKS:
            out += data[pos:end]
        if kind == b"IEND":
            return bytes(out)
        pos = end
    return data


def _webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return data
    end = 8 + int.from_bytes(data[4:8], "little")
    return data[:end] if 12 <= end <= len(data) else data


def _bmff(data: bytes) -> bytes:
    """HEIC/AVIF: top-level boxes back to back from `ftyp`; cut where the next bytes are not a whole box."""
    if data[4:8] != b"ftyp":
        return data
    pos, size = 0, len(data)
    while pos + 8 <= size:
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if length == 1 and pos + 16 <= size:
            length = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif length == 0:  # the last box runs to the end of the file: nothing can follow it
            return data
        if not all(0x20 <= c < 0x7F for c in kind) or length < 8 or pos + length > size:
            break
        pos += length
    return data[:pos] if pos else data


_BY_FORMAT = {"JPEG": _jpeg, "MPO": _jpeg, "PNG": _png, "WEBP": _webp, "HEIF": _bmff, "AVIF": _bmff}


def image_bytes_only(data: bytes, fmt: str) -> bytes:
    """The bytes to store for an image Pillow decoded as `fmt` (see the module docstring)."""
    clean = _BY_FORMAT.get(fmt)
    return clean(data) if clean else data
