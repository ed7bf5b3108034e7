"""Serializers: thin. Input serializers check shape and types (and refuse unknown fields); the services check
meaning (markets, scenes, looks, prices). Output serializers turn rows into the API's JSON."""

from __future__ import annotations

import json
import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from generation import downloads, rules
from generation.constants import ASPECT_RATIOS, ENGINES, MAX_SECONDS, MIN_SECONDS, RESOLUTIONS
from generation.models import Batch, Job, MarketPreset, Photo, Product, Scene, Video
from generation.pipeline.platforms import PLATFORMS
from generation.presets import MARKET_SLUGS
from shop_video.ids import MAX_ID

MAX_SEED = 2**31 - 1
MAX_LIST = 50


def market_choices() -> list[str]:
    return list(MARKET_SLUGS)


# --- input ----------------------------------------------------------------------------------------------------------


class Text(serializers.CharField):
    """A CharField that also refuses lone surrogates and other characters no database can store."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            self.fail("invalid")
        return value


class Id(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (a typo must not silently fall back to a default)."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(str(k) for k in data if k not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("Unknown field.")] for name in unknown}, code="unknown_field"
                )
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": MIN_SECONDS, "maximum": MAX_SECONDS},
            {
                "type": "array",
                "items": {"type": "integer", "minimum": MIN_SECONDS, "maximum": MAX_SECONDS},
                "maxItems": 10,
            },
        ],
        "description": "Duration in whole seconds, or a list of durations (one video per duration).",
        "example": [5, 10],
    }
)
class SecondsField(serializers.Field):
    default_error_messages = {
        "invalid": gettext_lazy("A whole number of seconds from 1 to 30, or a list of up to 10 of them."),
    }

    def to_internal_value(self, data):
        values = data if isinstance(data, list) else [data]
        if len(values) > 10:
            self.fail("invalid")
        out = []
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int) or not MIN_SECONDS <= value <= MAX_SECONDS:
                self.fail("invalid")
            out.append(value)
        return out

    def to_representation(self, value):
        return value


class CaptionsRequestSerializer(StrictSerializer):
    enabled = serializers.BooleanField(help_text="Overlay the product's title for each market (its localized title).")
    price = serializers.BooleanField(
        default=False, help_text="Add the product's price, formatted for the market's locale (needs a price)."
    )
    cta = serializers.BooleanField(
        default=False, help_text="Add the call to action: the product's localized one, else the market's."
    )


class JobRequestSerializer(StrictSerializer):
    format = serializers.ChoiceField(
        choices=["single"], required=False, help_text="`single` (the default): one video per photo × variant."
    )
    product = Id(help_text="The product whose photos are made into videos.")
    photos = serializers.ListField(
        child=Id(),
        required=False,
        max_length=MAX_LIST,
        help_text="Photo ids of the product; all of its photos when left out or empty.",
    )
    markets = serializers.ListField(
        child=serializers.ChoiceField(choices=market_choices()),
        max_length=MAX_LIST,
        help_text="Market slugs (lower-case ISO 3166 codes).",
    )
    scenes = serializers.ListField(
        child=Text(max_length=60),
        required=False,
        max_length=MAX_LIST,
        help_text="Scene slugs; empty: each market's default scene.",
    )
    model_looks = serializers.ListField(
        child=Text(max_length=60),
        required=False,
        max_length=MAX_LIST,
        help_text="Model look slugs; empty: product-only videos (no human model). Only with `engine: dit`: the "
        "compositor draws no person, so looks with it are refused (400 `look_needs_dit`).",
    )
    aspect_ratios = serializers.ListField(
        child=serializers.ChoiceField(choices=list(ASPECT_RATIOS)),
        required=False,
        max_length=len(ASPECT_RATIOS),
        help_text="Empty: each market's platform defaults.",
    )
    seconds = SecondsField(required=False)
    resolution = serializers.ChoiceField(choices=list(RESOLUTIONS), default="480p")
    engine = serializers.ChoiceField(choices=list(ENGINES), required=False)
    seed = serializers.IntegerField(
        min_value=0, max_value=MAX_SEED, required=False, allow_null=True, help_text="Random per job when left out."
    )
    name = Text(max_length=200, required=False, allow_blank=True, help_text="Batch name; the product title by default.")
    platform = serializers.ChoiceField(
        choices=sorted(PLATFORMS),
        required=False,
        allow_null=True,
        help_text="Make the videos for this platform: its aspect ratios by default, its duration limits checked "
        "now (400 `platform_rule`), its size and bitrate limits on the finished file (job fails with "
        "`export_check_failed`, not charged).",
    )
    captions = CaptionsRequestSerializer(required=False, help_text="Caption overlay; off when left out.")

    def validate(self, attrs):
        attrs.setdefault("engine", rules.default_engine())
        return attrs


MAX_LOCALIZED_TITLES = 50
# BCP 47 shape (language, optional subtags); which languages are accepted is the markets' business (the view).
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")

LOCALIZED_TITLE_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Your own wording."},
        "cta": {
            "type": "string",
            "maxLength": 120,
            "description": "Call to action; empty or left out: the market's own.",
        },
    },
    "required": ["title"],
    "additionalProperties": False,
}


def normalize_language(code: str) -> str:
    """The form the services store a language in (generation.market_services.set_localized_title)."""
    return code.strip().replace("_", "-").lower()


class LocalizedTitleSerializer(StrictSerializer):
    title = Text(max_length=200, help_text="Your own wording: captions are never machine-translated.")
    cta = Text(max_length=120, required=False, allow_blank=True, default="")


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {**LOCALIZED_TITLE_SCHEMA, "nullable": True},
        "maxProperties": MAX_LOCALIZED_TITLES,
        "description": "Caption titles per language (a caption language of the markets: `de`, `ja`, `ar`, …). "
        "Each language sent replaces that language's title and call to action; languages left out are kept; "
        "`null` removes one (its captions then use the original title). In multipart/form-data, this part "
        "holds the mapping as JSON.",
        "example": {"de": {"title": "Braunglasflasche 100 ml", "cta": "Jetzt entdecken"}, "ja": None},
    }
)
class LocalizedTitlesField(serializers.Field):
    """language → {"title", "cta"} or None (remove). Shape only; whether a language is one the markets caption
    in is checked by the view against generation.market_services (a 400 `unknown_language`)."""

    default_error_messages = {
        "invalid": gettext_lazy("A mapping of language codes to objects with a title and a cta (or null)."),
        "invalid_json": gettext_lazy("Not valid JSON: send the mapping of languages as a JSON object."),
        "too_many": gettext_lazy("At most {max_languages} languages at once."),
        "invalid_language": gettext_lazy("Not a language code such as de, ja or pt-BR."),
        "duplicate_language": gettext_lazy("The same language is named twice."),
    }

    def to_internal_value(self, data) -> dict[str, dict | None]:
        if isinstance(data, str):  # a multipart part: the mapping as JSON
            try:
                data = json.loads(data)
            except (ValueError, RecursionError):
                self.fail("invalid_json")
        if not isinstance(data, dict):
            self.fail("invalid")
        if len(data) > MAX_LOCALIZED_TITLES:
            self.fail("too_many", max_languages=MAX_LOCALIZED_TITLES)
        out: dict[str, dict | None] = {}
        errors: dict[str, list] = {}
        for key, value in data.items():
            if not isinstance(key, str) or len(key) > 12 or not LANGUAGE_CODE.match(key):
                errors[str(key)[:20]] = [self.error_messages["invalid_language"]]
                continue
            language = normalize_language(key)
            if language in out:
                errors[key] = [self.error_messages["duplicate_language"]]
                continue
            if value is None:
                out[language] = None
                continue
            item = LocalizedTitleSerializer(data=value)
            if not item.is_valid():
                errors[key] = item.errors
                continue
            out[language] = dict(item.validated_data)
        if errors:
            raise serializers.ValidationError(errors)
        return out

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "pattern": r"^\d{1,12}(\.\d{1,2})?$",
        "example": "19.99",
        "description": "The amount, zero or more, with at most the currency's decimals (JPY none, EUR 2); a JSON "
        "number is accepted too. Needs `currency`. `null` on update removes the price.",
    }
)
class PriceField(serializers.CharField):
    """The amount as text or a JSON number; the product service checks it against the currency (stable codes)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=40, allow_null=True, allow_blank=True, trim_whitespace=True, **kwargs)


