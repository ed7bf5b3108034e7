"""Stage 1: decode a merchant's photo into 8-bit sRGB pixels, EXIF-rotated, or refuse it with a clear code.

Refusal codes (stable, machine-readable): ``empty_file``, ``file_too_large``, ``not_an_image``,
``unsupported_format``, ``decompression_bomb``, ``image_too_large``, ``image_too_small``, ``truncated_image``.
Every check that can be made from the header runs before any pixel is decoded.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
from django.utils.translation import gettext
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import BadInputError

try:  # HEIC/HEIF photos from phones; optional at import so a broken wheel never takes the pipeline down
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover
    pass

MIN_SIDE = 256
MAX_SIDE = 12_000
MAX_PIXELS = 60_000_000  # our own bomb limit, checked from the header whatever Image.MAX_IMAGE_PIXELS is set to
MAX_BYTES = 40 * 1024 * 1024
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF", "AVIF", "MPO"}
_GREY16_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I"}


class IngestError(BadInputError):
    code = "bad_image"


@dataclass
class IngestedPhoto:
    rgb: np.ndarray  # (H, W, 3) uint8, sRGB, EXIF orientation applied
    alpha: np.ndarray | None  # (H, W) uint8 when the photo has transparency
    format: str
    checksum: str  # SHA-256 of the uploaded bytes
    source_mode: str = ""  # Pillow mode as decoded ("RGB", "CMYK", "I;16", "P", …), for diagnostics
    orientation: int = 1  # EXIF orientation that was applied (1 = none)
    icc_profile: str | None = None  # description of the embedded colour profile that was converted from
    notes: list[str] = field(default_factory=list)  # non-fatal oddities (unreadable profile, broken EXIF)

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def read_bytes(source: str | Path | bytes | IO[bytes]) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    if hasattr(source, "seek"):
        source.seek(0)
    return source.read()


class _StrictStream(io.BytesIO):
    """A stream that fails when a decoder reads past the end of the data once armed.

    Pillow only refuses truncated files while ``ImageFile.LOAD_TRUNCATED_IMAGES`` is off, and any library in the
    process may switch that global on. Complete files never read past their end while decoding, so a read at EOF
    means the file was cut short, whatever the global says.
    """

    armed = False

    def read(self, size: int | None = -1) -> bytes:
        if self.armed and size != 0 and self.tell() >= len(self.getbuffer()):
            raise OSError("image file is truncated")
        return super().read(size)


def _too_many_pixels() -> IngestError:
    return IngestError(gettext("The image has too many pixels to be processed safely."), "decompression_bomb")


def open_image(data: bytes, *, min_side: int = MIN_SIDE) -> Image.Image:
    """Open and fully decode an uploaded image, refusing anything unsafe or broken with an ``IngestError``."""
    if not data:
        raise IngestError(gettext("The file is empty."), "empty_file")
    if len(data) > MAX_BYTES:
        raise IngestError(
            gettext("The file is larger than %(limit)d MB.") % {"limit": MAX_BYTES // (1024 * 1024)}, "file_too_large"
        )
    stream = _StrictStream(data)
    try:
        img = Image.open(stream)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except UnidentifiedImageError as exc:
        raise IngestError(
            gettext("The file is not an image we can read (JPEG, PNG, WebP or HEIC)."), "not_an_image"
        ) from exc
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        # The header was recognised but is broken (cut short, bad chunk): the upload is damaged.
        raise IngestError(gettext("The image file is damaged or incomplete."), "truncated_image") from exc
    if img.format not in ALLOWED_FORMATS:
        raise IngestError(
            gettext("Images in %(format)s format are not supported; use JPEG, PNG, WebP or HEIC.")
            % {"format": img.format},
            "unsupported_format",
        )
    width, height = img.size
    # Header-only checks: nothing has been decoded yet, so a bomb costs neither time nor memory.
    if width * height > MAX_PIXELS:
        raise _too_many_pixels()
    if max(width, height) > MAX_SIDE:
        raise IngestError(
            gettext("The image is %(width)d×%(height)d px; the longest side may be at most %(limit)d px.")
            % {"width": width, "height": height, "limit": MAX_SIDE},
            "image_too_large",
        )
    if min(width, height) < min_side:
        raise IngestError(
            gettext("The image is %(width)d×%(height)d px; each side must be at least %(limit)d px.")
            % {"width": width, "height": height, "limit": min_side},
            "image_too_small",
        )
    stream.armed = True
    try:
        img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, MemoryError) as exc:
        raise IngestError(gettext("The image file is damaged or incomplete."), "truncated_image") from exc
    finally:
        stream.armed = False
    return img


def ingest_photo(source: str | Path | bytes | IO[bytes]) -> IngestedPhoto:
    data = read_bytes(source)
    img = open_image(data)
    fmt = str(img.format or "")
    source_mode = img.mode
    notes: list[str] = []
    img, orientation = _apply_orientation(img, notes)
    rgb, alpha, profile = to_srgb8(img, notes)
    return IngestedPhoto(
        rgb=rgb,
        alpha=alpha,
        format=fmt,
        checksum=hashlib.sha256(data).hexdigest(),
        source_mode=source_mode,
        orientation=orientation,
        icc_profile=profile,
        notes=notes,
    )


def _apply_orientation(img: Image.Image, notes: list[str]) -> tuple[Image.Image, int]:
    try:
        orientation = int(img.getexif().get(0x0112, 1) or 1)
        rotated = ImageOps.exif_transpose(img)
    except (SyntaxError, ValueError, TypeError, OSError, struct.error, KeyError) as exc:
        # A broken EXIF block must not cost the merchant the photo: keep the pixels as stored.
        notes.append(f"exif_unreadable: {exc}")
        return img, 1
    return (rotated if rotated is not None else img), orientation if 1 <= orientation <= 8 else 1


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_PROFILE_SPACES = {"RGB": "RGB ", "L": "GRAY", "CMYK": "CMYK"}


def to_srgb8(img: Image.Image, notes: list[str] | None = None) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """8-bit sRGB pixels, the alpha channel (None when fully opaque) and the converted profile's description."""
    notes = notes if notes is not None else []
    icc = img.info.get("icc_profile")
    img, alpha = _split_alpha(img)
    profile_name = None
    if icc and img.mode in _PROFILE_SPACES:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            space = str(src.profile.xcolor_space)
            profile_name = (src.profile.profile_description or "").strip() or "embedded"
            if space != _PROFILE_SPACES[img.mode]:
                notes.append(f"icc_mismatch: {space.strip()} profile on {img.mode} pixels")
                profile_name = None
            elif not profile_name.lower().startswith("srgb"):  # sRGB → sRGB is the identity: skip the work
                img = ImageCms.profileToProfile(
                    img, src, _SRGB, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, outputMode="RGB"
                )
            else:
                profile_name = None
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
            notes.append(f"icc_unreadable: {exc}")
            profile_name = None
    # Without a profile, CMYK goes through Pillow's naive formula (Adobe-inverted CMYK JPEGs are undone by the
    # decoder), which keeps hues right; an embedded CMYK profile above gives the accurate result.
    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb), alpha, profile_name


