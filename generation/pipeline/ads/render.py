"""An ad from its storyboard: every shot rendered by the engine and locked to the merchant's pixels, the end card,
the transitions, the AI label where the market draws it, one H.264 encode, QA per shot on the decoded MP4, the
music (when given), content credentials and the platform's export check.

`render_ad` renders the storyboard it is given and plans nothing: the placements, lengths and order are the
storyboard's. Product frames go through the fidelity lock (one `FidelityLock` per photo) as single shots do, and
the layers go to `encode.encode_mp4`, so the product keeps its pixels through 4:2:0; transition frames have no
layer (no product is promised there) and are not measured.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from PIL import Image

from generation.engines import RenderRequest, get_engine, model_sizes
from generation.engines.base import Layout
from generation.presets import MARKETS_BY_SLUG, SCENES_BY_SLUG, scene_palette

from .. import ai_label, credentials, encode, fidelity, layout, platforms, qa
from ..captions import CaptionContent
from ..errors import BadInputError
from . import endcard as endcards
from .photos import AdPhoto
from .storyboard import Shot, Storyboard

AudioMux = Callable[[Path, Any, Path], Any]  # (video without sound, prepared track, output path)
WHITE = 255.0


class _Timer:
    """Wall-clock seconds per stage (`timings`), and the process's CPU seconds (all threads, x264's included)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, exclusive: bool = False):
        """Time a stage; `exclusive`: less the stages timed inside it (shots rendered while the encoder pulls)."""
        start, cpu = time.perf_counter(), time.process_time()
        nested = (sum(self.timings.values()), sum(self.cpu.values()))
        try:
            yield
        finally:
            inner = (
                (sum(self.timings.values()) - nested[0], sum(self.cpu.values()) - nested[1]) if exclusive else (0, 0)
            )
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start - inner[0]
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu - inner[1]


def sibling(out_path: Path, suffix: str) -> Path:
    return out_path.with_name(out_path.name.removesuffix(out_path.suffix) + suffix)


OUTPUT_SUFFIXES = (".poster.jpg", ".json")


def mask_suffix(index: int) -> str:
    """OUT.mask<i>.png: the product mask of the i-th photo (binary, at its photo size), as make_video's OUT.mask.png."""
    return f".mask{index}.png"


class _Outputs:
    """Written under temporary names and renamed into place together, the video last: an OUT.mp4 that exists is a
    finished one, and a run that fails leaves nothing half-written."""

    def __init__(self, out_path: Path, extra_suffixes: Iterable[str] = ()) -> None:
        tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.suffixes = (*extra_suffixes, *OUTPUT_SUFFIXES)
        self.final = {"": out_path, **{s: sibling(out_path, s) for s in self.suffixes}}
        self.temp = {k: v.with_name(f".{v.name}.{tag}.part") for k, v in self.final.items()}

    def discard(self) -> None:
        for path in self.temp.values():
            path.unlink(missing_ok=True)

    def commit(self) -> None:
        for key in (*self.suffixes, ""):
            os.replace(self.temp[key], self.final[key])


@dataclass
class AdResult:
    video_path: Path
    json_path: Path
    poster_path: Path
    contract: dict
    qa_passed: bool
    timings: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------------
# Frames


def _render_shot(engine, board: Storyboard, shot: Shot, photo: AdPhoto) -> np.ndarray:
    market = MARKETS_BY_SLUG[board.market]
    scene = SCENES_BY_SLUG[shot.scene or market.scenes[0]]
    look = next((lk for lk in market.looks if lk.slug == shot.look), None) if shot.look else None
    request = RenderRequest(
        photo_rgb=photo.rgb,
        mask=photo.mask,
        layout=Layout(placements=shot.placements, motion=shot.motion, product_bbox=layout.mask_bbox(photo.mask)),
        width=board.width,
        height=board.height,
        fps=board.fps,
        frames=shot.frames,
        market=market,
        scene=scene,
        palette=scene_palette(market, scene),
        look=look,
        seed=shot.seed,
    )
    return engine.render(request)