def currency_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=10,
        allow_blank=True,
        help_text="ISO 4217 code of the price (EUR, USD, JPY, …); needed with `price`.",
        **kwargs,
    )


class ProductCreateSerializer(StrictSerializer):
    title = Text(max_length=200)
    sku = Text(max_length=100, required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=Product.Category.choices, default=Product.Category.OTHER)
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        max_length=20,
        help_text="One or more photo files (JPEG, PNG, WebP, HEIC); at least 256 px on the short side.",
    )
    photo_urls = serializers.ListField(
        child=serializers.URLField(max_length=2000),
        required=False,
        max_length=20,
        help_text="Photo URLs to fetch instead of files (only where URL fetching is enabled).",
    )
    localized_titles = LocalizedTitlesField(required=False)
    price = PriceField(required=False, default=None)
    currency = currency_field(required=False, default="")


class ProductUpdateSerializer(StrictSerializer):
    title = Text(max_length=200, required=False)
    sku = Text(max_length=100, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Product.Category.choices, required=False)
    price = PriceField(required=False)
    currency = currency_field(required=False)
    localized_titles = LocalizedTitlesField(required=False)


class PhotoCreateSerializer(StrictSerializer):
    product = Id()
    file = serializers.FileField(allow_empty_file=True, help_text="The photo (JPEG, PNG, WebP, HEIC).")
    mask = serializers.FileField(
        allow_empty_file=True, required=False, help_text="Optional mask: white (or opaque) where the product is."
    )


