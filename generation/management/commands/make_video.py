"""python manage.py make_video PHOTO --out OUT.mp4 [...]: the worker's pipeline, locally, with no web server."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.constants import ASPECT_RATIOS, LOOK_NEEDS_DIT, LOOK_NEEDS_DIT_MESSAGE, RESOLUTIONS, look_needs_dit
from generation.pipeline.cutout import CutoutGuide, load_mask
from generation.pipeline.errors import PipelineError
from generation.pipeline.layout import MOTIONS
from generation.pipeline.platforms import PLATFORMS
from generation.pipeline.run import run_pipeline
from generation.pipeline.spec import VariantSpec
from generation.presets import MARKETS_BY_SLUG


class Command(BaseCommand):
    help = "Make one product video from a photo; writes OUT.mp4, OUT.mask.png and OUT.json."

    def add_arguments(self, parser):
        parser.add_argument("photo", type=Path)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--mask", type=Path, help="product mask (white = product); wins over the cutout")
        parser.add_argument(
            "--box",
            metavar="X0,Y0,X1,Y1",
            help="a rough box around the product (photo pixels after EXIF rotation): a guided cutout",
        )
        parser.add_argument("--engine", choices=["compositor", "dit"], default="compositor")
        parser.add_argument("--model-path", help="local diffusers folder for --engine dit")
        parser.add_argument("--market", default="us", choices=sorted(MARKETS_BY_SLUG))
        parser.add_argument("--scene")
        parser.add_argument("--look")
        parser.add_argument("--aspect", choices=ASPECT_RATIOS, default="9:16")
        parser.add_argument("--resolution", choices=RESOLUTIONS, default="480p")
        parser.add_argument("--seconds", type=float, default=5.0)
        parser.add_argument("--fps", type=int, default=16)
        parser.add_argument("--steps", type=int)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--motion", choices=MOTIONS)
        parser.add_argument("--title", default="", help="product title for prompts")
        parser.add_argument("--category", default="other")
        parser.add_argument("--captions", action="store_true", help="overlay title, price and call to action")
        parser.add_argument("--caption-title", default="", help="the title in the market's language (else --title)")
        parser.add_argument("--price", help="price as a decimal number, formatted for the market")
        parser.add_argument("--currency", help="ISO 4217 code; default: the market's currency")
        parser.add_argument("--cta", help="call to action; default: the market's; empty: none")
        parser.add_argument("--platform", choices=sorted(PLATFORMS), help="platform whose safe areas apply")

    def handle(self, *args, **opts):
        photo: Path = opts["photo"]
        if not photo.is_file():
            raise CommandError(f"photo_not_found: no such file: {photo}")
        out: Path = opts["out"]
        if out.suffix.lower() != ".mp4":
            raise CommandError(f"bad_output: --out must be a path ending in .mp4, not {out}")
        if opts["mask"] and not opts["mask"].is_file():
            raise CommandError(f"bad_mask: no such file: {opts['mask']}")
        if look_needs_dit(engine=opts["engine"], looks=[opts["look"]] if opts["look"] else []):
            raise CommandError(f"{LOOK_NEEDS_DIT}: {LOOK_NEEDS_DIT_MESSAGE}")
        guide = _parse_box(opts["box"]) if opts["box"] else None
        try:
            mask = load_mask(opts["mask"]) if opts["mask"] else None
            spec = VariantSpec(
                engine=opts["engine"],
                market=opts["market"],
                scene=opts["scene"],
                look=opts["look"],
                aspect_ratio=opts["aspect"],
                resolution=opts["resolution"],
                seconds=opts["seconds"],
                fps=opts["fps"],
                seed=opts["seed"],
                steps=opts["steps"],
                motion=opts["motion"],
                model_path=opts["model_path"],
                product_title=opts["title"],
                product_category=opts["category"],
                captions=opts["captions"],
                caption_title=opts["caption_title"],
                price=opts["price"],
                currency=opts["currency"],
                cta=opts["cta"],
                platform=opts["platform"],
            )
            result = run_pipeline(photo=photo, out_path=out, spec=spec, supplied_mask=mask, guide=guide)
        except PipelineError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        q = result.qa
        self.stdout.write(
            f"{out} {result.width}x{result.height} {result.frames} frames @ {result.fps} fps, "
            f"product PSNR min {q.psnr_min:.1f} dB, SSIM min {q.ssim_min:.3f}, flicker {q.flicker:.2f}"
            + ("" if result.qa_passed else " — QA below threshold: marked for review")
        )
        cut = result.cutout or {}
        self.stdout.write(
            f"cutout: {cut.get('method')}, confidence {cut.get('confidence', 0):.2f}"
            + (" — needs review: check the cutout (--box or --mask)" if cut.get("needs_review") else "")
        )
        timings = ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in result.timings.items())
        self.stdout.write(f"timings: {timings}")


def _parse_box(text: str) -> CutoutGuide:
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise CommandError(f"cutout_box_invalid: --box must be X0,Y0,X1,Y1 in photo pixels, not {text!r}") from exc
    return CutoutGuide(box=(round(x0), round(y0), round(x1), round(y1)))