def endcard_plan(board: Storyboard) -> endcards.EndCardPlan:
    """The end card's text drawn for the storyboard's content, where the storyboard put it (fonts that changed since
    the plan would move it: refused rather than drawn somewhere the merchant did not see)."""
    plan = endcards.plan_endcard(
        CaptionContent(**board.endcard),
        width=board.width,
        height=board.height,
        platform=board.platform,
        label_rect=board.label_rect,
    )
    if board.endcard_layout and plan.summary() != board.endcard_layout:
        raise BadInputError(
            "the end card no longer fits where the storyboard put it: plan again", "storyboard_mismatch"
        )
    return plan


def _render_card(board: Storyboard, shot: Shot, photo: AdPhoto) -> np.ndarray:
    market = MARKETS_BY_SLUG[board.market]
    scene = SCENES_BY_SLUG[shot.scene or market.scenes[0]]
    background = endcards.paint_background(board.width, board.height, scene_palette(market, scene))
    return np.repeat(background[None], shot.frames, axis=0)


def _transition(a: np.ndarray, b: np.ndarray, frames: int, kind: str) -> Iterator[np.ndarray]:
    """`frames` frames from `a` (the frame before) to `b` (the frame after): a crossfade, or a fade through white."""
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    for j in range(frames):
        t = (j + 1) / (frames + 1)
        if kind == "white":
            mix = a32 * (1 - 2 * t) + WHITE * 2 * t if t < 0.5 else WHITE * (2 - 2 * t) + b32 * (2 * t - 1)
        else:
            mix = a32 * (1 - t) + b32 * t
        yield np.clip(mix + 0.5, 0, 255).astype(np.uint8)


def iter_frames(
    board: Storyboard,
    photos: list[AdPhoto],
    layers: list,
    *,
    model_path: str | None = None,
    timer: _Timer | None = None,
) -> Iterator[np.ndarray]:
    """The ad's frames in order, rendered one shot at a time (memory holds one shot, not the ad). Before frame i is
    yielded, `layers[i]` holds the fidelity lock's product layer for it (None where no product is promised:
    transitions), as `encode.encode_mp4` reads them."""
    timer = timer or _Timer()
    model_path = model_path or settings.SHOPVIDEO_MODEL_PATH
    if board.engine == "dit":
        model_sizes.check_resolution(model_path, board.resolution)
    engine = get_engine(board.engine, model_path)
    label = None
    if board.label_rect is not None:
        market = MARKETS_BY_SLUG[board.market]
        planned = ai_label.plan_label(market=market, engine=board.engine, width=board.width, height=board.height,
                                      platform=board.platform)  # fmt: skip
        label = replace(planned, rect=tuple(board.label_rect))
    handovers = {t["end"]: t for t in board.transitions}
    locks: dict[int, fidelity.FidelityLock] = {}  # one per photo, prepared once for all its shots
    previous: np.ndarray | None = None
    for shot in board.shots:
        photo = photos[shot.photo] if shot.photo is not None else None
        if shot.kind == "endcard":
            with timer.stage("endcard"):
                shot_frames = _render_card(board, shot, photo)
        else:
            with timer.stage("render"):
                shot_frames = _render_shot(engine, board, shot, photo)
        shot_layers: list = [None] * shot.frames
        if photo is not None and shot.placements is not None:
            with timer.stage("lock"):
                if shot.photo not in locks:
                    locks[shot.photo] = fidelity.FidelityLock(photo.rgb, photo.mask, (board.width, board.height),
                                                              photo.matte)  # fmt: skip
                lock = locks[shot.photo]
                pairs = zip(shot_frames, shot.placements, strict=True)
                shot_layers = [lock.apply(frame, placement) for frame, placement in pairs]
        with timer.stage("overlays"):
            if shot.kind == "endcard":
                endcards.draw_text(shot_frames, endcard_plan(board))
            if label is not None:
                ai_label.draw_label(shot_frames, label)  # the same pixels on both sides of a transition
        handover = handovers.get(shot.start)
        if handover is not None and previous is not None:
            yield from _transition(previous, shot_frames[0], handover["end"] - handover["start"], handover["kind"])
        for j, frame in enumerate(shot_frames):
            layers[shot.start + j] = shot_layers[j]
            yield frame
        previous = shot_frames[-1].copy()
        del shot_frames, shot_layers