class MaskUploadSerializer(StrictSerializer):
    mask = serializers.FileField(allow_empty_file=True, help_text="White (or opaque) where the product is.")


class ProductFilterSerializer(serializers.Serializer):
    sku = Text(max_length=100, required=False)


class PhotoFilterSerializer(serializers.Serializer):
    product = Id(required=False)


class JobFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Job.State.choices, required=False)
    batch = Id(required=False)
    product = Id(required=False)
    market = serializers.ChoiceField(choices=market_choices(), required=False)


class VideoFilterSerializer(serializers.Serializer):
    job = Id(required=False)
    batch = Id(required=False)
    product = Id(required=False)
    market = serializers.ChoiceField(choices=market_choices(), required=False)


# --- output ---------------------------------------------------------------------------------------------------------


def _request(serializer) -> object:
    return serializer.context.get("request")


_CUTOUT_METHOD_HELP = (
    "How the mask was made: `alpha` (the PNG's transparency), `segmented` (automatic, plain background), "
    "`learned` (the salient-object model), `guided` (your box, `POST /api/v1/photos/{id}/cutout`), `supplied` "
    "(your mask); empty while the photo needs a cutout."
)
_CUTOUT_REVIEW_HELP = (
    "The cutout waits for you to check it: with a mask (a doubtful one), jobs are made but their videos are held "
    "for review and not charged until approved; without one (the automatic cutout was refused), jobs are refused "
    "with 400 `photo_needs_cutout`. A box (`POST /api/v1/photos/{id}/cutout`) or a mask of your own clears it."
)


class PhotoSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField(help_text="Signed URL of the photo; expires.")
    mask_url = serializers.SerializerMethodField(
        help_text="Signed URL of the product mask (PNG, white = product); expires. Null while the photo needs a cutout."
    )
    cutout_method = serializers.CharField(read_only=True, help_text=_CUTOUT_METHOD_HELP)
    cutout_confidence = serializers.FloatField(
        read_only=True, allow_null=True, help_text="How sure the method was of the mask, 0..1; null: no mask yet."
    )
    cutout_needs_review = serializers.BooleanField(read_only=True, help_text=_CUTOUT_REVIEW_HELP)

    class Meta:
        model = Photo
        fields = [
            "id",
            "product",
            "original_name",
            "width",
            "height",
            "checksum",
            "mask_source",
            "cutout_method",
            "cutout_confidence",
            "cutout_needs_review",
            "file_url",
            "mask_url",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_file_url(self, photo: Photo) -> str | None:
        return downloads.signed_file_url(photo, "file", request=_request(self))

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_mask_url(self, photo: Photo) -> str | None:
        return downloads.signed_file_url(photo, "mask", request=_request(self))


class ProductPhotoSerializer(serializers.ModelSerializer):
    cutout_needs_review = serializers.BooleanField(read_only=True, help_text=_CUTOUT_REVIEW_HELP)

    class Meta:
        model = Photo
        fields = ["id", "original_name", "width", "height", "mask_source", "cutout_needs_review"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    photo_ids = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    localized_titles = serializers.SerializerMethodField(
        help_text="Your caption titles per language (`cta` empty: the market's own); a language not listed "
        "captions with the original title."
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "title",
            "sku",
            "category",
            "price",
            "currency",
            "photo_ids",
            "photos",
            "localized_titles",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _photos(self, product: Product) -> list[Photo]:
        cache = getattr(product, "_prefetched_objects_cache", {})
        photos = cache["photos"] if "photos" in cache else product.photos.all()
        return sorted(photos, key=lambda p: (p.created_at, p.pk))

    @extend_schema_field({"type": "array", "items": {"type": "integer"}})
    def get_photo_ids(self, product: Product) -> list[int]:
        return [p.pk for p in self._photos(product)]

    @extend_schema_field(ProductPhotoSerializer(many=True))
    def get_photos(self, product: Product) -> list[dict]:
        return ProductPhotoSerializer(self._photos(product), many=True).data

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {
                **LOCALIZED_TITLE_SCHEMA,
                "properties": {**LOCALIZED_TITLE_SCHEMA["properties"], "cta": {"type": "string", "maxLength": 120}},
                "required": ["title", "cta"],
            },
            "example": {"de": {"title": "Braunglasflasche 100 ml", "cta": ""}},
        }
    )
    def get_localized_titles(self, product: Product) -> dict[str, dict[str, str]]:
        # The prefetched rows when the list view prefetched them; ordered by language (the model's ordering).
        rows = sorted(product.localizations.all(), key=lambda row: row.language)
        return {row.language: {"title": row.title, "cta": row.cta} for row in rows}


class SceneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Scene
        fields = ["slug", "name", "style", "prompt", "palette"]
        read_only_fields = fields


class ModelLookOutSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    descriptors = serializers.CharField()
    own = serializers.BooleanField(help_text="True for a look of your organization, false for a built-in one.")


class MarketSerializer(serializers.ModelSerializer):
    aspect_ratios = serializers.SerializerMethodField(help_text="Default aspect ratios (from the platforms).")
    scenes = serializers.SerializerMethodField(help_text="Scene slugs; the first is the default.")
    model_looks = serializers.SerializerMethodField()

    class Meta:
        model = MarketPreset
        fields = [
            "slug",
            "name",
            "locale",
            "currency",
            "caption_language",
            "direction",
            "platforms",
            "aspect_ratios",
            "scenes",
            "model_looks",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "array", "items": {"type": "string", "enum": list(ASPECT_RATIOS)}})
    def get_aspect_ratios(self, market: MarketPreset) -> list[str]:
        return rules.market_aspect_ratios(market.platforms)

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_scenes(self, market: MarketPreset) -> list[str]:
        from generation import selectors

        return [s.slug for s in selectors.scenes_for_market(market.slug)]

    @extend_schema_field(ModelLookOutSerializer(many=True))
    def get_model_looks(self, market: MarketPreset) -> list[dict]:
        from generation import selectors

        org = self.context.get("organization")
        looks = selectors.looks_for(org, market.slug) if org is not None else []
        return [
            {
                "slug": look.slug,
                "name": look.name,
                "descriptors": look.descriptors,
                "own": look.organization_id is not None,
            }
            for look in looks
        ]


