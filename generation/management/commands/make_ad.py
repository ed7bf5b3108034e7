"""python manage.py make_ad PHOTO [PHOTO ...] --out OUT.mp4 [...]: one ad of several shots, locally, no web server."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.constants import ASPECT_RATIOS, RESOLUTIONS
from generation.pipeline.ads import rules
from generation.pipeline.ads.photos import prepare_photos
from generation.pipeline.ads.render import render_ad
from generation.pipeline.ads.storyboard import plan_storyboard
from generation.pipeline.cutout import load_mask
from generation.pipeline.errors import PipelineError
from generation.pipeline.platforms import PLATFORMS
from generation.presets import MARKETS_BY_SLUG


class Command(BaseCommand):
    help = "Make one ad (several shots and an end card) from photos of one product; writes OUT.mp4 and its companions."

    def add_arguments(self, parser):
        parser.add_argument("photos", type=Path, nargs="+")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--masks", type=Path, nargs="+", help="one product mask per photo (white = product)")
        parser.add_argument("--market", default="us", choices=sorted(MARKETS_BY_SLUG))
        parser.add_argument("--platform", choices=sorted(PLATFORMS))
        parser.add_argument("--aspect", choices=ASPECT_RATIOS, default="9:16")
        parser.add_argument("--resolution", choices=RESOLUTIONS, default="480p")
        parser.add_argument("--seconds", type=float, default=15.0)
        parser.add_argument("--fps", type=int, default=16)
        parser.add_argument("--title", default="", help="the product's title in the market's language")
        parser.add_argument("--price", help="price as a decimal number, formatted for the market")
        parser.add_argument("--currency", help="ISO 4217 code; default: the market's currency")
        parser.add_argument("--cta", help="call to action; default: the market's")
        parser.add_argument("--audio", type=Path, help="a music track, levelled and mixed under the ad")
        parser.add_argument("--engine", choices=["compositor", "dit"], default="compositor")
        parser.add_argument("--model-path", help="local diffusers folder for --engine dit")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **opts):
        photos: list[Path] = opts["photos"]
        for photo in photos:
            if not photo.is_file():
                raise CommandError(f"photo_not_found: no such file: {photo}")
        out: Path = opts["out"]
        if out.suffix.lower() != ".mp4":
            raise CommandError(f"bad_output: --out must be a path ending in .mp4, not {out}")
        masks = opts["masks"]
        if masks is not None:
            if len(masks) != len(photos):
                raise CommandError(f"bad_mask: {len(masks)} masks for {len(photos)} photos: give one per photo")
            for mask in masks:
                if not mask.is_file():
                    raise CommandError(f"bad_mask: no such file: {mask}")
        try:
            # The platform's rules first: a refused ad costs no cutout and no render.
            market = MARKETS_BY_SLUG[opts["market"]]
            platform = rules.ad_platform(opts["platform"], opts["aspect"], market.platforms)
            rules.check_ad(platform, opts["aspect"], opts["seconds"], opts["fps"])
            audio, mux, beats = _audio(opts["audio"], opts["seconds"])
            prepared = prepare_photos(photos, [load_mask(m) for m in masks] if masks else None)
            board = plan_storyboard(
                [p.rgb for p in prepared],
                [p.mask for p in prepared],
                market=opts["market"],
                platform=platform,
                aspect_ratio=opts["aspect"],
                resolution=opts["resolution"],
                seconds=opts["seconds"],
                fps=opts["fps"],
                engine=opts["engine"],
                seed=opts["seed"],
                beats=beats,
                title=opts["title"],
                price=opts["price"],
                currency=opts["currency"],
                cta=opts["cta"],
            )
            result = render_ad(board, prepared, out, model_path=opts["model_path"], audio=audio, mux=mux)
        except PipelineError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        c = result.contract
        shots = ", ".join(
            f"{s['kind']}({s['photo']})" + (f" {s['qa']['psnr_min']:.1f} dB" if s["qa"] else "") for s in c["shots"]
        )
        self.stdout.write(
            f"{out} {c['width']}x{c['height']} {c['frames']} frames @ {c['fps']} fps: {shots}"
            + ("" if result.qa_passed else " — QA below threshold: marked for review")
        )
        timings = ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in result.timings.items())
        self.stdout.write(f"timings: {timings}")


def _audio(track: Path | None, seconds: float):
    """(prepared track, mux function, beat times) for --audio; all None without it."""
    if track is None:
        return None, None, None
    if not track.is_file():
        raise CommandError(f"audio_not_found: no such file: {track}")
    try:
        from generation.pipeline import audio
    except ImportError as exc:
        raise CommandError(f"audio_unavailable: music is not available here: {exc}") from exc
    prepared = audio.prepare_track(track, seconds)
    return prepared, audio.mux_audio, list(audio.beats(prepared))
