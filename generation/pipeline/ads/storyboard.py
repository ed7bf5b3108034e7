"""The ad's storyboard: which shots, in which order, how long, with which camera move, decided before any render.

From the photos and their masks, the market, the platform's frame and the ad's length, a seed picks the shots:
- `hero`: the first photo, the whole product with a camera move (the layout stage's motions, sized so the
  product stays exact in 4:2:0, as single shots are);
- `angle`: each other photo, the same way;
- `detail`: a close, slow push-in on the part of the product with the most detail (a label, stitching): the
  window with the highest gradient energy inside the mask, never enlarging the photo (scale ≤ 1 photo pixel per
  output pixel in every frame, so the frame shows the merchant's pixels, not interpolated ones);
- `scene`: the product in another of the market's scenes;
- `model`: the product with a person, only for an engine that can draw one (the DiT);
- `endcard`: the product cutout, title, price and call to action (endcard.py).

Shots never overlap; the frames of a transition (a crossfade or a fade through white, at most 8 frames) belong to no
shot. Given beat times (seconds), each cut moves to the nearest beat within `SNAP_SECONDS`, keeping every shot at
least `MIN_SHOT_SECONDS` long. Every placement is computed here, so the storyboard shown before paying is exactly
what `render.render_ad` renders: it never plans again. `Storyboard.to_dict` / `from_dict` carry it as plain JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import cv2
import numpy as np
from django.conf import settings

from generation.constants import ENGINES_WITH_MODELS, frame_size
from generation.presets import MARKETS_BY_SLUG

from .. import ai_label, captions, layout
from ..plan import FIDELITY_GROWTH, FIDELITY_MARGIN_DB, FidelityForecast
from . import endcard as endcards
from . import rules

PRODUCT_KINDS = ("hero", "angle", "detail", "scene", "model")
KINDS = (*PRODUCT_KINDS, "endcard")
SHOT_SECONDS = 2.6  # a product shot's typical length: about one idea per shot at a social ad's pace
MIN_SHOT_SECONDS = 1.0
ENDCARD_SHARE, ENDCARD_MIN_SECONDS, ENDCARD_MAX_SECONDS = 0.18, 1.5, 3.0
SNAP_SECONDS = 0.35  # a cut moves to a beat at most this far away
TRANSITIONS = {"cut": 0, "crossfade": 6, "white": 8}  # frames; every transition ≤ 8 frames
TRANSITION_WEIGHTS = {"cut": 0.5, "crossfade": 0.3, "white": 0.2}
DETAIL_ZOOM = 2.2  # the detail shot is this much closer than the photo's whole-product shot …
DETAIL_PUSH = 0.88  # … and pushes in from this share of its final scale
DETAIL_MIN_ZOOM = 1.3  # the least a close-up may be closer, when 4:2:0 cannot carry the print any closer
MOTION_PEAK = 1.06  # the layout's motions never grow the product beyond this factor of its fill (reveal)
DETAIL_DRIFT = 0.04  # of the window: the slow drift that keeps the close-up alive


@dataclass
class Shot:
    kind: str
    photo: int | None  # index into the ad's photos; None for a shot without the product
    start: int  # first frame
    end: int  # one past the last frame
    motion: str = ""
    scene: str | None = None
    look: str | None = None
    seed: int = 0
    transition_in: str = "cut"  # how the previous shot hands over to this one
    placements: np.ndarray | None = field(default=None, repr=False)  # (frames, 2, 3) photo px → frame px
    window: list[float] | None = None  # detail shots: the window's centre and final scale in photo px

    @property
    def frames(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict:
        d = asdict(self)
        d["placements"] = None if self.placements is None else self.placements.tolist()  # floats round-trip exactly
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Shot:
        d = dict(d)
        if d.get("placements") is not None:
            d["placements"] = np.asarray(d["placements"], np.float64).reshape(-1, 2, 3)
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class Storyboard:
    engine: str
    market: str
    platform: str
    aspect_ratio: str
    resolution: str
    width: int
    height: int
    fps: int
    frames: int  # exactly round(seconds · fps)
    seconds: float
    seed: int
    shots: list[Shot]
    transitions: list[dict]  # {"kind", "start", "end"}: frames that belong to no shot
    endcard: dict  # the card's content: title, price, cta, language, direction
    endcard_layout: dict = field(default_factory=dict)  # where its product and text go (endcard.EndCardPlan.summary)
    label_rect: list[int] | None = None  # where the AI label goes, when the market draws it
    beats: list[float] | None = None
    photo_sizes: list[list[int]] = field(default_factory=list)

    def product_shots(self) -> list[Shot]:
        return [s for s in self.shots if s.placements is not None]

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "shots"}
        d["shots"] = [s.to_dict() for s in self.shots]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Storyboard:
        d = dict(d)
        shots = [Shot.from_dict(s) for s in d.pop("shots")]
        return cls(shots=shots, **{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


# ---------------------------------------------------------------------------------------------------------------
# Which shots, how long


def shot_kinds(
    photos: int, engine: str, product_shots: int, detail_photo: int | None, rng: np.random.Generator
) -> list[tuple[str, int]]:
    """(kind, photo) for each product shot: the hero first, then the others in an order the seed shuffles. The
    pool is taken by priority (another angle, the detail, the scene, a person, the remaining angles), so a short ad
    keeps the shots that show the most of the product. `detail_photo` None: no close-ups."""
    pool: list[tuple[str, int]] = []
    others = list(range(1, photos))
    if others:
        pool.append(("angle", others[0]))
    if detail_photo is not None:
        pool.append(("detail", detail_photo))
    pool.append(("scene", int(rng.integers(photos))))
    if engine in ENGINES_WITH_MODELS:
        pool.append(("model", 0))
    pool += [("angle", p) for p in others[1:]]
    k = 0
    while len(pool) < product_shots - 1:  # long ads: more details and scenes, photo by photo
        close = detail_photo is not None and k % 2 == 0
        pool.append(("detail" if close else "scene", k // 2 % photos))
        k += 1
    chosen = pool[: max(0, product_shots - 1)]
    order = rng.permutation(len(chosen))
    return [("hero", 0)] + [chosen[i] for i in order]


def _lengths(total: int, weights: np.ndarray, minimum: int, step4: bool) -> list[int]:
    """Split `total` frames by `weights`; each at least `minimum`, 4k+1 when `step4` (the DiT's clips)."""
    raw = np.maximum(minimum, weights / weights.sum() * total)
    out = [int(4 * round((r - 1) / 4) + 1) if step4 else round(float(r)) for r in raw]
    return [max(minimum, v) for v in out]


def snap_to_beats(
    cuts: list[float], beats: list[float] | None, *, fps: int, min_gap: float, latest: float = float("inf")
) -> list[float]:
    """Each cut (seconds) moved to its nearest beat within SNAP_SECONDS, keeping cuts `min_gap` apart and in order,
    and the last no later than `latest` (the end card keeps its length)."""
    if not beats:
        return list(cuts)
    beats_arr = np.asarray(sorted(beats), np.float64)
    out: list[float] = []
    for i, cut in enumerate(cuts):
        near = beats_arr[np.abs(beats_arr - cut) <= SNAP_SECONDS]
        lo = (out[-1] if out else 0.0) + min_gap
        hi = cuts[i + 1] - min_gap if i + 1 < len(cuts) else max(cut, latest)
        near = near[(near >= lo) & (near <= hi)]
        out.append(float(near[np.argmin(np.abs(near - cut))]) if near.size else cut)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Where the product goes


def detail_energy(photo_rgb: np.ndarray, mask: np.ndarray, step: int) -> np.ndarray:
    """Gradient energy of the product's inside at 1/`step` of the photo's size (the silhouette left out)."""
    h, w = mask.shape
    small = (max(1, w // step), max(1, h // step))
    grey = cv2.cvtColor(cv2.resize(photo_rgb, small, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    grey = grey.astype(np.float32)
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    inside = cv2.resize((mask > 0).astype(np.uint8), small, interpolation=cv2.INTER_NEAREST)
    inside = cv2.erode(inside, np.ones((5, 5), np.uint8))
    return (gx * gx + gy * gy) * inside


def detail_window(
    photo_rgb: np.ndarray, mask: np.ndarray, window: tuple[float, float]
) -> tuple[tuple[float, float], float]:
    """The centre (photo px) of the `window`-sized (photo px) view with the most detail, and that detail's score
    (mean gradient energy). Centres keep the window's middle half on the product's box."""
    step = max(1, round(max(mask.shape) / 256))
    energy = detail_energy(photo_rgb, mask, step)
    kw, kh = max(1, round(window[0] / step)), max(1, round(window[1] / step))
    score = cv2.boxFilter(energy, cv2.CV_32F, (kw, kh), normalize=True, borderType=cv2.BORDER_CONSTANT)
    x0, y0, x1, y1 = layout.mask_bbox(mask)
    allowed = np.zeros_like(score, bool)
    ax0, ay0 = int(x0 / step), int(y0 / step)
    ax1, ay1 = max(ax0 + 1, int(np.ceil(x1 / step))), max(ay0 + 1, int(np.ceil(y1 / step)))
    allowed[ay0:ay1, ax0:ax1] = True
    score = np.where(allowed, score, -1.0)
    iy, ix = np.unravel_index(int(np.argmax(score)), score.shape)
    return ((ix + 0.5) * step - 0.5, (iy + 0.5) * step - 0.5), float(max(0.0, score[iy, ix]))


def detail_placements(
    photo_rgb: np.ndarray,
    mask: np.ndarray,
    frame: tuple[int, int],
    frames: int,
    whole_scale: float,
    rng: np.random.Generator,
    forecast: FidelityForecast | None = None,
) -> tuple[np.ndarray, list[float]]:
    """A slow push-in on the most detailed window; the scale never exceeds 1 (one photo pixel per frame pixel).
    With a `forecast`, the closest framing (from DETAIL_ZOOM × the whole product's scale down) whose product 4:2:0
    can carry: a photo with noisy fine print is shown a little less close rather than not exactly."""
    width, height = frame
    angle = rng.uniform(0, 2 * np.pi)
    t = np.linspace(0.0, 1.0, frames) if frames > 1 else np.ones(1)
    e = t * t * t * (t * (6.0 * t - 15.0) + 10.0)  # eased as the layout's moves are
    final = min(1.0, DETAIL_ZOOM * whole_scale)
    closest = min(1.0, DETAIL_MIN_ZOOM / DETAIL_PUSH * whole_scale)  # even the push's start is closer than whole
    while True:
        (cx, cy), _ = detail_window(photo_rgb, mask, (width / final, height / final))
        scale = final * (DETAIL_PUSH + (1.0 - DETAIL_PUSH) * e)
        drift = DETAIL_DRIFT * np.array([width, height]) / final * (e - 0.5)[:, None] * [np.cos(angle), np.sin(angle)]
        px, py = cx + drift[:, 0], cy + drift[:, 1]
        out = np.zeros((frames, 2, 3), np.float64)
        out[:, 0, 0] = out[:, 1, 1] = scale
        out[:, 0, 2] = (width - 1) / 2.0 - scale * px
        out[:, 1, 2] = (height - 1) / 2.0 - scale * py
        if forecast is None or final <= closest or forecast(out) >= forecast.target:
            return out, [round(float(cx), 2), round(float(cy), 2), round(final, 4)]
        final = max(closest, final / FIDELITY_GROWTH)


def whole_product_placements(
    mask: np.ndarray,
    frames: int,
    area: tuple[int, int, int, int],
    *,
    motion: str,
    seed: int,
    forecast: FidelityForecast | None,
    with_model: bool = False,
) -> np.ndarray:
    """The product whole, moving, inside `area`: the layout stage's motion at the smallest fill (from a hero
    shot's) whose product can stay above the QA bar in 4:2:0, as `plan.plan_layout` does for single shots."""
    size = (area[2] - area[0], area[3] - area[1])
    fill = layout.MODEL_SHOT_MIN_FILL if with_model else layout.PRODUCT_ONLY_FILL
    largest = layout.max_product_fill(with_model=with_model)
    while True:
        placed = layout.plan_layout(mask=mask, frame_size=size, frames=frames, motion=motion, seed=seed, fill=fill)
        placements = captions.offset_placements(placed.placements, area)
        if forecast is None or fill >= largest or forecast(placements) >= forecast.target:
            return placements
        fill = min(largest, fill * FIDELITY_GROWTH)


def whole_scale_bound(mask: np.ndarray, frame: tuple[int, int]) -> float:
    """The largest scale a whole-product shot of this photo can reach (the largest fill, the motions' peak)."""
    x0, y0, x1, y1 = layout.mask_bbox(mask)
    return layout.PRODUCT_ONLY_MAX_FILL * MOTION_PEAK * min(frame[0] / (x1 - x0), frame[1] / (y1 - y0))


def can_close_up(mask: np.ndarray, frame: tuple[int, int]) -> bool:
    """Whether a close-up of this photo can be closer than any whole-product shot of it without enlarging it."""
    return DETAIL_MIN_ZOOM / DETAIL_PUSH * whole_scale_bound(mask, frame) <= 1.0


# ---------------------------------------------------------------------------------------------------------------
# The planner


def plan_storyboard(
    photos: list[np.ndarray],
    masks: list[np.ndarray],
    *,
    market: str = "us",
    platform: str | None = None,
    aspect_ratio: str = "9:16",
    resolution: str = "480p",
    seconds: float = 15.0,
    fps: int = 16,
    engine: str = "compositor",
    seed: int = 0,
    beats: list[float] | None = None,
    title: str = "",
    price: str | None = None,
    currency: str | None = None,
    cta: str | None = None,
) -> Storyboard:
    """The ad's shots for these photos (RGB uint8) and masks (0/255), deterministic for `seed`.

    Raises a BadInputError with a stable code for an ad the platform does not take (rules.check_ad) or bad input.
    """
    if not photos or len(photos) != len(masks):
        raise rules.AdRuleError("an ad needs at least one photo and one mask per photo", "bad_photos")
    if market not in MARKETS_BY_SLUG:
        raise rules.AdRuleError(f"unknown market {market!r}", "bad_market")
    market_preset = MARKETS_BY_SLUG[market]
    platform = rules.ad_platform(platform, aspect_ratio, market_preset.platforms)
    rules.check_ad(platform, aspect_ratio, seconds, fps)
    width, height = frame_size(resolution, aspect_ratio)
    total = round(seconds * fps)
    rng = np.random.default_rng([seed & 0xFFFFFFFF, 0xAD])
    content = captions.caption_content(market_preset, title=title, price=price, currency=currency, cta=cta)

    # How many shots, which, and how long.
    card = int(np.clip(round(ENDCARD_SHARE * total), ENDCARD_MIN_SECONDS * fps, ENDCARD_MAX_SECONDS * fps))
    count = max(2, round((total - card) / (SHOT_SECONDS * fps)))
    # A close-up fills the frame, so no corner would be free for the AI label: markets that draw it get none. Nor
    # does a photo too small to be shown closer than whole without enlarging it.
    detail_photo = None
    if not market_preset.ai_label:
        scores = [
            detail_window(p, m, (width, height))[1] if can_close_up(m, (width, height)) else -1.0
            for p, m in zip(photos, masks, strict=True)
        ]
        detail_photo = int(np.argmax(scores)) if max(scores) >= 0 else None
    kinds = shot_kinds(len(photos), engine, count, detail_photo, rng)
    names = list(TRANSITION_WEIGHTS)
    probs = np.array(list(TRANSITION_WEIGHTS.values()))
    handovers = [str(rng.choice(names, p=probs / probs.sum())) for _ in kinds]  # into kinds[1:] and the card
    handovers[-1] = "crossfade" if handovers[-1] == "cut" else handovers[-1]  # the card never just pops on
    gaps = [TRANSITIONS[h] for h in handovers]
    weights = np.array([1.25 if k == "hero" else 1.0 for k, _ in kinds]) * rng.uniform(0.85, 1.15, len(kinds))
    step4 = engine in ENGINES_WITH_MODELS
    minimum = round(MIN_SHOT_SECONDS * fps)
    lengths = _lengths(total - card - sum(gaps), weights, minimum, step4)
    # Cuts (seconds, the middle of each hand-over) snapped to the beats, then back to frames.
    starts, position = [], 0
    for length, gap in zip(lengths, gaps, strict=True):
        starts.append(position)
        position += length + gap
    cuts = [(s + n + g / 2) / fps for s, n, g in zip(starts, lengths, gaps, strict=True)]
    latest = (total - round(ENDCARD_MIN_SECONDS * fps) - gaps[-1] / 2) / fps
    snapped = snap_to_beats(cuts, beats, fps=fps, min_gap=MIN_SHOT_SECONDS + 8 / fps, latest=latest)
    ends, previous_start = [], 0
    for i, cut in enumerate(snapped):
        end = round(cut * fps - gaps[i] / 2)
        length = end - previous_start
        if step4:
            length = 4 * ((length - 1) // 4) + 1
        ends.append(previous_start + max(minimum, length))
        previous_start = ends[-1] + gaps[i]
    if total - previous_start < round(ENDCARD_MIN_SECONDS * fps) - 1:
        raise rules.AdRuleError(f"{seconds:g} s is too short for an ad of {len(kinds)} shots", "ad_too_short")

    scenes = list(market_preset.scenes)
    motions = list(layout.MOTIONS)
    targets = settings.SHOPVIDEO_QA_MIN_PSNR + FIDELITY_MARGIN_DB
    forecasts: dict[int, FidelityForecast] = {}
    shots: list[Shot] = []
    transitions: list[dict] = []
    start, previous_motion = 0, ""
    for i, (kind, photo) in enumerate(kinds):
        motion = str(rng.choice([m for m in motions if m != previous_motion]))
        scene = scenes[0] if kind != "scene" or len(scenes) < 2 else str(rng.choice(scenes[1:]))
        look = market_preset.looks[0].slug if kind == "model" and market_preset.looks else None
        shots.append(
            Shot(
                kind=kind,
                photo=photo,
                start=start,
                end=ends[i],
                motion="push-in" if kind == "detail" else motion,
                scene=scene,
                look=look,
                seed=int(rng.integers(1 << 30)),
                transition_in=handovers[i - 1] if i else "cut",
            )
        )
        previous_motion = shots[-1].motion
        if gaps[i]:
            transitions.append({"kind": handovers[i], "start": ends[i], "end": ends[i] + gaps[i]})
        start = ends[i] + gaps[i]
    shots.append(
        Shot(
            kind="endcard",
            photo=0,
            start=start,
            end=total,
            motion="settle",
            scene=scenes[0],
            seed=seed,
            transition_in=handovers[-1],
        )
    )

    def place(area: tuple[int, int, int, int]) -> None:
        for shot in shots:
            photo_rgb, mask = photos[shot.photo], masks[shot.photo]
            if shot.kind == "endcard":
                continue
            if shot.photo not in forecasts:
                forecasts[shot.photo] = FidelityForecast(photo_rgb, mask, (width, height), targets)
            if shot.kind == "detail":
                shot.placements, shot.window = detail_placements(
                    photo_rgb,
                    mask,
                    (width, height),
                    shot.frames,
                    whole_scale_bound(mask, (width, height)),
                    np.random.default_rng(shot.seed),
                    forecasts[shot.photo],
                )
            else:
                shot.placements = whole_product_placements(
                    mask,
                    shot.frames,
                    area,
                    motion=shot.motion,
                    seed=shot.seed,
                    forecast=forecasts[shot.photo],
                    with_model=shot.kind == "model",
                )

    place((0, 0, width, height))
    label_rect = None
    if market_preset.ai_label:
        label = ai_label.plan_label(market=market_preset, engine=engine, width=width, height=height, platform=platform)
        # Not over the end card's text, which spans the bottom of the safe area.
        text_rect = endcards.plan_endcard(content, width=width, height=height, platform=platform).text_rect
        corners = ai_label.corner_plans(label, width=width, height=height, platform=platform,
                                        direction=market_preset.direction, avoid=text_rect)  # fmt: skip
        chosen = next((c for c in corners if _label_clear(c, shots, masks)), None)
        if chosen is None:
            # The product reaches every corner in some shot: the shots keep out of the label's band instead.
            chosen = corners[0]
            place(ai_label.reserve(chosen, (0, 0, width, height), min(width, height)))
        label_rect = list(chosen.rect)
    card_plan = endcards.plan_endcard(content, width=width, height=height, platform=platform, label_rect=label_rect)
    if 0 not in forecasts:
        forecasts[0] = FidelityForecast(photos[0], masks[0], (width, height), targets)
    shots[-1].placements = endcards.card_placements(card_plan, masks[0], shots[-1].frames, forecasts[0])
    return Storyboard(
        engine=engine,
        market=market,
        platform=platform,
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        width=width,
        height=height,
        fps=fps,
        frames=total,
        seconds=total / fps,
        seed=seed,
        shots=shots,
        transitions=transitions,
        endcard=asdict(content),
        endcard_layout=card_plan.summary(),
        label_rect=label_rect,
        beats=sorted(beats) if beats else None,
        photo_sizes=[[int(p.shape[1]), int(p.shape[0])] for p in photos],
    )


def _label_clear(label: ai_label.LabelPlan, shots: list[Shot], masks: list[np.ndarray]) -> bool:
    for shot in shots:
        if shot.placements is None or shot.photo is None:
            continue
        bbox = layout.mask_bbox(masks[shot.photo])
        if not ai_label.is_clear(label, shot.placements, bbox, masks[shot.photo]):
            return False
    return True


__all__ = ["KINDS", "PRODUCT_KINDS", "Shot", "Storyboard", "plan_storyboard"]
