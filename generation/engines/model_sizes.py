"""Which frame sizes a DiT model folder supports, read from its transformer config (no torch, no weights).

Wan2.1 lists the sizes each model was trained for (Wan-Video/Wan2.1, `wan/configs/__init__.py`, SUPPORTED_SIZES):
`vace-1.3B`: 480*832 and 832*480 only; `vace-14B`: 720*1280, 1280*720, 480*832, 832*480. The family is told by
the transformer's config (`transformer/config.json` of the diffusers folder): 1.3B has 30 layers of width 1536
(12 heads × 128), 14B 40 layers of width 5120 (40 heads × 128), as in Wan's `wan/configs/wan_t2v_1_3B.py` and
`wan_t2v_14B.py`. A folder whose dims match neither (a test model, a fine-tune of another shape) may state its
family in `shopvideo_model.json` beside `model_index.json`: `{"family": "vace-1.3B"}`; the web servers, which
may not hold the weights, take settings.SHOPVIDEO_DIT_MODEL_FAMILY first. A folder of unknown family is not
restricted.

Our aspect sizes (shared contract) are not all in Wan's list: 1:1 is 640×640 and 4:5 is 512×640 at 480p. What the
models learn is a pixel budget (Wan's MAX_AREA_CONFIGS is keyed by area, and generate.py fits other aspect ratios
into that area for image-to-video), so a size counts as supported by a family when its pixel count is near one the
family was trained at: from 25 % fewer to 5 % more pixels. Every 480p size is within that of 480·832 (640×640 is
2.6 % more, 512×640 18 % fewer), every 720p size of 720·1280 (768×960 is 20 % fewer). So the 1.3B model takes every
480p size and no 720p size; 14B takes both tiers; a tier counts when all its aspect sizes do.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from generation.constants import FRAME_SIZES

from .errors import BadInputError

logger = logging.getLogger(__name__)

FAMILY_FILE = "shopvideo_model.json"
# Wan2.1 SUPPORTED_SIZES of the VACE models, as (width, height).
SUPPORTED_SIZES: dict[str, tuple[tuple[int, int], ...]] = {
    "vace-1.3B": ((480, 832), (832, 480)),
    "vace-14B": ((720, 1280), (1280, 720), (480, 832), (832, 480)),
}
# (hidden width, layers) of the transformer → family.
FAMILY_DIMS: dict[tuple[int, int], str] = {(1536, 30): "vace-1.3B", (5120, 40): "vace-14B"}
AREA_RANGE = (0.75, 1.05)  # a size's pixels relative to a trained size's


class ResolutionUnsupportedError(BadInputError):
    code = "resolution_unsupported_by_model"


def family_of(model_path: str | Path | None) -> str | None:
    """The model family ("vace-1.3B", "vace-14B") or None when unknown."""
    stated = getattr(settings, "SHOPVIDEO_DIT_MODEL_FAMILY", "")
    if stated:
        return stated
    if not model_path:
        return None
    return _family_in_folder(str(Path(model_path).resolve()))


@lru_cache(maxsize=16)
def _family_in_folder(root: str) -> str | None:
    folder = Path(root)
    try:
        stated = json.loads((folder / FAMILY_FILE).read_text()).get("family")
    except FileNotFoundError:
        stated = None
    except (OSError, ValueError, AttributeError):
        logger.warning("cannot read %s", folder / FAMILY_FILE, exc_info=True)
        stated = None
    if stated:
        return str(stated)
    try:
        config = json.loads((folder / "transformer" / "config.json").read_text())
        dims = (int(config["num_attention_heads"]) * int(config["attention_head_dim"]), int(config["num_layers"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return FAMILY_DIMS.get(dims)


def tiers_of(family: str) -> set[str]:
    """The resolution tiers whose sizes the family supports (see the module's docstring)."""
    trained = [w * h for w, h in SUPPORTED_SIZES[family]]
    return {
        tier
        for tier, sizes in FRAME_SIZES.items()
        if all(
            any(AREA_RANGE[0] * area <= w * h <= AREA_RANGE[1] * area for area in trained) for w, h in sizes.values()
        )
    }


def supports(model_path: str | Path | None, resolution: str) -> bool:
    family = family_of(model_path)
    return family is None or family not in SUPPORTED_SIZES or resolution in tiers_of(family)


def supported_resolutions(model_path: str | Path | None) -> str:
    """The tiers the model supports, for messages: "480p" or "480p, 720p"."""
    family = family_of(model_path)
    tiers = tiers_of(family) if family in SUPPORTED_SIZES else set(FRAME_SIZES)
    return ", ".join(sorted(tiers))


def check_resolution(model_path: str | Path | None, resolution: str) -> None:
    """Raise ResolutionUnsupportedError when the model folder's family was not trained for the resolution."""
    if not supports(model_path, resolution):
        raise ResolutionUnsupportedError(
            f"the DiT model ({family_of(model_path)}) was not trained for {resolution}; "
            f"it supports {supported_resolutions(model_path)}",
            ResolutionUnsupportedError.code,
        )