def render_frames(board: Storyboard, photos: list[AdPhoto], *, model_path: str | None = None, timer=None):
    """All the ad's frames (N, H, W, 3) and their layers at once (for measurements; `render_ad` streams)."""
    layers: list = [None] * board.frames
    frames = np.stack(list(iter_frames(board, photos, layers, model_path=model_path, timer=timer)))
    return frames, layers


# ---------------------------------------------------------------------------------------------------------------
# The file


def attach_audio(video: Path, prepared: Any, mux: AudioMux | None) -> dict | None:
    """Mux the prepared music under the video (in place); its loudness facts for OUT.json. None: no music."""
    if prepared is None or mux is None:
        return None
    muxed = video.with_name(video.name + ".audio.part")
    try:
        mux(video, prepared, muxed)
        os.replace(muxed, video)
    finally:
        muxed.unlink(missing_ok=True)
    return {
        "lufs": round(float(prepared.lufs), 2),
        "true_peak": round(float(prepared.true_peak), 2),
        "seconds": round(float(prepared.seconds), 3),
    }


def measure_shots(decoded: Iterable[np.ndarray], board: Storyboard, photos: list[AdPhoto]) -> dict[int, qa.QAReport]:
    """QA of each product shot on its own frames of the decoded video, against its own photo, mask and placements;
    the frames are read in order and only one shot's are held at a time."""
    ends = {shot.end: i for i, shot in enumerate(board.shots) if shot.placements is not None and shot.photo is not None}
    reports: dict[int, qa.QAReport] = {}
    held: list[np.ndarray] = []
    for index, frame in enumerate(decoded):
        shot = next((s for s in board.shots if s.start <= index < s.end), None)
        if shot is None or shot.end not in ends:
            continue
        held.append(frame)
        if index == shot.end - 1:
            photo = photos[shot.photo]
            reports[ends[shot.end]] = qa.measure_frames(np.stack(held), photo.rgb, photo.mask, shot.placements)
            held = []
    return reports


def check_photos(board: Storyboard, photos: list[AdPhoto]) -> None:
    """A storyboard is rendered only with the photos it was planned for (the same number, the same sizes)."""
    sizes = [[int(p.rgb.shape[1]), int(p.rgb.shape[0])] for p in photos]
    if sizes != [list(size) for size in board.photo_sizes]:
        raise BadInputError(
            f"the storyboard was planned for photos of {board.photo_sizes}, not {sizes}", "storyboard_mismatch"
        )


def _poster_frame(board: Storyboard) -> int:
    hero = next((s for s in board.shots if s.kind == "hero"), board.shots[0])
    return (hero.start + hero.end) // 2


