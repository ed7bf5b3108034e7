"""What one video is: the variant of a photo the pipeline renders. Shared by make_video and the workers."""

from dataclasses import dataclass

from generation.constants import ASPECT_RATIOS, DEFAULT_FPS, ENGINES, RESOLUTIONS, frame_count, frame_size
from generation.presets import MARKETS_BY_SLUG, SCENES_BY_SLUG, LookPreset, MarketPresetData, ScenePreset

from .errors import BadInputError
from .platforms import PLATFORMS, platform_for


@dataclass(frozen=True)
class VariantSpec:
    engine: str = "compositor"
    market: str = "us"
    scene: str | None = None  # None: the market's first scene
    look: str | None = None  # None: no human model (product-only shot)
    aspect_ratio: str = "9:16"
    resolution: str = "480p"
    seconds: float = 5.0
    fps: int = DEFAULT_FPS
    seed: int = 0
    steps: int | None = None  # DiT denoising steps; None: the engine's quality default
    motion: str | None = None  # camera motion; None: chosen from the seed
    model_path: str | None = None  # DiT model folder; None: settings.SHOPVIDEO_MODEL_PATH
    product_title: str = ""
    product_category: str = "other"
    # Caption overlay (generation.pipeline.captions): off unless asked for.
    captions: bool = False
    caption_title: str = ""  # the merchant's title in the market's language; "": product_title (never translated)
    price: str | None = None  # a decimal number as text; None: no price tag
    currency: str | None = None  # ISO 4217; None: the market's currency
    cta: str | None = None  # None: the market's call to action; "": none
    platform: str | None = None  # None: the market's first platform that takes the aspect ratio

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise BadInputError(f"unknown engine {self.engine!r}; choose one of {', '.join(ENGINES)}", "bad_engine")
        if self.aspect_ratio not in ASPECT_RATIOS:
            raise BadInputError(
                f"unknown aspect ratio {self.aspect_ratio!r}; choose one of {', '.join(ASPECT_RATIOS)}", "bad_aspect"
            )
        if self.resolution not in RESOLUTIONS:
            raise BadInputError(f"unknown resolution {self.resolution!r}", "bad_resolution")
        if self.market not in MARKETS_BY_SLUG:
            raise BadInputError(f"unknown market {self.market!r}", "bad_market")
        if self.scene is not None and self.scene not in SCENES_BY_SLUG:
            raise BadInputError(f"unknown scene {self.scene!r}", "bad_scene")
        if not (0 < self.seconds <= 60) or not (1 <= self.fps <= 60):
            raise BadInputError("seconds must be in (0, 60] and fps in [1, 60]", "bad_duration")
        if self.frames < 5:
            raise BadInputError("the video must have at least 5 frames", "bad_duration")
        if self.platform is not None and self.platform not in PLATFORMS:
            raise BadInputError(
                f"unknown platform {self.platform!r}; choose one of {', '.join(PLATFORMS)}", "bad_platform"
            )

    @property
    def width(self) -> int:
        return frame_size(self.resolution, self.aspect_ratio)[0]

    @property
    def height(self) -> int:
        return frame_size(self.resolution, self.aspect_ratio)[1]

    @property
    def frames(self) -> int:
        return frame_count(self.seconds, self.fps)

    @property
    def market_preset(self) -> MarketPresetData:
        return MARKETS_BY_SLUG[self.market]

    @property
    def scene_preset(self) -> ScenePreset:
        return SCENES_BY_SLUG[self.scene or self.market_preset.scenes[0]]

    @property
    def platform_slug(self) -> str:
        return self.platform or platform_for(self.aspect_ratio, self.market_preset.platforms)

    @property
    def look_preset(self) -> LookPreset | None:
        if not self.look:
            return None
        for look in self.market_preset.looks:
            if look.slug == self.look:
                return look
        # Organization-defined looks are resolved by the job service; here an unknown look is just its slug.
        return LookPreset(self.look, self.look, self.look.replace("-", " "))