def _scale16(values: np.ndarray) -> np.ndarray:
    # 65535 → 255 with rounding: scaled, never clipped (Pillow's convert("L") would clip at 255).
    return ((values.astype(np.float32).clip(0, 65535) + 128.0) / 257.0).astype(np.uint8)


def _split_alpha(img: Image.Image) -> tuple[Image.Image, np.ndarray | None]:
    """The colour image (mode L, RGB or CMYK, info kept) and its alpha channel, if any pixel is transparent."""
    info = dict(img.info)
    alpha: np.ndarray | None = None
    if img.mode in _GREY16_MODES:
        values = np.asarray(img)
        if "transparency" in info and isinstance(info["transparency"], int):
            alpha = np.where(values == info["transparency"], 0, 255).astype(np.uint8)
        img = Image.fromarray(_scale16(values), "L")
    elif img.mode == "1":
        img = img.convert("L")
    if img.mode == "P" or (img.mode in ("L", "RGB") and "transparency" in info):
        has_alpha = "transparency" in info or (img.mode == "P" and _palette_has_alpha(img))
        img = img.convert("RGBA" if has_alpha else "RGB")
    if img.mode in ("RGBa", "La"):  # premultiplied: undo before splitting
        img = img.convert("RGBA" if img.mode == "RGBa" else "LA")
    if img.mode in ("RGBA", "LA", "PA"):
        alpha = np.asarray(img.getchannel("A"), dtype=np.uint8)
        img = img.convert("RGB" if img.mode != "LA" else "L")
    elif img.mode not in ("L", "RGB", "CMYK"):
        img = img.convert("RGB")
    img.info.update({k: v for k, v in info.items() if k == "icc_profile"})
    if alpha is not None and int(alpha.min()) == 255:
        alpha = None
    return img, (np.ascontiguousarray(alpha) if alpha is not None else None)


def _palette_has_alpha(img: Image.Image) -> bool:
    return img.palette is not None and img.palette.mode == "RGBA"
