"""Stage 1: decode a merchant's photo into 8-bit sRGB pixels, EXIF-rotated, or refuse it with a clear code."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import BadInputError

try:  # HEIC/HEIF photos from phones; optional at import so a broken wheel never takes the pipeline down
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover
    pass

MIN_SIDE = 256
MAX_SIDE = 12_000
MAX_PIXELS = 60_000_000  # above this Pillow's decompression-bomb guard refuses before decoding
MAX_BYTES = 40 * 1024 * 1024
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF", "MPO"}


class IngestError(BadInputError):
    code = "bad_image"


@dataclass
class IngestedPhoto:
    rgb: np.ndarray  # (H, W, 3) uint8, sRGB, EXIF orientation applied
    alpha: np.ndarray | None  # (H, W) uint8 when the photo has transparency
    format: str
    checksum: str  # SHA-256 of the uploaded bytes

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
    if isinstance(source, bytes):
        return source
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    if hasattr(source, "seek"):
        source.seek(0)
    return source.read()


def ingest_photo(source: str | Path | bytes | IO[bytes]) -> IngestedPhoto:
    data = read_bytes(source)
    if not data:
        raise IngestError("The file is empty.", "empty_file")
    if len(data) > MAX_BYTES:
        raise IngestError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", "file_too_large")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise IngestError("The image has too many pixels to be processed safely.", "decompression_bomb") from exc
        except UnidentifiedImageError as exc:
            raise IngestError(
                "The file is not an image we can read (JPEG, PNG, WebP or HEIC).", "not_an_image"
            ) from exc
        if img.format not in ALLOWED_FORMATS:
            raise IngestError(
                f"Images in {img.format} format are not supported; use JPEG, PNG, WebP or HEIC.", "unsupported_format"
            )
        width, height = img.size
        if width * height > MAX_PIXELS:
            raise IngestError("The image has too many pixels to be processed safely.", "decompression_bomb")
        if max(width, height) > MAX_SIDE:
            raise IngestError(
                f"The image is {width}×{height} px; the longest side may be at most {MAX_SIDE} px.", "image_too_large"
            )
        if min(width, height) < MIN_SIDE:
            raise IngestError(
                f"The image is {width}×{height} px; each side must be at least {MIN_SIDE} px.", "image_too_small"
            )
        try:
            img.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise IngestError("The image file is damaged or incomplete.", "truncated_image") from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise IngestError("The image has too many pixels to be processed safely.", "decompression_bomb") from exc
    img = ImageOps.exif_transpose(img)
    rgb, alpha = _to_srgb8(img)
    return IngestedPhoto(rgb=rgb, alpha=alpha, format=str(img.format or ""), checksum=hashlib.sha256(data).hexdigest())


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb8(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    alpha = None
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        alpha = np.array(rgba.getchannel("A"))
        if alpha.min() == 255:
            alpha = None
        img = rgba.convert("RGB")
    elif img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits rather than clipping (Pillow's convert("L") clips at 255).
        arr = np.array(img).astype(np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray((arr / peak * 255.0 + 0.5).clip(0, 255).astype(np.uint8), "L")
    icc = img.info.get("icc_profile")
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = img.mode if img.mode in ("RGB", "CMYK", "L") else "RGB"
            img = ImageCms.profileToProfile(img.convert(mode), src, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            img = img.convert("RGB")
    img = img.convert("RGB")
    return np.ascontiguousarray(np.array(img, dtype=np.uint8)), alpha