class QASerializer(serializers.Serializer):
    passed = serializers.BooleanField()
    psnr_min = serializers.FloatField(allow_null=True, help_text="dB, product region, worst frame")
    psnr_mean = serializers.FloatField(allow_null=True)
    ssim_min = serializers.FloatField(allow_null=True, help_text="product region, worst frame")
    edge_iou = serializers.FloatField(allow_null=True)
    flicker = serializers.FloatField(allow_null=True, help_text="mean absolute change outside the product, 8-bit")


class VideoRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, help_text="Why the video is rejected (kept as its review note, shown in the dashboard)."
    )


class ExportViolationSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="duration_max, file_size_max, bitrate_max, aspect_ratio, …")
    message = serializers.CharField()
    actual = serializers.JSONField()
    limit = serializers.JSONField()


class ExportCheckSerializer(serializers.Serializer):
    platform = serializers.CharField()
    enforced = serializers.BooleanField()
    passed = serializers.BooleanField()
    violations = ExportViolationSerializer(many=True)


class CaptionsSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    price = serializers.BooleanField()
    cta = serializers.BooleanField()


class VideoSerializer(serializers.ModelSerializer):
    batch = serializers.IntegerField(source="job.batch_id", read_only=True)
    product = serializers.IntegerField(source="job.photo.product_id", read_only=True)
    photo = serializers.IntegerField(source="job.photo_id", read_only=True)
    market = serializers.CharField(source="job.market.slug", read_only=True)
    scene = serializers.CharField(source="job.scene.slug", read_only=True)
    aspect_ratio = serializers.CharField(source="job.aspect_ratio", read_only=True)
    resolution = serializers.CharField(source="job.resolution", read_only=True)
    engine = serializers.CharField(source="job.engine", read_only=True)
    qa = serializers.SerializerMethodField()
    delivered = serializers.SerializerMethodField(
        help_text="Passed QA (or approved after review): only a delivered video has a download_url."
    )
    download_url = serializers.SerializerMethodField(
        help_text="Short-lived signed URL of the MP4 (see download_expires_in); null unless delivered."
    )
    download_expires_in = serializers.SerializerMethodField(help_text="Seconds the signed URLs stay valid.")
    poster_url = serializers.SerializerMethodField()
    export_check = serializers.SerializerMethodField(
        help_text="The file against its platform's export rules; `enforced` when the job named the platform."
    )

    class Meta:
        model = Video
        fields = [
            "id",
            "job",
            "batch",
            "product",
            "photo",
            "market",
            "scene",
            "aspect_ratio",
            "resolution",
            "engine",
            "width",
            "height",
            "fps",
            "frames",
            "duration_seconds",
            "size_bytes",
            "qa",
            "review",
            "delivered",
            "download_url",
            "download_expires_in",
            "poster_url",
            "export_check",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ExportCheckSerializer(allow_null=True))
    def get_export_check(self, video: Video) -> dict | None:
        return (video.metadata or {}).get("export_check")

    @extend_schema_field(QASerializer)
    def get_qa(self, video: Video) -> dict:
        return {
            "passed": video.qa_passed,
            "psnr_min": video.psnr_min,
            "psnr_mean": video.psnr_mean,
            "ssim_min": video.ssim_min,
            "edge_iou": video.edge_iou,
            "flicker": video.flicker,
        }

    def get_delivered(self, video: Video) -> bool:
        return rules.is_delivered(video)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download_url(self, video: Video) -> str | None:
        if not rules.is_delivered(video) or not video.file:
            return None
        return downloads.signed_download_url(video, expires_in=downloads.default_expires_in(), request=_request(self))

    def get_download_expires_in(self, video: Video) -> int:
        return downloads.default_expires_in()

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_poster_url(self, video: Video) -> str | None:
        if not rules.is_delivered(video):
            return None
        return downloads.signed_file_url(video, "poster", request=_request(self))


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class JobSerializer(serializers.ModelSerializer):
    product = serializers.IntegerField(source="photo.product_id", read_only=True)
    market = serializers.CharField(source="market.slug", read_only=True)
    scene = serializers.CharField(source="scene.slug", read_only=True)
    model_look = serializers.SerializerMethodField()
    platform = serializers.SerializerMethodField(help_text="The platform the video is made for; null: none chosen.")
    captions = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField(help_text="Why the job failed; null unless it failed.")
    video = serializers.SerializerMethodField(help_text="The video once the job has made one; null before.")
    storyboard = serializers.SerializerMethodField(help_text="An ad's storyboard, rendered as shown; null otherwise.")

    class Meta:
        model = Job
        fields = [
            "id",
            "batch",
            "format",
            "product",
            "photo",
            "market",
            "scene",
            "model_look",
            "aspect_ratio",
            "resolution",
            "seconds",
            "fps",
            "engine",
            "seed",
            "platform",
            "captions",
            "audio",
            "storyboard",
            "credits",
            "state",
            "progress",
            "stage",
            "attempt",
            "max_attempts",
            "error",
            "video",
            "created_at",
            "queued_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True})
    def get_model_look(self, job: Job) -> str | None:
        return job.look.slug if job.look_id else None

    @extend_schema_field({"type": "string", "nullable": True, "enum": [*sorted(PLATFORMS), None]})
    def get_platform(self, job: Job) -> str | None:
        return job.platform or None

    @extend_schema_field({"type": "object", "nullable": True, "additionalProperties": True})
    def get_storyboard(self, job: Job) -> dict | None:
        return rules.public_storyboard(job.storyboard)

    @extend_schema_field(CaptionsSerializer)
    def get_captions(self, job: Job) -> dict:
        return {"enabled": job.captions, "price": job.caption_price, "cta": job.caption_cta}

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job: Job) -> dict | None:
        if job.state != Job.State.FAILED and not job.error_code:
            return None
        return {"code": job.error_code or "failed", "message": job.error_message}

    @extend_schema_field(VideoSerializer(allow_null=True))
    def get_video(self, job: Job) -> dict | None:
        try:
            video = job.video
        except Video.DoesNotExist:
            return None
        video.job = job
        return VideoSerializer(video, context=self.context).data


class BatchCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    canceled = serializers.IntegerField()


class BatchSerializer(serializers.ModelSerializer):
    job_count = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField(help_text="Jobs per state.")
    progress = serializers.SerializerMethodField(help_text="0..1: finished jobs count 1, active ones their progress.")
    finished = serializers.SerializerMethodField(help_text="True when no job is queued or running.")

    class Meta:
        model = Batch
        fields = ["id", "name", "source", "job_count", "counts", "progress", "finished", "created_at"]
        read_only_fields = fields

    def get_job_count(self, batch: Batch) -> int:
        return rules.batch_progress(batch).job_count

    @extend_schema_field(BatchCountsSerializer)
    def get_counts(self, batch: Batch) -> dict[str, int]:
        return rules.batch_progress(batch).counts

    def get_progress(self, batch: Batch) -> float:
        return rules.batch_progress(batch).progress

    def get_finished(self, batch: Batch) -> bool:
        return rules.batch_progress(batch).finished


class JobSubmissionSerializer(serializers.Serializer):
    batch = BatchSerializer()
    jobs = JobSerializer(many=True)


class EstimateSerializer(serializers.Serializer):
    credits = serializers.IntegerField()
    videos = serializers.IntegerField()
    seconds = serializers.FloatField(help_text="Total seconds of video.")


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable.")
    message = serializers.CharField(help_text="For a person; may be translated.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field of the request; empty when the error is not about a field.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
