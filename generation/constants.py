"""The fixed vocabulary of the output contract: aspect ratios, resolutions, engines, frame sizes and durations."""

from django.utils.translation import gettext_lazy as _

ASPECT_RATIOS = ("9:16", "1:1", "16:9", "4:5")
RESOLUTIONS = ("480p", "720p")
ENGINES = ("compositor", "dit")

# (width, height) per resolution tier and aspect ratio; all multiples of 16.
FRAME_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {"9:16": (480, 832), "1:1": (640, 640), "16:9": (832, 480), "4:5": (512, 640)},
    "720p": {"9:16": (720, 1280), "1:1": (960, 960), "16:9": (1280, 720), "4:5": (768, 960)},
}

DEFAULT_FPS = 16
MIN_SECONDS = 1
MAX_SECONDS = 30
DURATION_CHOICES = (5, 10, 15)

ASPECT_RATIO_CHOICES = [(a, a) for a in ASPECT_RATIOS]
RESOLUTION_CHOICES = [(r, r) for r in RESOLUTIONS]
ENGINE_CHOICES = [("compositor", _("Compositor (CPU)")), ("dit", _("DiT video model (GPU)"))]


def frame_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    return FRAME_SIZES[resolution][aspect_ratio]


def frame_count(seconds: float, fps: int) -> int:
    """4·round(seconds·fps/4) + 1 for every engine (the VAE's temporal factor is 4): 5 s at 16 fps → 81."""
    return 4 * round(seconds * fps / 4) + 1


# Which engines can draw a person. The compositor animates the product photo alone, so a model look is only for
# the DiT engine: every surface that takes looks (API, wizard, imports, make_video) refuses one with this code.
ENGINES_WITH_MODELS = ("dit",)
LOOK_NEEDS_DIT = "look_needs_dit"
LOOK_NEEDS_DIT_MESSAGE = _(
    "Model looks need the DiT video model: the compositor draws no person, only the product. Choose the DiT "
    "engine or no model look."
)


def look_needs_dit(*, engine: str, looks) -> bool:
    """True when model looks are asked of an engine that cannot draw a person."""
    return bool(looks) and engine not in ENGINES_WITH_MODELS
