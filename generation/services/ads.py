"""Ads as jobs: plan the storyboard once (the same planner as `make_ad`), price it per output second, and submit
it as one Job that the worker renders exactly as stored (`render_ad_job`).

Called with plain values, so the API and the dashboard share it: `estimate_ad(organization=…, photos=…,
market="us", seconds=15, …)` → `AdPlan` (price and storyboard dict); `submit_ad(…)` → the Job, its credits reserved.
A storyboard the client edited (shots removed or reordered, a shot's scene changed) comes back as
`storyboard=`: it is checked against the plan for the same request and seed (`storyboard_invalid`), and what will
be rendered is priced. Placements are never taken from the client: every shot's are the planner's own.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import pricing
from billing.services import ledger
from generation import photo_cutouts
from generation.constants import DEFAULT_FPS, ENGINES, RESOLUTIONS
from generation.market_services import caption_inputs
from generation.models import AudioTrack, Batch, Job, MarketPreset, Photo, Product, Scene
from generation.pipeline import cutout
from generation.pipeline.ads import rules as ad_rules
from generation.pipeline.ads.photos import AdPhoto, prepare_photo
from generation.pipeline.ads.storyboard import TRANSITIONS, Storyboard, plan_storyboard
from generation.pipeline.ads.thumbnails import storyboard_thumbnails
from generation.presets import MARKETS_BY_SLUG, SCENES_BY_SLUG
from generation.services.dispatch import dispatch_jobs_safely
from generation.services.errors import AdInvalid, MatrixInvalid
from generation.services.signals import batch_submitted
from generation.services.submission import _check_photos, _hold_products

if TYPE_CHECKING:
    from shop_video.merchants.models import Organization

MAX_AD_PHOTOS = 8
RULE_FIELDS = {"ad_length_not_allowed": "seconds", "aspect_not_allowed": "aspect_ratio"}


@dataclass(frozen=True)
class AdOptions:
    """What an ad request names, as plain values (the API's body, a dashboard form)."""

    market: str
    seconds: float
    platform: str | None = None
    aspect_ratio: str = "9:16"
    resolution: str = "480p"
    engine: str = "compositor"
    audio: int | None = None  # an AudioTrack id of the organization
    scene: str | None = None  # the scene of every shot but the `scene` shots; default: the market's first
    seed: int | None = None  # None → a random one (the storyboard shows it)
    storyboard: dict | None = None  # an edited storyboard to render instead of the planned one


@dataclass
class AdPlan:
    """The storyboard to render and its price: `credits` for `seconds` of video at `engine` and `resolution`."""

    credits: int
    seconds: float
    storyboard: dict
    photos: list[Photo]
    audio: AudioTrack | None
    market: MarketPreset
    scene: Scene
    options: AdOptions
    loaded: list[AdPhoto] = field(default_factory=list, repr=False)  # the photos as planned (thumbnails)

    def summary(self) -> dict:
        """The price and the shots in order, for a person to read (the API's estimate shows the whole storyboard)."""
        shots = [{k: s[k] for k in ("kind", "photo", "start", "end", "scene")} for s in self.storyboard["shots"]]
        return {"credits": self.credits, "seconds": self.seconds, "shots": shots}


# ---------------------------------------------------------------------------------------------------------------
# Planning


def _refuse(message: str, code: str, field: str) -> AdInvalid:
    return AdInvalid(message, code, {field: [message]})


def _check_options(options: AdOptions) -> tuple[MarketPreset, str]:
    """The market row and the ad's platform; the platform's rules first (nothing is cut out or planned before)."""
    market = MarketPreset.objects.filter(slug=options.market).first()
    if market is None or options.market not in MARKETS_BY_SLUG:
        raise _refuse(_("Unknown market %(slug)s.") % {"slug": options.market}, "invalid_matrix", "market")
    if options.resolution not in RESOLUTIONS:
        raise _refuse(
            _("Unknown resolution %(value)s.") % {"value": options.resolution}, "invalid_matrix", "resolution"
        )
    if options.engine not in ENGINES:
        raise _refuse(_("Unknown engine %(value)s.") % {"value": options.engine}, "invalid_matrix", "engine")
    preset = MARKETS_BY_SLUG[options.market]
    try:
        platform = ad_rules.ad_platform(options.platform, options.aspect_ratio, preset.platforms)
        ad_rules.check_ad(platform, options.aspect_ratio, float(options.seconds), DEFAULT_FPS)
    except ad_rules.AdRuleError as exc:  # the pipeline's code, and the field it is about
        field = RULE_FIELDS.get(exc.code, "platform")
        raise AdInvalid(exc.message, exc.code, {field: [exc.message]}) from exc
    return market, platform


@dataclass(frozen=True)
class AdQuote:
    """An ad request checked against the platform's rules, priced without planning: the storyboard the planner
    makes is exactly round(seconds · fps) frames, so its length and price are known before any photo is read."""

    market: MarketPreset
    platform: str
    seconds: float
    credits: int


def quote_ad(options: AdOptions) -> AdQuote:
    """The platform, length and price of the ad `options` ask for (what `plan_ad` charges for an unedited plan);
    raises AdInvalid with the rule's code (ad_length_not_allowed, aspect_not_allowed, bad_platform,
    invalid_matrix) before anything is read."""
    market, platform = _check_options(options)
    seconds = round(float(options.seconds) * DEFAULT_FPS) / DEFAULT_FPS
    credits = pricing.credits_for_video(engine=options.engine, resolution=options.resolution, seconds=seconds)
    return AdQuote(market, platform, round(seconds, 4), credits)


def _scene(market: MarketPreset, slug: str | None) -> Scene:
    slug = slug or MARKETS_BY_SLUG[market.slug].scenes[0]
    scene = Scene.objects.filter(slug=slug).first()
    if scene is None or slug not in SCENES_BY_SLUG:
        raise _refuse(_("Unknown scene %(slug)s.") % {"slug": slug}, "invalid_matrix", "scene")
    return scene


def _audio(organization: Organization, track_id: int | None) -> AudioTrack | None:
    if track_id is None:
        return None
    track = AudioTrack.objects.filter(organization=organization, pk=track_id).first()
    if track is None:  # another organization's track is simply not found
        raise _refuse(_("Music track not found."), "audio_not_found", "audio")
    return track


@contextlib.contextmanager
def local_audio(track: AudioTrack) -> Iterator[Path]:
    """The track as a local file: its own path on a filesystem storage, else a temporary copy."""
    try:
        local = Path(track.file.path)
    except NotImplementedError:  # a remote storage has no paths
        local = None
    if local is not None:
        yield local
        return
    Path(settings.SHOPVIDEO_WORK_DIR).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="audio-", dir=settings.SHOPVIDEO_WORK_DIR))
    try:
        target = folder / Path(track.file.name).name
        with default_storage.open(track.file.name, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _prepared_music(track: AudioTrack | None, seconds: float):
    """(prepared track, beat times) for the ad; (None, None) without music. A file gone from storage is
    `audio_not_found`."""
    if track is None:
        return None, None
    from generation.pipeline import audio

    try:
        if not default_storage.exists(track.file.name):
            raise FileNotFoundError(track.file.name)
        with local_audio(track) as path:
            prepared = audio.prepare_track(path, seconds)
    except FileNotFoundError as exc:
        raise _refuse(_("The music track's file is missing; upload it again."), "audio_not_found", "audio") from exc
    return prepared, list(audio.beats(prepared))


def load_ad_photos(photos: Sequence[Photo]) -> list[AdPhoto]:
    """Each photo and its stored mask from storage, cut out as a single shot's would be (a stored mask wins); a
    photo with no usable mask is refused with the cutout's code."""
    loaded = []
    for photo in photos:
        with photo.file.open("rb") as fh:
            data = fh.read()
        mask = None
        if photo.mask:
            with photo.mask.open("rb") as fh:
                mask = cutout.load_mask(fh.read())
        loaded.append(prepare_photo(data, mask, mask_needs_review=photo.cutout_doubtful))
    return loaded


def _content(product: Product, market: MarketPreset) -> dict:
    c = caption_inputs(product=product, market=market)
    return {
        "title": c["caption_title"] or c["product_title"],
        "price": c["price"],
        "currency": c["currency"],
        "cta": c["cta"],
    }


def _planned(
    photos: Sequence[Photo], options: AdOptions, market: MarketPreset, platform: str, seed: int, beats
) -> tuple[Storyboard, list[AdPhoto]]:
    loaded = load_ad_photos(photos)
    board = plan_storyboard(
        [p.rgb for p in loaded],
        [p.mask for p in loaded],
        market=market.slug,
        platform=platform,
        aspect_ratio=options.aspect_ratio,
        resolution=options.resolution,
        seconds=float(options.seconds),
        fps=DEFAULT_FPS,
        engine=options.engine,
        seed=seed,
        beats=beats,
        **_content(photos[0].product, market),
    )
    return board, loaded


def _with_scene(board: Storyboard, scene: str | None) -> Storyboard:
    """The merchant's scene for every shot the planner gave the market's default scene."""
    if scene:
        default = MARKETS_BY_SLUG[board.market].scenes[0]
        for shot in board.shots:
            if shot.scene == default:
                shot.scene = scene
    return board


def edit_storyboard(board: Storyboard, edited: dict) -> Storyboard:
    """`board` as the client edited it: its shots (each one of the plan's, named by kind, photo and seed) in the
    client's order, some left out, a scene changed; frames and transitions counted again. The end card stays last.
    Raises `storyboard_invalid` for anything else."""

    def invalid(reason: str) -> AdInvalid:
        return _refuse(_("The storyboard cannot be rendered: %(reason)s") % {"reason": reason}, "storyboard_invalid",
                       "storyboard")  # fmt: skip

    shots = edited.get("shots") if isinstance(edited, dict) else None
    if not isinstance(shots, list) or not shots:
        raise invalid(_("it has no shots."))
    planned = {(s.kind, s.photo, s.seed): s for s in board.shots}
    chosen, seen = [], set()
    for item in shots:
        if not isinstance(item, dict):
            raise invalid(_("a shot is not an object."))
        key = tuple(v if isinstance(v, str | int | None) else repr(v) for v in map(item.get, ("kind", "photo", "seed")))
        if key not in planned or key in seen:
            raise invalid(_("a shot is not one of the plan's, or appears twice."))
        seen.add(key)
        scene = item.get("scene", planned[key].scene)
        if not isinstance(scene, str) or scene not in SCENES_BY_SLUG:
            raise invalid(_("unknown scene %(scene)s.") % {"scene": scene})
        chosen.append((planned[key], scene))
    if chosen[-1][0].kind != "endcard" or sum(s.kind == "endcard" for s, _scene in chosen) != 1:
        raise invalid(_("the end card must be the last shot."))
    if len(chosen) < 2:
        raise invalid(_("an ad needs at least one product shot."))
    start, transitions = 0, []
    for i, (shot, scene) in enumerate(chosen):
        frames = shot.frames
        if i == 0:
            shot.transition_in = "cut"
        gap = TRANSITIONS.get(shot.transition_in, 0)
        if gap:
            transitions.append({"kind": shot.transition_in, "start": start, "end": start + gap})
            start += gap
        shot.start, shot.end, shot.scene = start, start + frames, scene
        start += frames
    board.shots = [shot for shot, _scene in chosen]
    board.transitions = transitions
    board.frames = start
    board.seconds = start / board.fps
    return board


def plan_ad(*, organization: Organization, photos: Sequence[Photo], options: AdOptions) -> AdPlan:
    """Check the request, plan its storyboard (or apply the client's edit to the plan) and price it. Writes
    nothing; raises BadInputError subclasses with stable codes (ad_length_not_allowed, aspect_not_allowed,
    audio_not_found, storyboard_invalid, photo codes)."""
    market, platform = _check_options(options)
    if len(photos) > MAX_AD_PHOTOS:
        message = _("An ad takes at most %(count)d photos.") % {"count": MAX_AD_PHOTOS}
        raise _refuse(message, "too_many_photos", "photos")
    photos = _check_photos(organization, photos)
    if len({p.product_id for p in photos}) != 1:
        raise _refuse(_("An ad shows one product: choose photos of one product."), "invalid_matrix", "photos")
    scene = _scene(market, options.scene)
    track = _audio(organization, options.audio)
    edited = options.storyboard
    seed = options.seed
    if edited is not None and "seed" in edited:
        seed = edited["seed"]  # the plan the client edited
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise _refuse(_("The storyboard's seed is not one we planned with."), "storyboard_invalid", "storyboard")
    if seed is None:
        seed = secrets.randbelow(2**31)
    _prepared, beats = _prepared_music(track, float(options.seconds))
    board, loaded = _planned(photos, options, market, platform, seed, beats)
    board = _with_scene(board, options.scene)
    if edited is not None:
        board = edit_storyboard(board, edited)
    seconds = board.frames / board.fps
    if not ad_rules.PLATFORMS[platform].duration_min <= seconds:
        raise _refuse(_("The edited ad is too short for this platform."), "storyboard_invalid", "storyboard")
    stored = board.to_dict()
    stored["audio"] = track.pk if track else None
    stored["photo_ids"] = [p.pk for p in photos]
    credits = pricing.credits_for_video(engine=options.engine, resolution=options.resolution, seconds=seconds)
    return AdPlan(credits, round(seconds, 4), stored, list(photos), track, market, scene, options, loaded)


def ad_thumbnails(plan: AdPlan) -> list[bytes]:
    """A small JPEG of each shot's middle frame, in the plan's order (drawn from the photos as planned)."""
    return storyboard_thumbnails(Storyboard.from_dict(plan.storyboard), plan.loaded)


def edit_shots(shots: list[dict], action: str, index: int) -> list[dict]:
    """The shot list (`{"kind", "photo", "seed", "scene"}` each) after a merchant's `remove`, `up` or `down` of the
    shot at `index`; the end card stays last and at least one product shot stays (else unchanged: the plan refuses
    what cannot be rendered)."""
    shots = list(shots)
    last_product = len(shots) - 2 if shots and shots[-1].get("kind") == "endcard" else len(shots) - 1
    if not 0 <= index <= last_product:
        return shots
    if action == "remove" and last_product > 0:
        del shots[index]
    elif action == "up" and index > 0:
        shots[index - 1], shots[index] = shots[index], shots[index - 1]
    elif action == "down" and index < last_product:
        shots[index + 1], shots[index] = shots[index], shots[index + 1]
    return shots


def estimate_ad(*, organization: Organization, photos: Sequence[Photo], options: AdOptions) -> AdPlan:
    """The price and the storyboard of an ad; nothing is written or reserved."""
    return plan_ad(organization=organization, photos=photos, options=options)


def submit_ad(
    *,
    organization: Organization,
    photos: Sequence[Photo],
    options: AdOptions,
    user=None,
    source: str = "api",
    name: str = "",
) -> Job:
    """Plan (outside the transaction: it reads photos and music), then in one transaction the Batch, the Job with
    its storyboard, and its credits reserved; dispatched after commit."""
    if source not in Batch.Source.values:
        raise MatrixInvalid({"source": [_("Unknown source %(value)s.") % {"value": source}]})
    plan = plan_ad(organization=organization, photos=photos, options=options)
    now = timezone.now()
    with transaction.atomic():
        _hold_products(organization, plan.photos)
        batch = _new_batch(organization, user, source, name or plan.photos[0].product.title)
        job = _ad_job(organization, batch, plan, now)
        ledger.reserve_jobs(organization=organization, credits_by_job={job.pk: job.credits})
        transaction.on_commit(lambda: batch_submitted.send(sender=Batch, batch=batch, jobs=[job]))
        transaction.on_commit(dispatch_jobs_safely)
    return job


def submit_ads(
    *,
    organization: Organization,
    requests: Sequence[tuple[Sequence[Photo], AdOptions]],
    user=None,
    source: str = "api",
    name: str = "",
) -> Batch:
    """Several ads (one product's photos and the ad's options each) as ONE Batch: every storyboard planned like
    `submit_ad` plans one, then the batch, a Job per ad and all their credits reserved in one transaction. The
    first request that cannot be planned raises its error and nothing is made."""
    if source not in Batch.Source.values:
        raise MatrixInvalid({"source": [_("Unknown source %(value)s.") % {"value": source}]})
    if not requests:
        raise MatrixInvalid({"photos": [_("Choose at least one photo.")]})
    plans = [plan_ad(organization=organization, photos=photos, options=options) for photos, options in requests]
    now = timezone.now()
    with transaction.atomic():
        _hold_products(organization, [p for plan in plans for p in plan.photos])
        batch = _new_batch(organization, user, source, name or plans[0].photos[0].product.title)
        jobs = [_ad_job(organization, batch, plan, now) for plan in plans]
        ledger.reserve_jobs(organization=organization, credits_by_job={job.pk: job.credits for job in jobs})
        transaction.on_commit(lambda: batch_submitted.send(sender=Batch, batch=batch, jobs=jobs))
        transaction.on_commit(dispatch_jobs_safely)
    return batch


def _new_batch(organization: Organization, user, source: str, name: str) -> Batch:
    return Batch.objects.create(
        organization=organization,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        source=source,
        name=name.strip()[:200],
    )


def _ad_job(organization: Organization, batch: Batch, plan: AdPlan, now) -> Job:
    """The queued Job of one planned ad: its storyboard stored as planned, rendered as it is by the worker."""
    board = plan.storyboard
    return Job.objects.create(
        organization=organization,
        batch=batch,
        photo=plan.photos[0],
        market=plan.market,
        scene=plan.scene,
        aspect_ratio=board["aspect_ratio"],
        resolution=board["resolution"],
        seconds=math.ceil(plan.seconds),
        fps=board["fps"],
        engine=board["engine"],
        seed=board["seed"],
        credits=plan.credits,
        platform=board["platform"],
        format="ad",
        storyboard=board,
        ad_photos=board["photo_ids"],
        audio=plan.audio,
        max_attempts=int(settings.SHOPVIDEO_JOB_MAX_ATTEMPTS),
        state=Job.State.QUEUED,
        queued_at=now,
    )


# ---------------------------------------------------------------------------------------------------------------
# Rendering (the worker)


@dataclass
class AdJobResult:
    """`render_ad`'s result in the shape the worker commits (`worker.commit_result`): the video's facts, the
    weakest shot's QA as the video's, every shot's QA in the contract."""

    video_path: Path
    poster_path: Path
    contract_data: dict
    qa_passed: bool
    export_check: dict
    photo_cutout: dict
    preview_path: Path | None = None

    @property
    def width(self) -> int:
        return int(self.contract_data["width"])

    @property
    def height(self) -> int:
        return int(self.contract_data["height"])

    @property
    def fps(self) -> int:
        return int(self.contract_data["fps"])

    @property
    def frames(self) -> int:
        return int(self.contract_data["frames"])

    @property
    def duration_seconds(self) -> float:
        return self.frames / self.fps

    @property
    def qa(self) -> SimpleNamespace:
        """The weakest value of each measure over the product shots (psnr_min, …, as attributes)."""
        reports = [s["qa"] for s in self.contract_data["shots"] if s.get("qa")]
        out: dict[str, Any] = {}
        for name, pick in (("psnr_min", min), ("psnr_mean", min), ("ssim_min", min), ("edge_iou", min),
                           ("flicker", max)):  # fmt: skip
            values = [r[name] for r in reports if r.get(name) is not None]
            out[name] = float(pick(values)) if values else None
        return SimpleNamespace(**out)

    def contract(self) -> dict:
        """OUT.json without the per-frame placements (the job's storyboard has them): per-shot QA kept."""
        shots = [{k: v for k, v in s.items() if k != "placements"} for s in self.contract_data["shots"]]
        return {**self.contract_data, "format": "ad", "shots": shots}


def render_ad_job(job: Job, work_dir: Path, reporter) -> AdJobResult:
    """The job's stored storyboard rendered as it is (never planned again), from its photos and their stored masks,
    with its music; BadInputError (photo gone, music gone, no usable mask) fails the job, not retried."""
    from generation.pipeline.ads.render import render_ad

    board = Storyboard.from_dict(job.storyboard or {})
    ids = list(job.ad_photos or [])
    photos = {p.pk: p for p in Photo.objects.filter(organization_id=job.organization_id, pk__in=ids)}
    if len(photos) != len(ids):
        raise AdInvalid(_("A photo of this ad was deleted."), "photo_not_found")
    track = job.audio
    if (job.storyboard or {}).get("audio") and track is None:
        raise AdInvalid(_("The ad's music track was deleted."), "audio_not_found")
    reporter("prepare", 0.0)
    loaded = load_ad_photos([photos[i] for i in ids])
    prepared, _beats = _prepared_music(track, board.seconds)
    mux = None
    if prepared is not None:
        from generation.pipeline.audio import mux_audio as mux
    reporter("render", 0.1)
    result = render_ad(board, loaded, work_dir / "video.mp4", audio=prepared, mux=mux)
    reporter("store", 0.95)
    cutouts = [photo_cutouts.render_report(photos[i]) for i in ids]
    doubtful = next((c for c in cutouts if c.get("needs_review")), None)
    return AdJobResult(
        video_path=result.video_path,
        poster_path=result.poster_path,
        contract_data=result.contract,
        qa_passed=shots_pass(result.contract),
        export_check=result.contract.get("export_check") or {},
        photo_cutout=doubtful or cutouts[0],
    )


def shots_pass(contract: dict) -> bool:
    """Every product shot measured and above the QA bar (the worker tells an export or cutout hold apart itself:
    `render_ad`'s own `qa_passed` folds them in)."""
    shots = [s for s in contract["shots"] if s.get("placements") is not None]
    return bool(shots) and all(
        s.get("qa") is not None
        and s["qa"]["psnr_min"] >= settings.SHOPVIDEO_QA_MIN_PSNR
        and s["qa"]["ssim_min"] >= settings.SHOPVIDEO_QA_MIN_SSIM
        for s in shots
    )