def render_ad(
    board: Storyboard,
    photos: list[AdPhoto],
    out_path: str | Path,
    *,
    model_path: str | None = None,
    audio: Any = None,
    mux: AudioMux | None = None,
    timer: _Timer | None = None,
) -> AdResult:
    """Render `board` into OUT.mp4, OUT.json and OUT.poster.jpg (atomically). Product shots failing QA, a cutout
    that needs review, or a file the platform would refuse make `qa_passed` false: the ad is made, and held for a
    person to look at."""
    check_photos(board, photos)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    timer = timer or _Timer()
    started = time.perf_counter()
    outputs = _Outputs(out_path, [mask_suffix(i) for i in range(len(photos))])
    try:
        layers: list = [None] * board.frames
        poster_at, poster = _poster_frame(board), []

        def frames() -> Iterator[np.ndarray]:
            for i, frame in enumerate(iter_frames(board, photos, layers, model_path=model_path, timer=timer)):
                if i == poster_at:
                    poster.append(frame.copy())
                yield frame
                layers[i] = None  # encoded: its layer is no longer needed

        with timer.stage("encode", exclusive=True):  # the shots render as the encoder asks for frames
            encode.encode_mp4(frames(), outputs.temp[""], fps=board.fps, layers=layers)
            encode.write_poster(poster[0], outputs.temp[".poster.jpg"])
        for i, photo in enumerate(photos):  # the masks the product frames were locked with, for outside checks
            Image.fromarray(np.where(photo.mask > 127, 255, 0).astype(np.uint8)).save(
                outputs.temp[mask_suffix(i)], "PNG"
            )
        with timer.stage("qa", exclusive=True):  # decoding included
            reports = measure_shots(encode.decode_frames(outputs.temp[""]), board, photos)
        with timer.stage("audio"):
            audio_facts = attach_audio(outputs.temp[""], audio, mux)
        min_psnr, min_ssim = settings.SHOPVIDEO_QA_MIN_PSNR, settings.SHOPVIDEO_QA_MIN_SSIM
        review = any(photos[s.photo].needs_review for s in board.shots if s.photo is not None)
        measured = len(reports) == len(board.product_shots())  # a short file leaves shots unmeasured: not passed
        qa_ok = measured and all(r.passes(min_psnr, min_ssim) for r in reports.values())
        with timer.stage("credentials"):
            signed = credentials.sign_video(
                outputs.temp[""],
                outputs.temp[".poster.jpg"],
                engine=board.engine,
                source_photo_sha256=photos[0].checksum,
                market=board.market,
                ai_label=board.label_rect is not None,
            )
        with timer.stage("export_check"):
            export = platforms.export_report(outputs.temp[""], board.platform, enforced=True)
        # An ad is always for a platform, so its rules are enforced: a file it would refuse is held like a QA failure.
        qa_passed = qa_ok and not review and export["passed"]
        timer.timings["total"] = time.perf_counter() - started
        contract = ad_contract(board, photos, reports, qa_passed, audio_facts, timer.timings)
        contract.update(credentials=signed, export_check=export, ai_label=board.label_rect is not None)
        contract["masks"] = [outputs.final[mask_suffix(i)].name for i in range(len(photos))]  # beside OUT.mp4
        outputs.temp[".json"].write_text(json.dumps(contract, indent=1))
        outputs.commit()
    except BaseException:
        outputs.discard()
        raise
    return AdResult(out_path, outputs.final[".json"], outputs.final[".poster.jpg"], contract, qa_passed, timer.timings)


def ad_contract(
    board: Storyboard,
    photos: list[AdPhoto],
    reports: dict[int, qa.QAReport],
    qa_passed: bool,
    audio: dict | None,
    timings: dict[str, float],
) -> dict:
    """OUT.json: the ads contract's fields first, then ours (the storyboard's choices, cutouts, timings)."""
    shots = []
    for i, shot in enumerate(board.shots):
        entry = {
            "kind": shot.kind,
            "photo": shot.photo,
            "start": shot.start,
            "end": shot.end,
            "placements": None if shot.placements is None else shot.placements.tolist(),
            "qa": reports[i].summary() if i in reports else None,
            "motion": shot.motion,
            "scene": shot.scene,
            "transition_in": shot.transition_in,
        }
        if shot.look:
            entry["look"] = shot.look
        if shot.window is not None:
            entry["window"] = shot.window
        if i in reports:
            entry["qa"]["frames"] = reports[i].frames
        shots.append(entry)
    return {
        "engine": board.engine,
        "width": board.width,
        "height": board.height,
        "fps": board.fps,
        "frames": board.frames,
        "seconds": board.seconds,
        "shots": shots,
        "audio": audio,
        "qa_passed": qa_passed,
        "market": board.market,
        "platform": board.platform,
        "aspect_ratio": board.aspect_ratio,
        "resolution": board.resolution,
        "seed": board.seed,
        "transitions": board.transitions,
        "endcard": board.endcard,
        "endcard_layout": board.endcard_layout,
        "label_rect": board.label_rect,
        "beats": board.beats,
        "photo_sizes": board.photo_sizes,
        "cutouts": [p.cutout for p in photos],
        "timings": {k: round(v, 4) for k, v in timings.items()},
    }
